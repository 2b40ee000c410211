"""Inline keyboards, built from catalog text and ids only."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Catalog
from faq.models import CATEGORIES, FaqEntry, Lang
from handlers.callbacks import encode

BUTTON_TEXT_MAX = 60


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_MAX else text[: BUTTON_TEXT_MAX - 1] + "…"


def topics(catalog: Catalog, lang: Lang) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(catalog.raw(lang, f"topic_{c}"), callback_data=encode("t", c))
        for c in CATEGORIES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [InlineKeyboardButton(catalog.raw(lang, "btn_language"), callback_data=encode("lang"))]
    )
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
        [InlineKeyboardButton(_label(e.title[lang]), callback_data=encode("f", e.id))]
        for e in items
    ]
    rows.append([InlineKeyboardButton(catalog.raw(lang, "btn_menu"), callback_data="menu")])
    return InlineKeyboardMarkup(rows)


def after_answer(
    catalog: Catalog, lang: Lang, view_id: int, related: Iterable[FaqEntry]
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                catalog.raw(lang, "btn_solved"), callback_data=encode("ok", view_id)
            ),
            InlineKeyboardButton(
                catalog.raw(lang, "btn_ask_expert"), callback_data=encode("x", view_id)
            ),
        ]
    ]
    rows.extend(
        [InlineKeyboardButton("↪ " + _label(e.title[lang]), callback_data=encode("f", e.id))]
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
                catalog.raw(lang, "btn_ask_expert"), callback_data=encode("e", question_id)
            )
        ]
    ]
    if related is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    _label(related.title[lang]), callback_data=encode("f", related.id)
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def suggestions(
    catalog: Catalog, lang: Lang, question_id: int, items: Iterable[FaqEntry]
) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(_label(e.title[lang]), callback_data=encode("f", e.id))]
        for e in items
    ]
    rows.append(
        [
            InlineKeyboardButton(
                catalog.raw(lang, "none_of_these"), callback_data=encode("e", question_id)
            )
        ]
    )
    return InlineKeyboardMarkup(rows)
