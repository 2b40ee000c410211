"""A local Telegram Bot API emulator for end-to-end tests, benchmarks and ``ipdesk shell``.

The real bot (python-telegram-bot) talks to it instead of api.telegram.org::

    async with run_emulator() as emu:
        bot = Bot(token, base_url=emu.bot_base_url, base_file_url=emu.file_base_url)
        async with EmulatorClient(emu.base_url) as users:
            ...

``python -m bot.emulator --port 8081`` runs it standalone.
"""

from bot.emulator.client import (
    ApiCall,
    BotMessage,
    CallbackRecord,
    CommandSet,
    EmulatorClient,
    EmulatorError,
    EmulatorTimeoutError,
    InlineButton,
    tiny_png,
)
from bot.emulator.server import RunningEmulator, create_app, run_emulator
from bot.emulator.state import ControlError, EmulatorState
from bot.emulator.validation import ApiError

__all__ = [
    "ApiCall",
    "ApiError",
    "BotMessage",
    "CallbackRecord",
    "CommandSet",
    "ControlError",
    "EmulatorClient",
    "EmulatorError",
    "EmulatorState",
    "EmulatorTimeoutError",
    "InlineButton",
    "RunningEmulator",
    "create_app",
    "run_emulator",
    "tiny_png",
]
