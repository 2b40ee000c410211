"""Escalation: open the ticket, complete the member's profile if needed, assign an expert.

"Ask an expert" opens the ticket at once (the member gets its number). If the member's
profile is incomplete a short guided dialogue follows; its state lives in the database
(``users.dialog_state`` / ``dialog_data``), so a restarted bot continues where it was.
Every step can be cancelled (button or /cancel, also /start): the tickets waiting for the
profile are then withdrawn (closed), nothing is passed on.

```mermaid
stateDiagram-v2
    [*] --> p_consent: Ask an expert, profile incomplete, notice not agreed to
    p_consent --> p_company: I agree, no company yet
    p_consent --> p_contact: I agree, company known, no contact
    [*] --> p_company: Ask an expert, no company yet
    [*] --> p_contact: Ask an expert, company known, no contact
    [*] --> assigned: profile complete
    p_company --> p_pick: typed name resembles member companies
    p_company --> p_contact: nothing resembles it (non-member, flagged)
    p_pick --> p_contact: company chosen / "not listed, use what I typed"
    p_pick --> p_pick: another name typed
    p_contact --> p_phone: contact person given
    p_phone --> p_industry: valid phone, or Skip (company's industry unknown)
    p_phone --> assigned: valid phone, or Skip (company's attributes all known)
    p_industry --> p_markets: tapped or typed, or Skip
    p_markets --> p_markets: a market ticked or unticked
    p_markets --> p_city: Done, typed, or Skip
    p_city --> assigned: tapped or typed, or Skip
    p_industry --> assigned: Skip the rest, /cancel
    p_markets --> assigned: Skip the rest, /cancel
    p_city --> assigned: Skip the rest, /cancel
    p_consent --> [*]: Cancel (nothing collected)
    p_company --> [*]: Cancel
    p_pick --> [*]: Cancel
    p_contact --> [*]: Cancel
    p_phone --> [*]: Cancel
    assigned --> [*]: expert named to the member, card in the staff group
```

The last, optional steps ask what the member list does not already say about the member's
company — industry, export markets, city (buttons from a fixed list, or typed; each can be
skipped) — and store it on the company, where ``ipdesk members import`` keeps it, so
announcement audiences by these attributes reach the member. Only attributes still empty
are asked, and only in this one dialogue (a member whose profile is complete is not asked
again). Leaving these steps (Skip the rest, /cancel) never withdraws the request: what the
ticket needs is known by then.

``/profile`` (handlers.my_profile) reuses these steps to change one item at any time
(:func:`start_edit`): ``data["edit"]`` marks the change, the skip buttons become Cancel, and
saving or cancelling puts the member's previous state back and shows the profile again.

Once the profile is complete each waiting ticket goes through
:meth:`~bot.services.tickets.TicketService.assign_initial`; the member is told, in their
language, the number, the expert's name and title (never their account) and when to expect
a first reply — or that the secretariat will assign someone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.context import Context
from bot.knowledge import placeholders
from bot.services.attributes import CITIES, INDUSTRIES, MARKETS
from bot.services.callback_codes import Cb
from bot.services.companies import LinkResult, MemberProfile, ProfileError
from bot.services.dialog import (
    ATTRIBUTE_STEPS,
    PROFILE_STEPS,
    DialogState,
    is_profile_step,
    parse_state,
)
from bot.services.errors import NotFound, StaleAction
from bot.services.members import Profile
from bot.services.tickets import AssignOutcome, TicketRef
from bot.services.timefmt import format_datetime
from faq.models import Lang
from handlers import board, cards, keyboards, profile_card, staff
from handlers.common import Press, send_html
from handlers.errors import explain
from handlers.privacy import privacy_notice

log = logging.getLogger(__name__)


def is_step(state: DialogState | None) -> bool:
    return is_profile_step(state)


def _step_of(profile: Profile) -> DialogState:
    """The profile step the member is at (callers checked :func:`is_step` first)."""
    state = profile.dialog_state
    if state is None or not is_profile_step(state):
        raise StaleAction("the profile dialogue is not running")
    return state


def _tickets(data: dict[str, Any]) -> list[int]:
    return [t for t in data.get("tickets", []) if isinstance(t, int)]


def _carried(data: dict[str, Any]) -> dict[str, Any]:
    """What the dialogue keeps from step to step: the waiting tickets, any messages held
    for the ticket chooser, and a /profile change's ``edit`` (see :func:`start_edit`)."""
    return {k: data[k] for k in ("tickets", "pending", "edit") if data.get(k)}


