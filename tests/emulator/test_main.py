"""``python -m bot.emulator`` runs the emulator standalone and prints its URL."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import aiohttp

from bot.emulator.__main__ import build_parser


def test_default_arguments() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.token, args.no_privacy) == ("127.0.0.1", 8081, None, False)


async def test_standalone_process_serves_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.emulator",
        "--port",
        "0",
        "--token",
        "42:standalone",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first_line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)$", first_line.strip())
        assert match, first_line
        base_url = match.group(1)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base_url}/bot42:standalone/getMe") as response,
        ):
            me = await response.json()
        assert me["ok"] is True
        assert me["result"]["id"] == 42
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
