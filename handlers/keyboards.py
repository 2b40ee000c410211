"""Inline keyboards, built from catalog text and ids only."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Catalog
from bot.services.attributes import CITIES, INDUSTRIES, MARKETS
from bot.services.callback_codes import Cb
from bot.services.tickets import USUAL_CONCLUSIONS
from faq.models import CATEGORIES, FaqEntry, Lang
from handlers.callbacks import encode

BUTTON_TEXT_MAX = 60


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_MAX else text[: BUTTON_TEXT_MAX - 1] + "…"


def topics(
    catalog: Catalog,
    lang: Lang,
    *,
    expert_question_id: int | None = None,
    profile_button: bool = False,
) -> InlineKeyboardMarkup:
    """The topic menu; after an unanswered question, "Ask an expert" about it first; under
    /help, "My profile" beside the language button."""
    buttons = [
        InlineKeyboardButton(catalog.raw(lang, f"topic_{c}"), callback_data=encode(Cb.TOPIC, c))
        for c in CATEGORIES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if expert_question_id is not None:
        rows.insert(0, [_expert_about(catalog, lang, expert_question_id)])
    last = [InlineKeyboardButton(catalog.raw(lang, "btn_language"), callback_data=encode(Cb.LANG))]
    if profile_button:
        last.append(
            InlineKeyboardButton(
                catalog.raw(lang, "pf_btn_show"), callback_data=encode(Cb.PROFILE_SHOW)
            )
        )
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def languages(catalog: Catalog) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(catalog.raw("zh", "lang_name"), callback_data="lang:zh"),
                InlineKeyboardButton(catalog.raw("en", "lang_name"), callback_data="lang:en"),
            ]
        ]
    )


def entries(catalog: Catalog, lang: Lang, items: Iterable[FaqEntry]) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(_label(e.title[lang]), callback_data=encode(Cb.FAQ, e.id))]
        for e in items
    ]
    rows.append([InlineKeyboardButton(catalog.raw(lang, "btn_menu"), callback_data="menu")])
    return InlineKeyboardMarkup(rows)


def _expert_about(catalog: Catalog, lang: Lang, question_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        catalog.raw(lang, "btn_ask_expert"),
        callback_data=encode(Cb.EXPERT_FROM_QUESTION, question_id),
    )


def small_talk(
    catalog: Catalog, lang: Lang, question_id: int, kind: str, fees: Iterable[FaqEntry]
) -> InlineKeyboardMarkup:
    """After small talk: the fee entries for "how much?", else the topics (with an expert
    for "are you a bot?")."""
    if kind == "price":
        return entries(catalog, lang, fees)
    if kind == "bot":
        return topics(catalog, lang, expert_question_id=question_id)
    return topics(catalog, lang)


def after_answer(
    catalog: Catalog,
    lang: Lang,
    view_id: int,
    related: Iterable[FaqEntry],
    *,
    expert_first: bool = False,
) -> InlineKeyboardMarkup:
    """Solved / Ask an expert; a flagged answer puts "Ask an expert" alone on top."""
    expert = InlineKeyboardButton(
        catalog.raw(lang, "btn_ask_expert"), callback_data=encode(Cb.EXPERT_FROM_VIEW, view_id)
    )
    solved = InlineKeyboardButton(
        catalog.raw(lang, "btn_solved"), callback_data=encode(Cb.SOLVED, view_id)
    )
    rows = [[expert], [solved]] if expert_first else [[solved, expert]]
    rows.extend(
        [InlineKeyboardButton("↪ " + _label(e.title[lang]), callback_data=encode(Cb.FAQ, e.id))]
        for e in related
    )
    rows.append([InlineKeyboardButton(catalog.raw(lang, "btn_menu"), callback_data="menu")])
    return InlineKeyboardMarkup(rows)


def escalation(
    catalog: Catalog, lang: Lang, question_id: int, related: FaqEntry | None
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                catalog.raw(lang, "btn_ask_expert"),
                callback_data=encode(Cb.EXPERT_FROM_QUESTION, question_id),
            )
        ]
    ]
    if related is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    _label(related.title[lang]), callback_data=encode(Cb.FAQ, related.id)
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def suggestions(
    catalog: Catalog, lang: Lang, question_id: int, items: Iterable[FaqEntry]
) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(_label(e.title[lang]), callback_data=encode(Cb.FAQ, e.id))]
        for e in items
    ]
    rows.append(
        [
            InlineKeyboardButton(
                catalog.raw(lang, "none_of_these"),
                callback_data=encode(Cb.EXPERT_FROM_QUESTION, question_id),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


# --- tickets ---------------------------------------------------------------------------------


def _button(
    catalog: Catalog, lang: Lang, key: str, kind: str, arg: str | int = ""
) -> InlineKeyboardButton:
    return InlineKeyboardButton(catalog.raw(lang, key), callback_data=encode(kind, arg))


def card(
    catalog: Catalog, lang: Lang, ticket_id: int, is_open: bool, *, claimed: bool = False
) -> InlineKeyboardMarkup | None:
    """Claim / Reassign / Resolve under a staff-group card (no Claim once someone holds it,
    the card says who); none once the ticket is done."""
    if not is_open:
        return None
    row = [] if claimed else [_button(catalog, lang, "tk_btn_claim", Cb.CLAIM, ticket_id)]
    row.append(_button(catalog, lang, "tk_btn_reassign", Cb.REASSIGN_MENU, ticket_id))
    row.append(_button(catalog, lang, "tk_btn_resolve", Cb.RESOLVE, ticket_id))
    return InlineKeyboardMarkup([row])


def reassign_menu(
    catalog: Catalog,
    lang: Lang,
    ticket_id: int,
    experts: Iterable[tuple[int, str]],
) -> InlineKeyboardMarkup:
    """The roster as buttons (``rx:TICKET.EXPERT``), then Back to the card's buttons."""
    rows = [
        [
            InlineKeyboardButton(
                _label(label), callback_data=encode(Cb.REASSIGN_TO, f"{ticket_id}.{eid}")
            )
        ]
        for eid, label in experts
    ]
    rows.append([_button(catalog, lang, "tk_btn_back", Cb.REASSIGN_BACK, ticket_id)])
    return InlineKeyboardMarkup(rows)


