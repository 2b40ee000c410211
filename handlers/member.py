"""Member conversation: menu, topics, free-text questions, feedback, asking for an expert."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import Context
from bot.services.callback_codes import Cb
from bot.services.dialog import DialogState
from bot.services.members import Profile
from bot.services.questions import Feedback, FeedbackResult
from bot.services.roles import is_team
from bot.text import html
from faq.engine import Decision
from faq.language import detect_language
from faq.models import CATEGORIES, FaqEntry, Lang
from handlers import keyboards
from handlers import profile as dialogue
from handlers.callbacks import decode
from handlers.common import Press, identity, profile_of, send_html, send_plain_long

# Entries a bare "how much?" is pointed to.
FEE_IDS = ["gen-fees", "tm-fees", "pt-fees"]

log = logging.getLogger(__name__)

RELATED_SHOWN = 3


async def start(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    profile = await profile_of(update, context)
    if dialogue.is_step(profile.dialog_state):  # /start leaves the profile dialogue
        await dialogue.cancel(context, chat.id, profile)
    # With a ticket open (or for the team), /start means "a new question": text goes to the
    # FAQ assistant until they write to a ticket again (handlers/relay.py explains routing).
    open_tickets = await context.services.relay.tickets_for_member_message(profile.id)
    faq_mode = bool(open_tickets) or is_team(profile.role)
    if (
        profile.dialog_state is not DialogState.CHOOSE
    ):  # messages held for the ticket chooser stay held
        await context.services.members.set_dialog(
            profile.id, DialogState.FAQ if faq_mode else None
        )
    name = update.effective_user.first_name or ""
    catalog = context.services.catalog
    greeting = catalog.t(profile.lang, "welcome", name=f" {name}" if name else "")
    if open_tickets:
        greeting += "\n\n" + catalog.t(profile.lang, "tk_start_open", count=len(open_tickets))
    await send_html(context, chat.id, greeting, keyboards.topics(catalog, profile.lang))


async def help_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    profile = await profile_of(update, context)
    catalog = context.services.catalog
    markup = keyboards.topics(catalog, profile.lang, profile_button=True)
    await send_html(context, chat.id, catalog.t(profile.lang, "help"), markup)


async def language_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await profile_of(update, context)
    catalog = context.services.catalog
    await send_html(
        context, chat.id, catalog.raw("zh", "choose_language"), keyboards.languages(catalog)
    )


async def unknown_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    profile = await profile_of(update, context)
    await send_html(context, chat.id, context.services.catalog.t(profile.lang, "unknown_command"))


async def on_text(update: Update, context: Context, profile: Profile | None = None) -> None:
    message = update.effective_message
    if message is None or message.text is None or update.effective_user is None:
        return
    await answer_question(update, context, message.text, edited=False, profile=profile)


async def on_edited_text(update: Update, context: Context) -> None:
    """An edit is treated as the corrected question: answer it again, saying so."""
    message = update.edited_message
    if message is None or message.text is None or update.effective_user is None:
        return
    await answer_question(update, context, message.text, edited=True)


async def answer_question(
    update: Update,
    context: Context,
    text: str,
    *,
    edited: bool,
    profile: Profile | None = None,
) -> None:
    """Triage a member's question and reply; `profile` if the caller already loaded it."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None or message is None:
        return
    services = context.services
    catalog = services.catalog
    if profile is None:
        profile = await profile_of(update, context)
    # Phrasings added meanwhile, by any process (the version was read with the sender).
    arrival = context.arrival
    await services.knowledge.refresh(arrival.phrasings_version if arrival else None)
    decision = services.knowledge.triage(text, lang_hint=profile.lang)
    detected = detect_language(text)
    logged = await services.questions.record(
        profile.id,
        chat.id,
        message.message_id,
        decision,
        # Remembered for menus and reminders; the member's explicit choice still wins.
        detected_lang=detected if detected is not None and detected != profile.lang else None,
    )
    if "empty" in decision.reasons:  # emoji or punctuation only: nothing to match
        await send_html(context, chat.id, catalog.t(profile.lang, "empty_text"))
        return
    # The member's explicit choice (/language) wins over the script of one message.
    lang = profile.chosen_lang or decision.lang
    note = catalog.t(lang, "edited_note") + "\n\n" if edited else ""
    if decision.action in ("answer", "tentative") and decision.answer and decision.faq_id:
        entry = services.engine.kb.get(decision.faq_id)
        assert logged.view_id is not None
        answer = (
            decision.answer
            if lang == decision.lang
            else services.engine.render_answer(decision.faq_id, lang)
        )
        if decision.action == "tentative":
            title = entry.title[lang] if entry else decision.faq_id
            note += catalog.t(lang, "tentative_intro", title=title) + "\n\n"
        if decision.flagged:
            note += catalog.t(lang, "flagged_note") + "\n\n"
        alternatives = [c.faq_id for c in decision.suggestions]
        await _send_answer(
            context,
            chat.id,
            lang,
            entry,
            answer,
            logged.view_id,
            note,
            alternatives=alternatives,
            expert_first=decision.flagged,
        )
    elif decision.action == "escalate":
        await _send_escalation(context, chat.id, lang, decision, logged.question_id, note)
    elif decision.action == "smalltalk" and decision.smalltalk:
        await send_html(
            context,
            chat.id,
            note + catalog.t(lang, f"smalltalk_{decision.smalltalk}"),
            keyboards.small_talk(
                catalog, lang, logged.question_id, decision.smalltalk, _entries(context, FEE_IDS)
            ),
        )
    elif decision.suggestions:
        items = _entries(context, [c.faq_id for c in decision.suggestions])
        await send_html(
            context,
            chat.id,
            note + catalog.t(lang, "did_you_mean"),
            keyboards.suggestions(catalog, lang, logged.question_id, items),
        )
    else:
        key = "fallback" if "out_of_remit" in decision.reasons else "fallback_unsure"
        await send_html(
            context,
            chat.id,
            note + catalog.t(lang, key),
            keyboards.topics(catalog, lang, expert_question_id=logged.question_id),
        )


