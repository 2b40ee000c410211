"""Rendering tickets as text: staff-group cards, the 摸底 dossier, history, lists, headers.

Pure functions over service results and the catalog (every word comes from
``bot/locales/*/tickets.yaml``); they return Telegram HTML and never touch the network, so
they are unit-tested in ``tests/handlers``. Values are escaped by ``Catalog.t``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Catalog
from bot.services.companies import CompanyInfo
from bot.services.dossier import Dossier
from bot.services.experts import ExpertInfo
from bot.services.tickets import (
    AssignOutcome,
    EventView,
    MessageView,
    TicketHistory,
    TicketView,
)
from bot.services.timefmt import format_date, format_datetime
from bot.text import CHUNK_LIMIT, split_html
from db.models import Priority, TicketStatus
from faq.models import KnowledgeBase, Lang

STAFF_LANG: Lang = "zh"
"""Language of everything posted in the staff group (the secretariat works in Chinese)."""

QUESTION_MAX = 700
SUMMARY_MAX = 700
LINE_MAX = 400


def clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def one_line(text: str, limit: int) -> str:
    return clip(" ".join(text.split()), limit)


def category_label(catalog: Catalog, lang: Lang, category: str) -> str:
    key = f"topic_{category}"
    return catalog.raw(lang, key) if key in catalog.keys(lang) else category


def status_label(catalog: Catalog, lang: Lang, status: TicketStatus) -> str:
    return catalog.raw(lang, f"tk_status_{status.value}")


def expert_title(expert: ExpertInfo, lang: Lang) -> str:
    """ "律师、商标代理人 · 宁波甬知律师事务所" — title and organisation, whichever exist."""
    return " · ".join(p for p in (expert.title(lang), expert.organisation(lang)) if p)


def expert_label(catalog: Catalog, lang: Lang, expert: ExpertInfo) -> str:
    """Plain text: the expert's name with title and organisation (never their account)."""
    title = expert_title(expert, lang)
    if not title:
        return expert.name(lang)
    return catalog.raw(lang, "tk_expert_titled").format(name=expert.name(lang), title=title)


def responder_label(catalog: Catalog, lang: Lang, view: TicketView) -> str:
    """Who answers the ticket, as a member may see it: the claimer or assigned expert with
    title, or the secretariat (a staff member's own name or account is never shown)."""
    holder = view.claimed_by
    if holder is not None:
        if holder.expert is not None:
            return expert_label(catalog, lang, holder.expert)
        return catalog.raw(lang, "tk_secretariat")
    if view.expert is not None:
        return expert_label(catalog, lang, view.expert)
    return catalog.raw(lang, "tk_secretariat")


def company_name(catalog: Catalog, lang: Lang, company: CompanyInfo | None) -> str:
    return company.name if company is not None else catalog.raw(lang, "tk_company_unknown")


def membership_label(catalog: Catalog, lang: Lang, company: CompanyInfo | None) -> str:
    if company is None:
        return catalog.raw(lang, "tk_company_unknown")
    if company.is_member:
        number = f" {company.member_no}" if company.member_no else ""
        return catalog.raw(lang, "tk_member_yes") + number
    return catalog.raw(lang, "tk_member_no")


def contact_of(view: TicketView) -> str:
    return view.member.contact_name or view.member.first_name or str(view.member.user_id)


def _when(moment: datetime, zone: ZoneInfo, lang: Lang) -> str:
    return format_datetime(moment, zone, lang)


# --- the staff-group card ------------------------------------------------------------------


def contact_line(catalog: Catalog, lang: Lang, view: TicketView, *, personal: bool) -> str:
    if not personal:
        return catalog.t(lang, "pv_card_contact_hidden")
    return catalog.t(
        lang, "tk_card_contact", contact=contact_of(view), phone=view.member.phone or "—"
    )


