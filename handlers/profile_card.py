"""The member's own profile as /profile shows it: what the bot holds about them, with a
button to change each item and to delete the optional ones. Shown only in the member's
private chat, to the member; its values are never logged."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import Catalog
from bot.services.attributes import CITIES, INDUSTRIES, MARKETS
from bot.services.companies import MemberProfile
from faq.models import Lang
from handlers import keyboards
from handlers.common import send_html

_INDUSTRY_CODE = {value: code for code, value in INDUSTRIES.items()}
_CITY_CODE = {value: code for code, value in CITIES.items()}


def _industry(catalog: Catalog, lang: Lang, value: str) -> str:
    code = _INDUSTRY_CODE.get(value)
    return catalog.raw(lang, f"attr_industry_{code}") if code else value


def _city(catalog: Catalog, lang: Lang, value: str) -> str:
    code = _CITY_CODE.get(value)
    return catalog.raw(lang, f"attr_city_{code}") if code else value


def markets_text(catalog: Catalog, lang: Lang, stored: str) -> str:
    """ ";us;eu;" as the member reads it (美国、欧盟 / US, EU)."""
    names = [
        catalog.raw(lang, f"attr_market_{m}") if m in MARKETS else m
        for m in stored.split(";")
        if m
    ]
    return ("、" if lang == "zh" else ", ").join(names)


def render(catalog: Catalog, lang: Lang, member: MemberProfile) -> str:
    """The card's text (HTML; every value escaped by the catalog)."""
    empty = catalog.raw(lang, "pf_empty")
    lock = catalog.raw(lang, "pf_locked_mark")
    lines = [
        catalog.t(lang, "pf_title"),
        "",
        catalog.t(lang, "pf_contact", value=member.contact_name or empty),
        catalog.t(lang, "pf_phone", value=member.phone or empty),
    ]
    company = member.company
    if company is None:
        lines += [catalog.t(lang, "pf_company", value=empty), "", catalog.t(lang, "pf_no_company")]
        return "\n".join(lines)
    if company.is_member and company.member_no:
        lines.append(
            catalog.t(lang, "pf_company_member", value=company.name, member_no=company.member_no)
        )
    else:
        lines.append(catalog.t(lang, "pf_company", value=company.name))
    shown = (
        ("industry", "pf_industry", _industry(catalog, lang, member.industry or "")),
        ("export_markets", "pf_markets", markets_text(catalog, lang, member.export_markets or "")),
        ("city", "pf_city", _city(catalog, lang, member.city or "")),
    )
    for attribute, key, value in shown:
        mark = lock if attribute in member.listed else ""
        lines.append(catalog.t(lang, key, value=value or empty) + mark)
    if member.listed:
        lines += ["", catalog.t(lang, "pf_locked_note")]
    lines += ["", catalog.t(lang, "pf_usage")]
    return "\n".join(lines)


def changeable(member: MemberProfile) -> tuple[list[str], list[str]]:
    """The items the member may change, and those they may delete (optional, with a value,
    not set by the member list)."""
    change = ["contact", "phone", "company"]
    delete = ["phone"] if member.phone else []
    if member.company is not None:
        values = {
            "industry": member.industry,
            "export_markets": member.export_markets,
            "city": member.city,
        }
        for attribute, value in values.items():
            if attribute in member.listed:
                continue
            change.append(attribute)
            if value:
                delete.append(attribute)
    return change, delete


async def show(context: Context, chat_id: int, user_id: int, lang: Lang, prefix: str = "") -> None:
    """Send the member's profile card to their private chat."""
    services = context.services
    member = await services.companies.profile(user_id)
    text = render(services.catalog, lang, member)
    change, delete = changeable(member)
    markup = keyboards.my_profile(services.catalog, lang, change, delete)
    await send_html(context, chat_id, f"{prefix}\n\n{text}" if prefix else text, markup)