def _entries(context: Context, ids: list[str]) -> list[FaqEntry]:
    kb = context.services.engine.kb
    return [e for e in (kb.get(i) for i in ids) if e is not None]


async def _send_answer(
    context: Context,
    chat_id: int,
    lang: Lang,
    entry: FaqEntry | None,
    answer: str,
    view_id: int,
    note_html: str = "",
    *,
    alternatives: list[str] | None = None,
    expert_first: bool = False,
) -> None:
    """An FAQ answer; a tentative one lists the alternatives instead of related entries."""
    catalog = context.services.catalog
    shown = alternatives if alternatives else list(entry.related) if entry else []
    related = _entries(context, shown[:RELATED_SHOWN])
    title = f"<b>{html(entry.title[lang])}</b>" if entry else ""
    await send_plain_long(
        context,
        chat_id,
        answer,
        header_html=(note_html + title).strip(),
        footer_html=f"<i>{catalog.t(lang, 'answer_prompt')}</i>",
        markup=keyboards.after_answer(catalog, lang, view_id, related, expert_first=expert_first),
    )


async def _send_escalation(
    context: Context, chat_id: int, lang: Lang, decision: Decision, question_id: int, note: str
) -> None:
    catalog = context.services.catalog
    related = context.services.engine.kb.get(decision.faq_id) if decision.faq_id else None
    text = note + catalog.t(lang, "escalate_intro")
    if related is not None:
        text += "\n\n" + catalog.t(lang, "escalate_related", title=related.title[lang])
    await send_html(
        context, chat_id, text, keyboards.escalation(catalog, lang, question_id, related)
    )


async def on_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    profile = await profile_of(update, context)
    data = decode(query.data)
    handler = _CALLBACKS.get(data.kind) if data else None
    chat = update.effective_chat
    chat_id = chat.id if chat is not None else user.id
    if (
        data is None
        or handler is None
        or not await handler(Press(query, user, chat_id, profile, data), context)
    ):
        # Forged, stale or not this user's: refuse without revealing anything.
        catalog = context.services.catalog
        await query.answer(catalog.t(profile.lang, "stale_button"), show_alert=True)


async def _cb_menu(press: Press, context: Context) -> bool:
    if press.data.arg:
        return False
    catalog, lang = context.services.catalog, press.profile.lang
    await press.query.answer()
    await send_html(
        context, press.chat_id, catalog.t(lang, "menu_prompt"), keyboards.topics(catalog, lang)
    )
    return True


async def _cb_lang(press: Press, context: Context) -> bool:
    catalog = context.services.catalog
    if not press.data.arg:
        await press.query.answer()
        await send_html(
            context,
            press.chat_id,
            catalog.raw("zh", "choose_language"),
            keyboards.languages(catalog),
        )
        return True
    if press.data.arg not in ("zh", "en"):
        return False
    lang: Lang = "zh" if press.data.arg == "zh" else "en"
    await context.services.members.choose_lang(identity(press.user), lang)
    await press.query.answer(catalog.t(lang, "language_set"))
    await send_html(
        context,
        press.chat_id,
        catalog.t(lang, "language_set") + "\n" + catalog.t(lang, "menu_prompt"),
        keyboards.topics(catalog, lang),
    )
    return True


