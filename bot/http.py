"""python-telegram-bot's requests over aiohttp instead of httpx.

Measured with bench/bench_e2e.py, sending through httpx cost the bot about a quarter of its CPU
per message: httpcore scans every pooled connection with a readability check for each request
and, without the optional sniffio package, attempts a failing import on every request. aiohttp
(already a dependency: the webhook server and the emulator use it) sends the same form-encoded
or multipart bodies for a fraction of that. A proxy (TELEGRAM_PROXY, socks included) keeps PTB's
own HTTPXRequest, which supports it.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT_TIMEOUT = 5.0
_DEFAULT_POOL_TIMEOUT = 1.0
_MEDIA_WRITE_TIMEOUT = 20.0


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout argument as PTB passes it: a number, None (no limit), or DEFAULT_NONE."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return default  # BaseRequest.DEFAULT_NONE: this request's default


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` on one :class:`aiohttp.ClientSession`.

    Timeouts mean what they mean for PTB's HTTPXRequest: ``connect`` to open a connection,
    ``read`` between bytes of the answer, ``pool`` to wait for a free pooled connection (the
    request is then not sent: :class:`~telegram.error.TimedOut`); ``write`` has no separate
    limit in aiohttp and bounds the whole request together with the others.
    """

    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 64,
        *,
        read_timeout: float | None = _DEFAULT_TIMEOUT,
        write_timeout: float | None = _DEFAULT_TIMEOUT,
        connect_timeout: float | None = _DEFAULT_TIMEOUT,
        pool_timeout: float | None = _DEFAULT_POOL_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | dict[str, str] | None = fields
        write_default = _MEDIA_WRITE_TIMEOUT if files else self._write_timeout
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        read = _seconds(read_timeout, self._read_timeout)
        write = _seconds(write_timeout, write_default)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        limits = [t for t in (read, write, connect, pool) if t is not None]
        timeout = aiohttp.ClientTimeout(
            # Everything together can't take longer than all limits added up.
            total=sum(limits) if len(limits) == 4 else None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as res:
                return res.status, await res.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name helps when the message is empty (as PTB does for httpx).
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
