"""`ipdesk shell`: chat with the real bot in this terminal through the local emulator.

The bot runs exactly as `ipdesk run` would (same application factory, handlers, database),
only pointed at an in-process Telegram Bot API emulator. No token or network needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass, field

from bot.emulator import EmulatorState, run_emulator
from bot.emulator.client import BotMessage, EmulatorClient, EmulatorError, InlineButton
from bot.settings import Settings

log = logging.getLogger(__name__)

SHELL_TOKEN = "4242:local-shell"  # noqa: S105 - the emulator accepts any token
STAFF_GROUP_ID = -1001000000001
LOG_NAME = "ipdesk-shell.log"

HELP = """\
Type a message and press Enter to send it as the member.
  <number>       press the button with that number (of the latest message with buttons)
  :user ID       play another Telegram user (e.g. an expert or staff member)
  :staff         talk in the staff group (as the current user);  :private  back to the bot chat
  :help          this help          :quit (or Ctrl-D)  leave
"""


@dataclass
class ShellState:
    user_id: int
    chat_id: int
    buttons: list[tuple[int, InlineButton]] = field(default_factory=list)
    cursor: dict[int, int] = field(default_factory=dict)


def _render(message: BotMessage, state: ShellState) -> str:
    head = "✏️ (edited) " if message.edited else ""
    if message.deleted:
        return f"🗑  message {message.message_id} deleted"
    body = message.body
    if message.photo:
        body = "[photo] " + body
    elif message.document:
        body = f"[document {message.document.get('file_name', '')}] " + body
    lines = [f"🤖 {head}{body}"]
    if message.buttons:
        state.buttons = [(message.message_id, b) for b in message.buttons]
        for number, (_, button) in enumerate(state.buttons, start=1):
            lines.append(f"   [{number}] {button.text}")
    return "\n".join(lines)


async def _follow(client: EmulatorClient, state: ShellState, stop: asyncio.Event) -> None:
    """Print what the bot sends (and edits) in the chat being played, as it happens."""
    while not stop.is_set():
        chat_id = state.chat_id
        since = state.cursor.get(chat_id, 0)
        try:
            cursor, changes = await client.wait_for_changes(chat_id, since=since, timeout=1.0)
        except EmulatorError:
            await asyncio.sleep(0.2)
            continue
        state.cursor[chat_id] = cursor
        for message in changes:
            if message.from_bot:
                print(_render(message, state), flush=True)


async def _read_line() -> str | None:
    line = await asyncio.to_thread(sys.stdin.readline)
    return None if line == "" else line.rstrip("\n")


async def _handle(line: str, client: EmulatorClient, state: ShellState) -> bool:
    """Act on one input line; False to quit."""
    text = line.strip()
    if text in (":quit", ":q", ":exit"):
        return False
    if text == ":help":
        print(HELP)
    elif text.startswith(":user"):
        _, _, arg = text.partition(" ")
        if not arg.strip().isdigit():
            print("usage: :user 10002")
            return True
        state.user_id = int(arg)
        with contextlib.suppress(EmulatorError):
            await client.create_user(state.user_id, f"User {state.user_id}", language_code="zh")
        if state.chat_id > 0:
            state.chat_id = state.user_id
        print(f"(now playing user {state.user_id})")
    elif text == ":staff":
        state.chat_id = STAFF_GROUP_ID
        with contextlib.suppress(EmulatorError):
            await client.set_member_status(STAFF_GROUP_ID, state.user_id, by_user_id=state.user_id)
        print("(now in the staff group)")
    elif text == ":private":
        state.chat_id = state.user_id
        print("(now in the private chat with the bot)")
    elif text.isdigit() and state.buttons:
        number = int(text)
        if not 1 <= number <= len(state.buttons):
            print(f"no button {number}; there are {len(state.buttons)}")
            return True
        message_id, button = state.buttons[number - 1]
        press = await client.press_button(
            state.user_id, message_id, data=button.callback_data, chat_id=state.chat_id
        )
        with contextlib.suppress(EmulatorError):  # a button may answer with a toast only
            answer = await client.wait_for_callback_answer(press.query_id, timeout=5)
            if answer.text:
                print(f"ℹ️  {answer.text}", flush=True)
    else:
        await client.send_text(
            state.user_id, line, chat_id=state.chat_id if state.chat_id < 0 else None
        )
    return True


async def _main(settings: Settings, as_user: int, lang: str) -> int:
    emulator_state = EmulatorState(privacy_mode=False)
    async with run_emulator(state=emulator_state) as emu:
        shell_settings = settings.model_copy(
            update={
                "telegram_api_base_url": emu.bot_base_url,
                "telegram_api_file_url": emu.file_base_url,
                "staff_chat_id": STAFF_GROUP_ID,
                "webhook_url": None,
            }
        )
        from bot.app import build_application

        app = build_application(shell_settings, token=SHELL_TOKEN)
        async with EmulatorClient(emu.base_url) as client:
            await client.create_user(as_user, "访客", language_code=lang)
            await client.create_group(
                "协会秘书处 Staff", chat_id=STAFF_GROUP_ID, member_ids=(as_user,)
            )
            await client.add_bot_to_group(STAFF_GROUP_ID, as_user, as_admin=True)
            await app.initialize()
            if app.post_init is not None:
                await app.post_init(app)
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=5)
            await app.start()
            state = ShellState(user_id=as_user, chat_id=as_user)
            stop = asyncio.Event()
            follower = asyncio.create_task(_follow(client, state, stop))
            print("ipdesk shell — the real bot on a local Telegram emulator. :help for help.")
            print(f"(playing user {as_user}; database: {shell_settings.database_label})")
            await client.send_text(as_user, "/start")
            try:
                while (line := await _read_line()) is not None:
                    if not await _handle(line, client, state):
                        break
            finally:
                stop.set()
                await follower
                await app.updater.stop()
                await app.stop()
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)
                await app.shutdown()
    return 0


def main(settings: Settings, *, as_user: int, lang: str) -> int:
    from bot.runner import configure_logging

    # The terminal belongs to the conversation; the bot's log goes to a file.
    configure_logging(str(settings.ipdesk_home / LOG_NAME), secrets=settings.secrets())
    try:
        return asyncio.run(_main(settings, as_user, lang))
    except KeyboardInterrupt:
        return 130
