"""Roster and roles in Telegram (admins; /experts also for staff).

* ``/experts`` — the roster with each expert's open tickets (staff and admins);
* ``/expert_add`` followed, on the next lines, by one entry in the roster file's YAML format
  (``tests/data/experts.example.yaml``), validated the same way as ``ipdesk experts import``;
* ``/expert_off KEY`` / ``/expert_on KEY`` — stop / resume new assignments to an expert;
* ``/role USER_ID staff|expert|member|admin``.

The services check that the actor is an admin; these handlers only parse and render.
"""

from __future__ import annotations

import yaml
from telegram import Message, Update

from bot.context import Context
from bot.services.errors import NotAllowed
from bot.services.experts import RosterError, validate_entry
from bot.services.roles import is_staff
from db.models import Role
from faq.models import Lang
from handlers import cards, staff
from handlers.common import command_args, profile_of, send_chunks, send_html


async def _begin(update: Update, context: Context) -> tuple[Message, int, int, Lang]:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        raise NotAllowed("no user")
    await profile_of(update, context)
    return message, chat.id, user.id, await staff.chat_lang(context, chat.id, user.id)


async def _say(context: Context, chat_id: int, text: str, reply_to: int) -> None:
    await send_html(context, chat_id, text, reply_to=reply_to)


async def experts_command(update: Update, context: Context) -> None:
    message, chat_id, user_id, lang = await _begin(update, context)
    services = context.services
    if not is_staff(await services.roles.role_of(user_id)):
        raise NotAllowed("the roster is for staff")
    experts = await services.experts.list()
    counts = await services.experts.open_ticket_counts()
    chunks = cards.experts_text(services.catalog, lang, experts, counts)
    await send_chunks(context, chat_id, chunks, reply_to=message.message_id)


async def expert_add_command(update: Update, context: Context) -> None:
    message, chat_id, user_id, lang = await _begin(update, context)
    services = context.services
    catalog = services.catalog
    _, _, body = (message.text or "").partition("\n")
    if not body.strip():
        await _say(context, chat_id, catalog.t(lang, "tk_usage_expert_add"), message.message_id)
        return
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        raise RosterError(["not valid YAML"]) from None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    spec, problems = validate_entry(data)
    if spec is None:
        raise RosterError(problems)
    info = await services.experts.add(user_id, spec)
    await _say(
        context,
        chat_id,
        catalog.t(
            lang, "tk_expert_added", key=info.key, name=cards.expert_label(catalog, lang, info)
        ),
        message.message_id,
    )


async def _set_active(update: Update, context: Context, active: bool) -> None:
    message, chat_id, user_id, lang = await _begin(update, context)
    services = context.services
    key, rest = command_args(message)
    usage = "tk_usage_expert_on" if active else "tk_usage_expert_off"
    if not key or rest:
        await _say(context, chat_id, services.catalog.t(lang, usage), message.message_id)
        return
    info = await services.experts.set_active(user_id, key, active)
    open_count = (await services.experts.open_ticket_counts()).get(info.id, 0)
    text = services.catalog.t(
        lang,
        "tk_expert_on" if active else "tk_expert_off",
        key=info.key,
        name=info.name(lang),
        open=open_count,
    )
    await _say(context, chat_id, text, message.message_id)


async def expert_on_command(update: Update, context: Context) -> None:
    await _set_active(update, context, True)


async def expert_off_command(update: Update, context: Context) -> None:
    await _set_active(update, context, False)


async def role_command(update: Update, context: Context) -> None:
    message, chat_id, user_id, lang = await _begin(update, context)
    services = context.services
    target, role_name = command_args(message)
    roles = {r.value: r for r in Role}
    if not target.isdigit() or role_name.lower() not in roles:
        await _say(context, chat_id, services.catalog.t(lang, "tk_usage_role"), message.message_id)
        return
    change = await services.roles.set_role(user_id, int(target), roles[role_name.lower()])
    await _say(
        context,
        chat_id,
        services.catalog.t(
            lang, "tk_role_set", user=change.user_id, old=change.old.value, new=change.new.value
        ),
        message.message_id,
    )