def card_text(
    catalog: Catalog,
    lang: Lang,
    zone: ZoneInfo,
    view: TicketView,
    *,
    reason: AssignOutcome | None = None,
    personal: bool = False,
) -> str:
    """The ticket's card: number, category, priority, company and membership, contact,
    question, deadline, expert, status, who holds it, and the summary once resolved.

    Need-to-know: the contact name and phone only when ``personal`` (the assigned expert's
    private notice); the staff-group card and /ticket say who may see them instead."""
    t = catalog.t
    urgent = view.priority is Priority.URGENT
    lines = [
        t(
            lang,
            "tk_card_head",
            number=view.number,
            category=category_label(catalog, lang, view.category),
        )
        + (" · " + catalog.raw(lang, "tk_priority_urgent") if urgent else ""),
        t(
            lang,
            "tk_card_company",
            company=company_name(catalog, lang, view.company),
            membership=membership_label(catalog, lang, view.company),
        ),
        contact_line(catalog, lang, view, personal=personal),
        t(lang, "tk_card_question", question=clip(view.question, QUESTION_MAX)),
    ]
    if view.deadline_at is not None:
        lines.append(
            t(lang, "tk_card_deadline", deadline=format_date(view.deadline_at, zone, lang))
        )
    if view.expert is not None:
        lines.append(t(lang, "tk_card_expert", expert=expert_label(catalog, lang, view.expert)))
    else:
        why = ""
        if reason in (AssignOutcome.NO_EXPERT, AssignOutcome.NO_LANGUAGE, AssignOutcome.ALL_FULL):
            why = catalog.raw(lang, f"tk_reason_{reason.value}")
        lines.append(t(lang, "tk_card_no_expert", reason=why).rstrip())
    lines.append(t(lang, "tk_card_status", status=status_label(catalog, lang, view.status)))
    if view.claimed_by is not None:
        lines.append(t(lang, "tk_card_claimed", holder=view.claimed_by.display(lang)))
    if view.summary and view.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        lines.append(t(lang, "tk_card_summary", summary=clip(view.summary, SUMMARY_MAX)))
    return "\n".join(lines)


def queue_line(catalog: Catalog, lang: Lang, zone: ZoneInfo, view: TicketView) -> str:
    expert = view.expert.name(lang) if view.expert else catalog.raw(lang, "tk_unassigned_short")
    holder = view.claimed_by.display(lang) if view.claimed_by else ""
    return catalog.t(
        lang,
        "tk_queue_line",
        flag="🔴" if view.priority is Priority.URGENT else "▫️",
        number=view.number,
        category=category_label(catalog, lang, view.category),
        company=company_name(catalog, lang, view.company),
        status=status_label(catalog, lang, view.status),
        expert=expert,
        holder=holder or "—",
        created=_when(view.created_at, zone, lang),
        question=one_line(view.question, 60),
    )


def queue_text(
    catalog: Catalog,
    lang: Lang,
    zone: ZoneInfo,
    views: Sequence[TicketView],
    title_key: str,
) -> list[str]:
    """``/queue`` and ``/mine``: a title and one line per ticket, split under the limit."""
    if not views:
        return [catalog.t(lang, "tk_queue_empty")]
    head = catalog.t(lang, title_key, count=len(views))
    return chunk_lines([head, *(queue_line(catalog, lang, zone, v) for v in views)])


# --- relay headers -------------------------------------------------------------------------


def member_header(catalog: Catalog, lang: Lang, view: TicketView, *, personal: bool = True) -> str:
    """ "📨 IP-2026-0042 · 公司名 · 联系人" above a member's message relayed to the team; in
    the staff group (not ``personal``) "会员" stands for the contact's name."""
    return catalog.t(
        lang,
        "tk_relay_from_member",
        number=view.number,
        company=company_name(catalog, lang, view.company),
        contact=contact_of(view) if personal else catalog.raw(lang, "pv_member_short"),
    )


def team_header(catalog: Catalog, lang: Lang, number: str, expert: ExpertInfo | None) -> str:
    """ "💬 张伟 · IP-2026-0042" above a team reply relayed to the member: the expert's
    display name, or the secretariat for staff who are not on the roster."""
    name = expert.name(lang) if expert is not None else catalog.raw(lang, "tk_secretariat")
    return catalog.t(lang, "tk_relay_from_team", expert=name, number=number)


# --- the member's view -----------------------------------------------------------------------


def member_ticket_text(
    catalog: Catalog,
    lang: Lang,
    zone: ZoneInfo,
    view: TicketView,
    messages: Sequence[MessageView] = (),
    recent: int = 10,
) -> list[str]:
    """``/ticket NUMBER`` for the member who owns it: no notes, no events, no accounts."""
    t = catalog.t
    expert = (
        expert_label(catalog, lang, view.expert)
        if view.expert is not None
        else catalog.raw(lang, "tk_unassigned_member")
    )
    lines = [
        t(
            lang,
            "tk_mine_head",
            number=view.number,
            status=status_label(catalog, lang, view.status),
        ),
        t(lang, "tk_card_question", question=clip(view.question, QUESTION_MAX)),
        t(lang, "tk_card_expert", expert=expert),
        t(lang, "tk_opened_at", at=_when(view.created_at, zone, lang)),
    ]
    if view.summary and view.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        lines.append(t(lang, "tk_card_summary", summary=clip(view.summary, SUMMARY_MAX)))
    shown = [m for m in messages if m.direction in ("member", "expert")][-recent:]
    if shown:
        lines.append("")
        lines.append(t(lang, "tk_recent_messages"))
        for m in shown:
            who = catalog.raw(lang, "tk_you" if m.direction == "member" else "tk_dir_expert")
            lines.append(
                t(
                    lang,
                    "tk_history_message",
                    at=_when(m.created_at, zone, lang),
                    who=who,
                    text=message_summary(catalog, lang, m),
                )
            )
    return chunk_lines(lines)


