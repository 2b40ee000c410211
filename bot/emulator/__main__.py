"""``python -m bot.emulator --host 127.0.0.1 --port 8081``: run the emulator standalone.

Prints the URLs on the first lines of standard output, then serves until Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from bot.emulator.server import run_emulator
from bot.emulator.state import EmulatorState


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.emulator", description="Local Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0: any free port)")
    parser.add_argument("--token", help="accept only this bot token (default: any)")
    parser.add_argument("--bot-username", default="ipdesk_test_bot")
    parser.add_argument("--bot-name", default="IPDesk (emulated)")
    parser.add_argument(
        "--no-privacy",
        action="store_true",
        help="the bot receives every group message (privacy mode off)",
    )
    parser.add_argument(
        "--strict-html-entities",
        action="store_true",
        help="refuse unknown &entities; in HTML (Telegram keeps them as text)",
    )
    return parser


async def serve(args: argparse.Namespace) -> None:
    state = EmulatorState(
        token=args.token,
        bot_username=args.bot_username,
        bot_first_name=args.bot_name,
        privacy_mode=not args.no_privacy,
        strict_html_entities=args.strict_html_entities,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with run_emulator(args.host, args.port, state=state) as emu:
        sys.stdout.write(
            f"Telegram Bot API emulator on {emu.base_url}\n"
            f"  base_url:      {emu.bot_base_url}\n"
            f"  base_file_url: {emu.file_base_url}\n"
            f"  control API:   {emu.base_url}/_emu/\n"
        )
        sys.stdout.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        sys.stderr.write(f"emulator: cannot listen on {args.host}:{args.port}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