def expert_notice(catalog: Catalog, lang: Lang, ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(catalog, lang, "tk_btn_claim", Cb.CLAIM, ticket_id)]])


def dossier(catalog: Catalog, lang: Lang, ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(catalog, lang, "tk_btn_resolve", Cb.RESOLVE, ticket_id)]]
    )


def conclusions(catalog: Catalog, lang: Lang, ticket_id: int) -> InlineKeyboardMarkup:
    """Under a Resolve prompt: the usual conclusions (``rsa:TICKET.N``), then Cancel."""
    rows = [
        [_button(catalog, lang, f"tk_btn_conclusion_{name}", Cb.RESOLVE_AS, f"{ticket_id}.{i}")]
        for i, name in enumerate(USUAL_CONCLUSIONS)
    ]
    rows.append([_button(catalog, lang, "tk_btn_cancel", Cb.RESOLVE_CANCEL, ticket_id)])
    return InlineKeyboardMarkup(rows)


def cancel_only(catalog: Catalog, lang: Lang) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(catalog, lang, "tk_btn_cancel", Cb.CANCEL_PROFILE)]])


def consent(catalog: Catalog, lang: Lang) -> InlineKeyboardMarkup:
    """Under the personal-data notice: agree, or cancel (nothing is collected)."""
    return InlineKeyboardMarkup(
        [
            [
                _button(catalog, lang, "pv_btn_agree", Cb.AGREE_NOTICE),
                _button(catalog, lang, "tk_btn_cancel", Cb.CANCEL_PROFILE),
            ]
        ]
    )


def forget_confirm(catalog: Catalog, lang: Lang) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(catalog, lang, "pv_btn_forget_yes", Cb.FORGET_CONFIRM),
                _button(catalog, lang, "pv_btn_forget_no", Cb.FORGET_KEEP),
            ]
        ]
    )


def phone_step(catalog: Catalog, lang: Lang, editing: bool = False) -> InlineKeyboardMarkup:
    if editing:  # /profile: deleting is a button of its own there
        return cancel_only(catalog, lang)
    return InlineKeyboardMarkup(
        [
            [
                _button(catalog, lang, "tk_btn_skip", Cb.SKIP_PHONE),
                _button(catalog, lang, "tk_btn_cancel", Cb.CANCEL_PROFILE),
            ]
        ]
    )


def _attribute_tail(catalog: Catalog, lang: Lang, editing: bool) -> list[InlineKeyboardButton]:
    """Skip, Skip the rest; when a member changes one item from /profile: Cancel."""
    if editing:
        return [_button(catalog, lang, "tk_btn_cancel", Cb.CANCEL_PROFILE)]
    return [
        _button(catalog, lang, "tk_btn_skip", Cb.PROFILE_SKIP),
        _button(catalog, lang, "tk_btn_skip_rest", Cb.PROFILE_SKIP, "all"),
    ]


