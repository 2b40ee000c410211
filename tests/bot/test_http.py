"""bot/http.py: python-telegram-bot's requests over aiohttp, against a local HTTP server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.http import AiohttpRequest


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, object]], asyncio.Event]]:
    """A server that records what it was sent; /slow answers only once released."""
    seen: list[dict[str, object]] = []
    release = asyncio.Event()

    async def record(request: web.Request) -> web.Response:
        form = await request.post()
        fields: dict[str, object] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                fields[name] = (value.filename, value.file.read())
            else:
                fields[name] = value
        seen.append(
            {"type": request.content_type, "agent": request.headers["User-Agent"], **fields}
        )
        return web.json_response({"ok": True, "result": True})

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot/record", record)
    app.router.add_post("/bot/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/bot", seen, release
    finally:
        release.set()
        await runner.cleanup()


async def test_parameters_are_form_encoded_as_with_httpx(
    server: tuple[str, list[dict[str, object]], asyncio.Event],
) -> None:
    base, seen, _ = server
    data = RequestData(
        [
            RequestParameter("chat_id", 42, []),
            RequestParameter("text", "你好 <b>", []),
            RequestParameter("reply_markup", {"inline_keyboard": [[]]}, []),
        ]
    )
    async with AiohttpRequest() as request:
        result = await request.post(f"{base}/record", data)
    assert result is True
    (got,) = seen
    assert got["type"] == "application/x-www-form-urlencoded"
    assert str(got["agent"]).startswith("python-telegram-bot")
    assert got["chat_id"] == "42"
    assert got["text"] == "你好 <b>"
    assert json.loads(str(got["reply_markup"])) == {"inline_keyboard": [[]]}


async def test_a_file_goes_as_multipart(
    server: tuple[str, list[dict[str, object]], asyncio.Event],
) -> None:
    base, seen, _ = server
    upload = InputFile(b'{"a": 1}', filename="mydata.json")
    data = RequestData(
        [RequestParameter("chat_id", 7, []), RequestParameter.from_input("document", upload)]
    )
    async with AiohttpRequest() as request:
        await request.post(f"{base}/record", data)
    (got,) = seen
    assert got["type"] == "multipart/form-data"
    assert got["chat_id"] == "7"
    assert got["document"] == ("mydata.json", b'{"a": 1}')


async def test_a_silent_server_is_a_timeout_and_a_closed_port_a_network_error(
    server: tuple[str, list[dict[str, object]], asyncio.Event],
) -> None:
    base, _, _ = server
    async with AiohttpRequest(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{base}/slow")
        with pytest.raises(NetworkError):
            await request.post("http://127.0.0.1:9/bot/record")  # discard port: refused


async def test_not_initialised_is_refused() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:9/", "POST")