def my_tickets_text(
    catalog: Catalog, lang: Lang, zone: ZoneInfo, views: Sequence[TicketView]
) -> list[str]:
    if not views:
        return [catalog.t(lang, "tk_mytickets_empty")]
    lines = [catalog.t(lang, "tk_mytickets_title")]
    for v in views:
        lines.append(
            catalog.t(
                lang,
                "tk_mytickets_line",
                number=v.number,
                status=status_label(catalog, lang, v.status),
                question=one_line(v.question, 60),
                at=format_date(v.created_at, zone, lang),
            )
        )
    return chunk_lines(lines)


# --- history (team) --------------------------------------------------------------------------


def message_summary(catalog: Catalog, lang: Lang, m: MessageView) -> str:
    parts = []
    if m.file_kind == "photo":
        parts.append(catalog.raw(lang, "tk_file_photo"))
    elif m.file_kind == "document":
        parts.append(catalog.raw(lang, "tk_file_document").format(name=m.file_name or "—"))
    if m.text:
        parts.append(one_line(m.text, LINE_MAX))
    return " ".join(parts) or "—"


_ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?"
)
_FIELD = re.compile(r"\b(priority|deadline)=(\S+)")


def _event_line(catalog: Catalog, lang: Lang, zone: ZoneInfo, e: EventView) -> str:
    """One event in people's words: "提交 · 待分配 · 普通优先级 · 期限 2026年12月12日 16:00",
    never a field dump."""
    key = f"tk_event_{e.kind}"
    parts = [catalog.raw(lang, key) if key in catalog.keys(lang) else e.kind]
    if e.to_status:
        parts.append(_status_words(catalog, lang, e.to_status))
    if e.detail:
        parts.append(one_line(_detail_words(catalog, lang, zone, e.detail), LINE_MAX))
    return catalog.t(
        lang,
        "tk_history_event",
        at=_when(e.created_at, zone, lang),
        what=" · ".join(p for p in parts if p),
        actor=str(e.actor_id) if e.actor_id is not None else "bot",
    )


def _status_words(catalog: Catalog, lang: Lang, value: str) -> str:
    try:
        return status_label(catalog, lang, TicketStatus(value))
    except (ValueError, KeyError):
        return value


def _detail_words(catalog: Catalog, lang: Lang, zone: ZoneInfo, detail: str) -> str:
    """Stored details (``priority=normal deadline=2026-12-12T08:00:00+00:00``, ``normal →
    urgent: summons``) as words, moments in the association's time zone."""

    def moment(match: re.Match[str]) -> str:
        try:
            return _when(datetime.fromisoformat(match[0].replace("Z", "+00:00")), zone, lang)
        except ValueError:
            return match[0]

    def field(match: re.Match[str]) -> str:
        name, value = match[1], match[2]
        if name == "priority":
            return catalog.raw(lang, f"tk_priority_words_{value}") if value in {
                "normal", "urgent"
            } else value  # fmt: skip
        return catalog.raw(lang, "tk_deadline_words").format(deadline=value)

    text = _ISO_MOMENT.sub(moment, detail)
    text = _FIELD.sub(field, text)
    for value in ("normal", "urgent"):
        text = re.sub(rf"\b{value}\b", catalog.raw(lang, f"tk_priority_words_{value}"), text)
    return text.replace(" - ", " — ").replace("- →", "— →")


def history_text(
    catalog: Catalog, lang: Lang, zone: ZoneInfo, history: TicketHistory
) -> list[str]:
    """``/ticket NUMBER`` for the team: the card, then events and messages (notes included)
    in time order."""
    lines = [
        catalog.t(lang, "tk_history_title", number=history.ticket.number),
        card_text(catalog, lang, zone, history.ticket),
        "",
        catalog.t(lang, "tk_history_timeline"),
    ]
    timeline: list[tuple[datetime, int, str]] = []
    for e in history.events:
        timeline.append((e.created_at, 0, _event_line(catalog, lang, zone, e)))
    for m in history.messages:
        who = catalog.raw(lang, f"tk_dir_{m.direction}")
        line = catalog.t(
            lang,
            "tk_history_message",
            at=_when(m.created_at, zone, lang),
            who=who,
            text=message_summary(catalog, lang, m),
        )
        timeline.append((m.created_at, 1, line))
    timeline.sort(key=lambda item: (item[0], item[1]))
    lines.extend(line for _, _, line in timeline)
    return chunk_lines(lines)


# --- 摸底 ------------------------------------------------------------------------------------