def _pairs(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def industry_step(catalog: Catalog, lang: Lang, editing: bool = False) -> InlineKeyboardMarkup:
    """The industries of the fixed list (``pi:CODE``), Skip, Skip the rest."""
    buttons = [
        _button(catalog, lang, f"attr_industry_{code}", Cb.PROFILE_INDUSTRY, code)
        for code in INDUSTRIES
    ]
    return InlineKeyboardMarkup([*_pairs(buttons), _attribute_tail(catalog, lang, editing)])


def markets_step(
    catalog: Catalog, lang: Lang, chosen: Iterable[str], editing: bool = False
) -> InlineKeyboardMarkup:
    """A toggle per export market (``pm:CODE``), Done (``pm:done``), Skip, Skip the rest."""
    ticked = set(chosen)
    buttons = [
        InlineKeyboardButton(
            catalog.t(
                lang,
                "tk_attr_toggle_on" if code in ticked else "tk_attr_toggle_off",
                label=catalog.raw(lang, f"attr_market_{code}"),
            ),
            callback_data=encode(Cb.PROFILE_MARKET, code),
        )
        for code in MARKETS
    ]
    done = [_button(catalog, lang, "tk_btn_done", Cb.PROFILE_MARKET, "done")]
    return InlineKeyboardMarkup([*_pairs(buttons), done, _attribute_tail(catalog, lang, editing)])


def city_step(catalog: Catalog, lang: Lang, editing: bool = False) -> InlineKeyboardMarkup:
    buttons = [
        _button(catalog, lang, f"attr_city_{code}", Cb.PROFILE_CITY, code) for code in CITIES
    ]
    return InlineKeyboardMarkup([*_pairs(buttons), _attribute_tail(catalog, lang, editing)])


PROFILE_FIELDS = ("contact", "phone", "company", "industry", "export_markets", "city")
"""The items of /profile, in the order shown (``pe:FIELD`` / ``pd:FIELD``)."""


def my_profile(
    catalog: Catalog, lang: Lang, changeable: Iterable[str], deletable: Iterable[str]
) -> InlineKeyboardMarkup:
    """/profile: a Change button per changeable item, a Delete button beside the optional
    ones that have a value."""
    removable = set(deletable)
    rows = []
    for field in (f for f in PROFILE_FIELDS if f in set(changeable)):
        name = catalog.raw(lang, f"pf_field_{field}")
        row = [
            InlineKeyboardButton(
                catalog.t(lang, "pf_btn_change", field=name),
                callback_data=encode(Cb.PROFILE_EDIT, field),
            )
        ]
        if field in removable:
            row.append(
                InlineKeyboardButton(
                    catalog.t(lang, "pf_btn_delete", field=name),
                    callback_data=encode(Cb.PROFILE_DELETE, field),
                )
            )
        rows.append(row)
    return InlineKeyboardMarkup(rows)


def company_choices(
    catalog: Catalog, lang: Lang, choices: Iterable[tuple[int, str, bool]], typed: str
) -> InlineKeyboardMarkup:
    """One button per matching company (``pc:ID``), "not listed, use what I typed" (``pc:0``)
    and Cancel."""
    badge = catalog.raw(lang, "tk_member_badge")
    rows = [
        [
            InlineKeyboardButton(
                _label(f"{name} {badge}" if member else name),
                callback_data=encode(Cb.PICK_COMPANY, cid),
            )
        ]
        for cid, name, member in choices
    ]
    not_listed = catalog.raw(lang, "tk_btn_not_listed").format(typed=typed)
    rows.append(
        [InlineKeyboardButton(_label(not_listed), callback_data=encode(Cb.PICK_COMPANY, 0))]
    )
    rows.append([_button(catalog, lang, "tk_btn_cancel", Cb.CANCEL_PROFILE)])
    return InlineKeyboardMarkup(rows)


def member_ticket(catalog: Catalog, lang: Lang, ticket_id: int) -> InlineKeyboardMarkup:
    """Under the member's ticket message: add to it, close it, or ask something new."""
    return InlineKeyboardMarkup(
        [
            [
                _button(catalog, lang, "tk_btn_add", Cb.WRITE_TO, ticket_id),
                _button(catalog, lang, "tk_btn_close", Cb.CLOSE, ticket_id),
            ],
            [_button(catalog, lang, "tk_btn_new_question", Cb.NEW_QUESTION)],
        ]
    )


def relay_ack(catalog: Catalog, lang: Lang, several_open: bool) -> InlineKeyboardMarkup:
    row = [_button(catalog, lang, "tk_btn_new_question", Cb.NEW_QUESTION)]
    if several_open:
        row.append(_button(catalog, lang, "tk_btn_switch", Cb.MY_TICKETS))
    return InlineKeyboardMarkup([row])


def ticket_chooser(
    catalog: Catalog, lang: Lang, tickets: Iterable[tuple[int, str]]
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_label(label), callback_data=encode(Cb.WRITE_TO, tid))]
            for tid, label in tickets
        ]
    )


def my_tickets(
    catalog: Catalog, lang: Lang, open_tickets: Iterable[tuple[int, str]]
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                catalog.raw(lang, "tk_btn_write").format(number=number),
                callback_data=encode(Cb.WRITE_TO, tid),
            ),
            InlineKeyboardButton(
                catalog.raw(lang, "tk_btn_close_number").format(number=number),
                callback_data=encode(Cb.CLOSE, tid),
            ),
        ]
        for tid, number in open_tickets
    ]
    rows.append([_button(catalog, lang, "tk_btn_new_question", Cb.NEW_QUESTION)])
    return InlineKeyboardMarkup(rows)


def reopen(catalog: Catalog, lang: Lang, ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(catalog, lang, "tk_btn_reopen", Cb.REOPEN_TICKET, ticket_id),
                _button(catalog, lang, "tk_btn_new_question", Cb.NEW_QUESTION),
            ]
        ]
    )