async def _cb_topic(press: Press, context: Context) -> bool:
    category = next((c for c in CATEGORIES if c == press.data.arg), None)
    if category is None:
        return False
    catalog, lang = context.services.catalog, press.profile.lang
    items = context.services.engine.kb.in_category(category)
    await press.query.answer()
    if not items:
        await send_html(context, press.chat_id, catalog.t(lang, "topic_empty"))
        return True
    topic = catalog.raw(lang, f"topic_{category}")
    await send_html(
        context,
        press.chat_id,
        catalog.t(lang, "topic_list", topic=topic),
        keyboards.entries(catalog, lang, items),
    )
    return True


async def _cb_faq(press: Press, context: Context) -> bool:
    services = context.services
    entry = services.engine.kb.get(press.data.arg)
    if entry is None:
        return False
    lang = press.profile.lang
    view_id = await services.questions.record_view(press.profile.id, entry.id, "browse", lang)
    await press.query.answer()
    answer = services.engine.render_answer(entry.id, lang)
    await _send_answer(context, press.chat_id, lang, entry, answer, view_id)
    return True


async def _cb_solved(press: Press, context: Context) -> bool:
    view_id = press.data.int_arg()
    if view_id is None:
        return False
    questions = context.services.questions
    result = await questions.feedback(press.profile.id, view_id, Feedback.SOLVED)
    if result is FeedbackResult.NOT_FOUND:
        return False
    key = "feedback_thanks" if result is FeedbackResult.RECORDED else "feedback_already"
    await press.query.answer(context.services.catalog.t(press.profile.lang, key))
    return True


async def _cb_expert_from_view(press: Press, context: Context) -> bool:
    services, profile = context.services, press.profile
    view_id = press.data.int_arg()
    view = await services.questions.view(profile.id, view_id) if view_id is not None else None
    if view is None:
        return False
    await services.questions.feedback(profile.id, view.id, Feedback.EXPERT)
    entry = services.engine.kb.get(view.faq_id)
    question = (
        await services.questions.question(profile.id, view.question_id)
        if view.question_id is not None
        else None
    )
    if question is not None:
        text = question.text
    else:
        text = entry.title[profile.lang] if entry else view.faq_id
    category = entry.category if entry else "general"
    return await _open_ticket(press, context, category, text, view.faq_id, view.question_id)


async def _cb_expert_from_question(press: Press, context: Context) -> bool:
    question_id = press.data.int_arg()
    questions = context.services.questions
    question = (
        await questions.question(press.profile.id, question_id)
        if question_id is not None
        else None
    )
    if question is None:
        return False
    category = question.category or "general"
    return await _open_ticket(
        press, context, category, question.text, question.faq_id, question.id
    )


async def _open_ticket(
    press: Press,
    context: Context,
    category: str,
    text: str,
    faq_id: str | None,
    question_id: int | None,
) -> bool:
    services, profile = context.services, press.profile
    ticket = await services.tickets.open(
        profile.id,
        lang=profile.lang,
        category=category,
        question=text,
        faq_id=faq_id,
        question_id=question_id,
    )
    # Says "recorded (number)", then completes the profile or names the expert.
    await dialogue.escalate(context, press.query, press.chat_id, profile, ticket)
    return True


Handler = Callable[[Press, Context], Awaitable[bool]]

_CALLBACKS: dict[str, Handler] = {
    Cb.MENU: _cb_menu,
    Cb.LANG: _cb_lang,
    Cb.TOPIC: _cb_topic,
    Cb.FAQ: _cb_faq,
    Cb.SOLVED: _cb_solved,
    Cb.EXPERT_FROM_VIEW: _cb_expert_from_view,
    Cb.EXPERT_FROM_QUESTION: _cb_expert_from_question,
}

UNSUPPORTED_KEYS = {
    "sticker": "unsupported_sticker",
    "voice": "unsupported_voice",
    "audio": "unsupported_voice",
    "video_note": "unsupported_voice",
    "location": "unsupported_location",
    "venue": "unsupported_location",
    "contact": "unsupported_contact",
    "photo": "unsupported_media",
    "document": "unsupported_media",
    "video": "unsupported_media",
    "animation": "unsupported_media",
}


async def on_unsupported(update: Update, context: Context) -> None:
    """Non-text messages get a short explanation instead of silence."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or update.effective_user is None:
        return
    profile = await profile_of(update, context)
    key = next(
        (k for attr, k in UNSUPPORTED_KEYS.items() if getattr(message, attr, None)),
        "unsupported_other",
    )
    await send_html(context, chat.id, context.services.catalog.t(profile.lang, key))