def _editing(data: dict[str, Any]) -> bool:
    """The member is changing one item from /profile (not the escalation dialogue)."""
    return isinstance(data.get("edit"), dict)


def _prompt(
    context: Context, lang: Lang, step: DialogState, data: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    catalog = context.services.catalog
    editing = _editing(data)
    if step is DialogState.CONSENT:
        return privacy_notice(context, lang), keyboards.consent(catalog, lang)
    if step is DialogState.COMPANY:
        key = "pf_ask_company" if editing else "tk_ask_company"
        return catalog.t(lang, key), keyboards.cancel_only(catalog, lang)
    if step is DialogState.PICK:
        offered = [(int(c[0]), str(c[1]), bool(c[2])) for c in data.get("offered", [])]
        typed = str(data.get("typed", ""))
        return (
            catalog.t(lang, "tk_pick_company", typed=typed),
            keyboards.company_choices(catalog, lang, offered, cards.clip(typed, 30)),
        )
    if step is DialogState.CONTACT:
        key = "pf_ask_contact" if editing else "tk_ask_contact"
        return catalog.t(lang, key), keyboards.cancel_only(catalog, lang)
    if step is DialogState.INDUSTRY:
        return catalog.t(lang, "tk_ask_industry"), keyboards.industry_step(catalog, lang, editing)
    if step is DialogState.MARKETS:
        chosen = _ticked(data)
        return (
            catalog.t(lang, "tk_ask_markets", chosen=_chosen_text(context, lang, chosen)),
            keyboards.markets_step(catalog, lang, chosen, editing),
        )
    if step is DialogState.CITY:
        return catalog.t(lang, "tk_ask_city"), keyboards.city_step(catalog, lang, editing)
    key = "pf_ask_phone" if editing else "tk_ask_phone"
    return catalog.t(lang, key), keyboards.phone_step(catalog, lang, editing)


def _ticked(data: dict[str, Any]) -> list[str]:
    return [m for m in data.get("markets", []) if m in MARKETS]


def _chosen_text(context: Context, lang: Lang, chosen: list[str]) -> str:
    catalog = context.services.catalog
    if not chosen:
        return catalog.t(lang, "tk_markets_none")
    sep = "、" if lang == "zh" else ", "
    names = sep.join(catalog.raw(lang, f"attr_market_{m}") for m in chosen)
    return catalog.t(lang, "tk_markets_chosen", markets=names)


async def _ask(
    context: Context,
    chat_id: int,
    lang: Lang,
    step: DialogState,
    data: dict[str, Any],
    prefix: str = "",
) -> None:
    text, markup = _prompt(context, lang, step, data)
    await send_html(context, chat_id, f"{prefix}\n\n{text}" if prefix else text, markup)


def _first_step(profile: MemberProfile) -> DialogState | None:
    if profile.company is None:
        return DialogState.COMPANY
    if not profile.contact_name:
        return DialogState.CONTACT
    return None


async def escalate(
    context: Context, query: CallbackQuery, chat_id: int, profile: Profile, ticket: TicketRef
) -> None:
    """After "Ask an expert" opened (or found) ``ticket``: continue the profile dialogue, or
    assign at once when the profile is complete."""
    services = context.services
    catalog, lang = services.catalog, profile.lang
    key = "expert_recorded" if ticket.created else "expert_already"
    header = catalog.t(lang, key, number=ticket.number)
    await query.answer()
    if is_step(profile.dialog_state):
        current = dict(profile.dialog_data)
        waiting = _tickets(current)
        if ticket.id not in waiting:
            current["tickets"] = [*waiting, ticket.id]
            await services.members.set_dialog(profile.id, profile.dialog_state, current)
        step_now = _step_of(profile)
        await _ask(context, chat_id, lang, step_now, current, prefix=header)
        return
    member = await services.companies.profile(profile.id)
    step = _first_step(member)
    if step is None:
        await assign(context, chat_id, lang, ticket.id, prefix="" if ticket.created else header)
        if profile.dialog_state != DialogState.CHOOSE:
            await services.members.set_dialog(
                profile.id, DialogState.TICKET, {"ticket": ticket.id}
            )
        return
    data: dict[str, Any] = {"tickets": [ticket.id]}
    if profile.dialog_state == DialogState.CHOOSE and profile.dialog_data.get("pending"):
        data["pending"] = profile.dialog_data["pending"]
    if not await services.privacy.has_consent(profile.id):
        step = DialogState.CONSENT  # nothing is collected before the member agrees
    await services.members.set_dialog(profile.id, step, data)
    intro = catalog.t(lang, "tk_profile_intro")
    await _ask(context, chat_id, lang, step, data, prefix=f"{header}\n\n{intro}")


async def assign(
    context: Context, chat_id: int, lang: Lang, ticket_id: int, *, prefix: str = ""
) -> None:
    """Assign the ticket (idempotent), tell the member who and when, post the card and tell
    the expert."""
    services = context.services
    catalog = services.catalog
    result = await services.tickets.assign_initial(ticket_id)
    view = result.ticket
    if not view.is_open:
        return
    reply_time = placeholders(services.settings)[lang]["expert_response_time"]
    if result.expert is not None:
        text = catalog.t(
            lang,
            "tk_assigned",
            number=view.number,
            expert=cards.expert_label(catalog, lang, result.expert),
            reply_time=reply_time,
        )
    else:
        text = catalog.t(lang, "tk_unassigned", number=view.number, reply_time=reply_time)
    sent = await send_html(
        context,
        chat_id,
        f"{prefix}\n\n{text}" if prefix else text,
        keyboards.member_ticket(catalog, lang, view.id),
    )
    await services.relay.record_bot_message(view.id, chat_id, sent.message_id)
    if result.outcome is AssignOutcome.ASSIGNED or view.card_message_id is None:
        await board.publish(context, view, reason=result.outcome)
    if result.outcome is AssignOutcome.ASSIGNED:
        await staff.notify_expert(context, view)


async def _finish(
    context: Context, chat_id: int, profile: Profile, data: dict[str, Any], prefix: str
) -> None:
    waiting = _tickets(data)
    for index, ticket_id in enumerate(waiting):
        try:
            await assign(
                context, chat_id, profile.lang, ticket_id, prefix=prefix if index == 0 else ""
            )
        except NotFound:
            log.info("ticket %s disappeared during the profile dialogue", ticket_id)
    members = context.services.members
    if data.get("pending"):  # messages still wait for the ticket chooser
        await members.set_dialog(profile.id, DialogState.CHOOSE, {"pending": data["pending"]})
    elif waiting:
        await members.set_dialog(profile.id, DialogState.TICKET, {"ticket": waiting[-1]})
    else:
        await members.set_dialog(profile.id, None)


async def _after_company(
    context: Context, chat_id: int, profile: Profile, data: dict[str, Any], link: LinkResult
) -> None:
    services = context.services
    catalog, lang = services.catalog, profile.lang
    key = "tk_company_member" if link.company.is_member else "tk_company_non_member"
    done = catalog.t(lang, key, company=link.company.name)
    member = await services.companies.profile(profile.id)
    data = _carried(data)
    if not member.contact_name:
        await services.members.set_dialog(profile.id, DialogState.CONTACT, data)
        await _ask(context, chat_id, lang, DialogState.CONTACT, data, prefix=done)
        return
    if _editing(data):
        await _edited(context, chat_id, profile, data, done)
        return
    await _attributes(context, chat_id, profile, data, done)


_ATTRIBUTE_OF = {
    DialogState.INDUSTRY: "industry",
    DialogState.MARKETS: "export_markets",
    DialogState.CITY: "city",
}


async def _attributes(
    context: Context,
    chat_id: int,
    profile: Profile,
    data: dict[str, Any],
    prefix: str,
    after: DialogState | None = None,
) -> None:
    """The next optional attribute step the company still lacks (after ``after``), or the
    end of the dialogue."""
    services = context.services
    missing = await services.companies.missing_attributes(profile.id)
    steps = list(ATTRIBUTE_STEPS)
    later = steps[steps.index(after) + 1 :] if after in steps else steps
    step = next((s for s in later if _ATTRIBUTE_OF[s] in missing), None)
    data = _carried(data)
    if step is None:
        await _finish(context, chat_id, profile, data, prefix)
        return
    if after is None:
        intro = services.catalog.t(profile.lang, "tk_attr_intro")
        prefix = f"{prefix}\n\n{intro}" if prefix else intro
    await services.members.set_dialog(profile.id, step, data)
    await _ask(context, chat_id, profile.lang, step, data, prefix=prefix)


async def _save_attribute(
    context: Context, chat_id: int, profile: Profile, step: DialogState, value: str
) -> None:
    """Store the answer to an attribute step, then go on; bad input: say why, same step."""
    services = context.services
    data = dict(profile.dialog_data)
    try:
        stored = await services.companies.set_attribute(profile.id, _ATTRIBUTE_OF[step], value)
    except ProfileError as error:
        if error.reason == "listed":  # the member list set it meanwhile: nothing to ask
            why = explain(services.catalog, profile.lang, error)
            if _editing(data):
                await _edited(context, chat_id, profile, data, why)
            else:  # the escalation dialogue goes on (its tickets are waiting)
                await _attributes(context, chat_id, profile, data, why, after=step)
            return
        await _retry(context, chat_id, profile.lang, step, data, error)
        return
    except NotFound:  # the company link is gone (e.g. /forget raced): nothing to store
        await _finish(context, chat_id, profile, _carried(data), "")
        return
    shown = value if step is DialogState.MARKETS else stored
    saved = services.catalog.t(profile.lang, "tk_attr_saved", value=shown)
    if _editing(data):
        await _edited(context, chat_id, profile, data, saved)
        return
    await _attributes(context, chat_id, profile, data, saved, after=step)


async def _retry(
    context: Context,
    chat_id: int,
    lang: Lang,
    step: DialogState,
    data: dict[str, Any],
    error: ProfileError,
) -> None:
    """Bad input changes nothing: say why and show the same step again (with its buttons).
    Changing one item from /profile offers Cancel instead of Skip, and the text says so."""
    _, markup = _prompt(context, lang, step, data)
    catalog = context.services.catalog
    edit_key = f"pf_{error.field}_{error.reason}"
    if _editing(data) and edit_key in catalog.keys(lang):
        text = catalog.t(lang, edit_key)
    else:
        text = explain(catalog, lang, error)
    await send_html(context, chat_id, text, markup)


async def on_message(update: Update, context: Context, profile: Profile) -> None:
    """A message while the profile dialogue waits for an answer."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    services = context.services
    catalog, lang = services.catalog, profile.lang
    step = _step_of(profile)
    data = dict(profile.dialog_data)
    if step is DialogState.CONSENT:  # whatever was sent, it is not kept: agree first
        await send_html(
            context, chat.id, catalog.t(lang, "pv_consent_first"), keyboards.consent(catalog, lang)
        )
        return
    text = message.text
    if text is None:
        await send_html(
            context, chat.id, catalog.t(lang, "tk_profile_answer_first"),
            keyboards.cancel_only(catalog, lang),
        )  # fmt: skip
        return
    if step in (DialogState.COMPANY, DialogState.PICK):
        typed = " ".join(text.split())
        if not typed or len(typed) > 200:
            reason = "empty" if not typed else "too_long"
            await _retry(context, chat.id, lang, step, data, ProfileError("company", reason))
            return
        matches = await services.companies.match_company(typed)
        if not matches:
            link = await services.companies.link_user(profile.id, typed)
            await _after_company(context, chat.id, profile, data, link)
            return
        data["typed"] = typed
        data["offered"] = [[m.company.id, m.company.name, m.company.is_member] for m in matches]
        await services.members.set_dialog(profile.id, DialogState.PICK, data)
        await _ask(context, chat.id, lang, DialogState.PICK, data)
        return
    if step in ATTRIBUTE_STEPS:
        await _save_attribute(context, chat.id, profile, step, " ".join(text.split()))
        return
    member = await services.companies.profile(profile.id)
    if step is DialogState.CONTACT:
        try:
            saved = await services.companies.save_profile(profile.id, text, member.phone)
        except ProfileError as error:
            await _retry(context, chat.id, lang, step, data, error)
            return
        thanks = catalog.t(lang, "tk_contact_saved", contact=saved.contact_name or "")
        if _editing(data):
            await _edited(context, chat.id, profile, data, thanks)
            return
        if saved.phone:
            await _attributes(context, chat.id, profile, data, thanks)
            return
        await services.members.set_dialog(profile.id, DialogState.PHONE, data)
        await _ask(context, chat.id, lang, DialogState.PHONE, data, prefix=thanks)
        return
    try:
        saved = await services.companies.save_profile(
            profile.id, member.contact_name or profile_name(update), text
        )
    except ProfileError as error:
        await _retry(context, chat.id, lang, step, data, error)
        return
    done = catalog.t(lang, "tk_phone_saved", phone=saved.phone or "")
    if _editing(data):
        await _edited(context, chat.id, profile, data, done)
        return
    await _attributes(context, chat.id, profile, data, done)


def profile_name(update: Update) -> str:
    user = update.effective_user
    return (user.first_name if user else "") or "—"


# --- buttons ---------------------------------------------------------------------------------


def _in_step(press: Press, *steps: DialogState) -> DialogState:
    state = press.profile.dialog_state
    if state is None or state not in steps:
        raise StaleAction("the profile dialogue is not at this step")
    return state


async def _cb_pick(press: Press, context: Context) -> None:
    """pc:ID — a company the bot offered; pc:0 — "not listed, use what I typed"."""
    _in_step(press, DialogState.PICK)
    company_id = press.data.int_arg()
    data = dict(press.profile.dialog_data)
    offered = {int(c[0]) for c in data.get("offered", [])}
    services = context.services
    if company_id == 0:
        typed = str(data.get("typed", ""))
        if not typed:
            raise StaleAction("nothing typed")
        await press.query.answer()
        link = await services.companies.link_user(press.profile.id, typed)
    elif company_id is not None and company_id in offered:
        await press.query.answer()
        link = await services.companies.link_user(press.profile.id, company_id)
    else:
        raise StaleAction("company not offered")
    await _after_company(context, press.chat_id, press.profile, data, link)


async def _cb_agree(press: Press, context: Context) -> None:
    """The member agreed to the personal-data notice: record it, then ask the first
    question of the profile (or assign at once if nothing is missing)."""
    _in_step(press, DialogState.CONSENT)
    services = context.services
    lang = press.profile.lang
    at = await services.privacy.record_consent(press.profile.id, lang)
    await press.query.answer()
    thanks = services.catalog.t(
        lang, "pv_consent_recorded", at=format_datetime(at, services.settings.zone, lang)
    )
    data = _carried(dict(press.profile.dialog_data))
    if _editing(data):  # agreed before changing an item of /profile: ask for it now
        await _enter_edit(context, press.chat_id, press.profile, data["edit"], thanks)
        return
    waiting = _tickets(data)
    if waiting:  # the request's number again, above the first question
        number = (await board.system_view(context, waiting[0])).number
        header = services.catalog.t(lang, "expert_recorded", number=number)
        thanks = f"{header}\n\n{thanks}"
    step = _first_step(await services.companies.profile(press.profile.id))
    if step is None:
        await _finish(context, press.chat_id, press.profile, data, thanks)
        return
    await services.members.set_dialog(press.profile.id, step, data)
    intro = services.catalog.t(lang, "tk_profile_intro")
    await _ask(context, press.chat_id, lang, step, data, prefix=f"{thanks}\n\n{intro}")


async def _cb_skip_phone(press: Press, context: Context) -> None:
    _in_step(press, DialogState.PHONE)
    await press.query.answer()
    lang = press.profile.lang
    if _editing(press.profile.dialog_data):
        await _unchanged(context, press.chat_id, press.profile)
        return
    done = context.services.catalog.t(lang, "tk_phone_skipped")
    await _attributes(context, press.chat_id, press.profile, dict(press.profile.dialog_data), done)


async def _cb_industry(press: Press, context: Context) -> None:
    """pi:CODE — an industry of the fixed list."""
    await _pick(press, context, DialogState.INDUSTRY, INDUSTRIES)


async def _cb_city(press: Press, context: Context) -> None:
    """pcy:CODE — a city of the fixed list."""
    await _pick(press, context, DialogState.CITY, CITIES)


async def _pick(
    press: Press, context: Context, step: DialogState, offered: Mapping[str, str]
) -> None:
    _in_step(press, step)
    value = offered.get(press.data.arg)
    if value is None:
        raise StaleAction(f"not an offered {step}")
    await press.query.answer()
    await _save_attribute(context, press.chat_id, press.profile, step, value)


async def _cb_market(press: Press, context: Context) -> None:
    """pm:CODE ticks or unticks a market (the buttons are redrawn); pm:done saves them."""
    _in_step(press, DialogState.MARKETS)
    data = dict(press.profile.dialog_data)
    chosen = _ticked(data)
    arg = press.data.arg
    services = context.services
    lang = press.profile.lang
    if arg == "done":
        await press.query.answer()
        if not chosen and _editing(data):  # every market unticked: delete them
            await _delete_attribute(context, press.chat_id, press.profile, "export_markets")
            return
        if not chosen:  # nothing ticked: the same as Skip
            await _attributes(context, press.chat_id, press.profile, data, "", DialogState.MARKETS)
            return
        names = ", ".join(services.catalog.raw(lang, f"attr_market_{m}") for m in chosen)
        await _save_attribute(context, press.chat_id, press.profile, DialogState.MARKETS, names)
        return
    if arg not in MARKETS:
        raise StaleAction("not an offered market")
    chosen = [m for m in chosen if m != arg] if arg in chosen else [*chosen, arg]
    data["markets"] = [m for m in MARKETS if m in chosen]  # the list's order
    await services.members.set_dialog(press.profile.id, DialogState.MARKETS, data)
    await press.query.answer()
    text, markup = _prompt(context, lang, DialogState.MARKETS, data)
    await press.query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def _cb_skip_attribute(press: Press, context: Context) -> None:
    """pk — skip this optional question; pk:all — skip the rest (the ticket is assigned)."""
    step = _in_step(press, *ATTRIBUTE_STEPS)
    await press.query.answer()
    data = dict(press.profile.dialog_data)
    if _editing(data):
        await _unchanged(context, press.chat_id, press.profile)
        return
    if press.data.arg == "all":
        done = context.services.catalog.t(press.profile.lang, "tk_attr_skipped")
        await _finish(context, press.chat_id, press.profile, _carried(data), done)
        return
    await _attributes(context, press.chat_id, press.profile, data, "", after=step)


async def _cb_cancel(press: Press, context: Context) -> None:
    _in_step(press, *PROFILE_STEPS)
    await press.query.answer()
    await cancel(context, press.chat_id, press.profile)


async def cancel(context: Context, chat_id: int, profile: Profile) -> None:
    """Stop the dialogue; the tickets waiting for it are withdrawn (closed), nothing passed
    on. The member may ask an expert again at any time. In the optional attribute steps
    everything the tickets need is known: they are assigned, only the rest is skipped."""
    services = context.services
    if _editing(profile.dialog_data):
        await _unchanged(context, chat_id, profile)
        return
    if profile.dialog_state in ATTRIBUTE_STEPS:
        done = services.catalog.t(profile.lang, "tk_attr_skipped")
        await _finish(context, chat_id, profile, _carried(dict(profile.dialog_data)), done)
        return
    numbers: list[str] = []
    for ticket_id in _tickets(profile.dialog_data):
        try:
            change = await services.tickets.close(
                ticket_id, profile.id, "profile dialogue cancelled"
            )
        except (NotFound, StaleAction):
            continue
        numbers.append(change.ticket.number)
    await services.members.set_dialog(profile.id, None)
    catalog, lang = services.catalog, profile.lang
    text = (
        catalog.t(lang, "tk_profile_cancelled", numbers=", ".join(numbers))
        if numbers
        else catalog.t(lang, "tk_cancelled")
    )
    await send_html(context, chat_id, text)


# --- changing one item from /profile ---------------------------------------------------------

EDIT_STEPS: dict[str, DialogState] = {
    "contact": DialogState.CONTACT,
    "phone": DialogState.PHONE,
    "company": DialogState.COMPANY,
    "industry": DialogState.INDUSTRY,
    "export_markets": DialogState.MARKETS,
    "city": DialogState.CITY,
}
"""/profile item → the profile dialogue's step that asks for it (one mechanism for both)."""


async def start_edit(context: Context, chat_id: int, profile: Profile, field: str) -> None:
    """Ask for one item of the member's profile with the dialogue's own step.

    ``data["edit"]`` marks the change: it remembers the state the member was in (their
    ticket, the FAQ assistant …) and puts it back, with its time, when the change is saved or
    cancelled; the skip buttons become Cancel. Not while the escalation dialogue waits for
    an answer (the member finishes or cancels it first). Nothing is collected before the
    member agreed to the personal-data notice."""
    services = context.services
    if field not in EDIT_STEPS:
        raise StaleAction("not a profile item")
    if is_step(profile.dialog_state):
        current = profile.dialog_data.get("edit")
        if not isinstance(current, dict):
            await send_html(context, chat_id, services.catalog.t(profile.lang, "pf_busy"))
            return
        edit = {**current, "field": field}
    else:
        since = profile.dialog_since.isoformat() if profile.dialog_since else None
        back = profile.dialog_state.value if profile.dialog_state else None
        edit = {"field": field, "back": back, "back_data": profile.dialog_data, "since": since}
    if EDIT_STEPS[field] in ATTRIBUTE_STEPS:
        member = await services.companies.profile(profile.id)
        if member.company is None:
            raise StaleAction("no company yet")
        if field in member.listed:
            error = ProfileError("markets" if field == "export_markets" else field, "listed")
            await profile_card.show(
                context, chat_id, profile.id, profile.lang,
                explain(services.catalog, profile.lang, error),
            )  # fmt: skip
            return
    if not await services.privacy.has_consent(profile.id):
        data: dict[str, Any] = {"edit": edit}
        await services.members.set_dialog(profile.id, DialogState.CONSENT, data)
        await _ask(context, chat_id, profile.lang, DialogState.CONSENT, data)
        return
    await _enter_edit(context, chat_id, profile, edit)


async def _enter_edit(
    context: Context, chat_id: int, profile: Profile, edit: dict[str, Any], prefix: str = ""
) -> None:
    services = context.services
    step = EDIT_STEPS.get(str(edit.get("field")))
    if step is None:
        raise StaleAction("not a profile item")
    data: dict[str, Any] = {"edit": edit}
    if step is DialogState.MARKETS:  # start from the markets stored: untick, tick, Done
        stored = (await services.companies.profile(profile.id)).export_markets or ""
        data["markets"] = [m for m in MARKETS if f";{m};" in stored]
    await services.members.set_dialog(profile.id, step, data)
    await _ask(context, chat_id, profile.lang, step, data, prefix=prefix)


async def _edited(
    context: Context, chat_id: int, profile: Profile, data: dict[str, Any], prefix: str
) -> None:
    """A /profile change is over: put the member's state back as it was, show the card."""
    edit = data.get("edit")
    back = parse_state(edit.get("back")) if isinstance(edit, dict) else None
    members = context.services.members
    if isinstance(edit, dict) and back is not None and not is_profile_step(back):
        back_data = edit.get("back_data")
        since = edit.get("since")
        await members.set_dialog(
            profile.id,
            back,
            back_data if isinstance(back_data, dict) else {},
            datetime.fromisoformat(since) if isinstance(since, str) else None,
        )
    else:
        await members.set_dialog(profile.id, None)
    await profile_card.show(context, chat_id, profile.id, profile.lang, prefix)


async def _unchanged(context: Context, chat_id: int, profile: Profile) -> None:
    text = context.services.catalog.t(profile.lang, "pf_unchanged")
    await _edited(context, chat_id, profile, dict(profile.dialog_data), text)


async def _delete_attribute(
    context: Context, chat_id: int, profile: Profile, attribute: str
) -> None:
    """Delete an attribute (all markets unticked while changing them), then the card."""
    services = context.services
    try:
        await services.companies.clear_attribute(profile.id, attribute)
        text = services.catalog.t(profile.lang, "pf_deleted")
    except ProfileError as error:
        text = explain(services.catalog, profile.lang, error)
    await _edited(context, chat_id, profile, dict(profile.dialog_data), text)


CALLBACKS: dict[str, staff.TicketCallback] = {
    Cb.PICK_COMPANY: _cb_pick,
    Cb.SKIP_PHONE: _cb_skip_phone,
    Cb.CANCEL_PROFILE: _cb_cancel,
    Cb.AGREE_NOTICE: _cb_agree,
    Cb.PROFILE_INDUSTRY: _cb_industry,
    Cb.PROFILE_MARKET: _cb_market,
    Cb.PROFILE_CITY: _cb_city,
    Cb.PROFILE_SKIP: _cb_skip_attribute,
}