def dossier_text(
    catalog: Catalog,
    lang: Lang,
    zone: ZoneInfo,
    dossier: Dossier,
    kb: KnowledgeBase,
) -> list[str]:
    """Know the member before answering: company and membership, colleagues, contact, this
    question, previous tickets with outcome and rating, FAQ entries read recently."""
    t = catalog.t
    view = dossier.ticket
    lines = [
        t(lang, "tk_dossier_title", number=view.number),
        t(
            lang,
            "tk_card_company",
            company=company_name(catalog, lang, dossier.company),
            membership=membership_label(catalog, lang, dossier.company),
        ),
    ]
    if dossier.company is not None and dossier.colleagues:
        lines.append(t(lang, "tk_dossier_colleagues", count=dossier.colleagues))
    lines.append(contact_line(catalog, lang, view, personal=dossier.show_contact))
    if dossier.member_since is not None:
        lines.append(t(lang, "tk_dossier_since", at=format_date(dossier.member_since, zone, lang)))
    lines.append(t(lang, "tk_card_question", question=clip(view.question, QUESTION_MAX)))
    if view.deadline_at is not None:
        lines.append(
            t(lang, "tk_card_deadline", deadline=format_date(view.deadline_at, zone, lang))
        )
    if view.faq_id:
        entry = kb.get(view.faq_id)
        if entry is not None:
            lines.append(t(lang, "tk_dossier_shown", title=entry.title[lang]))

    lines.append("")
    average = (
        catalog.raw(lang, "tk_dossier_avg").format(rating=f"{dossier.average_rating:.1f}")
        if dossier.average_rating is not None
        else ""
    )
    lines.append(t(lang, "tk_dossier_prev_title", count=dossier.previous_total, average=average))
    if not dossier.previous_tickets:
        lines.append(t(lang, "tk_dossier_prev_none"))
    for past in dossier.previous_tickets:
        lines.append(
            t(
                lang,
                "tk_dossier_prev_line",
                number=past.number,
                status=status_label(catalog, lang, past.status),
                category=category_label(catalog, lang, past.category),
                question=one_line(past.question, 80),
                who="" if past.by_this_member else catalog.raw(lang, "tk_dossier_colleague"),
            )
        )
        outcome = one_line(past.summary, 200) if past.summary else "—"
        rating = f"{past.rating}/5" if past.rating is not None else "—"
        lines.append(t(lang, "tk_dossier_prev_outcome", summary=outcome, rating=rating))

    lines.append("")
    lines.append(t(lang, "tk_dossier_faq_title"))
    if not dossier.recent_faq:
        lines.append(t(lang, "tk_dossier_faq_none"))
    for read in dossier.recent_faq:
        entry = kb.get(read.faq_id)
        title = entry.title[lang] if entry is not None else read.faq_id
        feedback = ""
        if read.feedback in ("solved", "expert"):
            feedback = catalog.raw(lang, f"tk_feedback_{read.feedback}")
        lines.append(
            t(
                lang,
                "tk_dossier_faq_line",
                title=title,
                at=format_date(read.read_at, zone, lang),
                feedback=feedback,
            )
        )
    lines.append("")
    lines.append(t(lang, "tk_dossier_foot", number=view.number))
    return chunk_lines(lines)


# --- roster ----------------------------------------------------------------------------------


def experts_text(
    catalog: Catalog, lang: Lang, experts: Iterable[ExpertInfo], counts: dict[int, int]
) -> list[str]:
    items = list(experts)
    if not items:
        return [catalog.t(lang, "tk_experts_empty")]
    lines = [catalog.t(lang, "tk_experts_title", count=len(items))]
    for e in items:
        lines.append(
            catalog.t(
                lang,
                "tk_experts_line",
                flag="🟢" if e.active else "⚪️",
                key=e.key,
                name=expert_label(catalog, lang, e),
                categories=", ".join(category_label(catalog, lang, c) for c in e.categories),
                languages="/".join(e.languages),
                open=counts.get(e.id, 0),
                max=e.max_open,
                reachable="" if e.user_id is not None else catalog.raw(lang, "tk_unreachable"),
            )
        )
    return chunk_lines(lines)


# --- splitting -------------------------------------------------------------------------------


def chunk_lines(lines: Iterable[str], limit: int = CHUNK_LIMIT) -> list[str]:
    """Join HTML lines into messages under ``limit`` (bot.text.split_html: between lines
    where it can, never inside a tag or an entity)."""
    return split_html("\n".join(lines), limit) or [""]


def plain_length(text_html: str) -> int:
    """Rough length of HTML once Telegram parses it (tags removed, entities counted as 1)."""
    return len(re.sub(r"&[a-z]+;", "_", re.sub(r"<[^>]+>", "", text_html)))
