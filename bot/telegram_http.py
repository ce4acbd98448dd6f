"""PTB's requests to the Bot API over aiohttp instead of httpx.

PTB's own `HTTPXRequest` runs every request through httpx, httpcore, h11, anyio
and sniffio; on our Bot API emulator that stack was about a third of the bot's
CPU per update. aiohttp is already here (the webhook server, the sandbox), and
its client does the same work with far fewer layers.

Semantics follow `HTTPXRequest.do_request`, which PTB's `BaseRequest` expects:

* the body is form-encoded `RequestData.json_parameters`, or multipart with
  `RequestData.multipart_data` when files are uploaded;
* the answer is `(status code, body bytes)` whatever the status: PTB reads
  Telegram's errors from the body itself;
* timeouts raise `telegram.error.TimedOut`, other transport failures
  `telegram.error.NetworkError`.

Not supported, unlike `HTTPXRequest`: proxies (explicit or from `HTTPS_PROXY`
and friends: aiohttp's session ignores the environment by default), HTTP/2 and
socket options. The bot talks to the Bot API directly; nothing of ours set them.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = "application/x-www-form-urlencoded"
Timeouts = tuple[float | None, float | None, float | None, float | None]


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession`, opened by `initialize()`.

    The arguments mean what they mean for `HTTPXRequest`; `ssl_context` is the
    TLS context for https URLs (None: aiohttp's default verification).
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_shut",
        "_ssl",
        "_timeouts",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        # After shutdown() a request is a bug (as with HTTPXRequest), not a reason to
        # open a session nobody will close.
        self._shut = False
        # Requests use a handful of timeout combinations; building ClientTimeout once each.
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    def _open(self) -> aiohttp.ClientSession:
        # The connector and session bind to the running loop, so they are made here and
        # not in __init__ (PTB builds requests before any loop runs).
        connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=self._ssl or True)
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": self.USER_AGENT}
        )
        self._shut = False
        return self._session

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._open()

    async def shutdown(self) -> None:
        # PTB may shut down one request twice (one object as request and get_updates_request).
        self._shut = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(timeouts)
        if found is None:
            read, write, connect, pool = timeouts
            # aiohttp's `connect` covers waiting for a pooled connection and opening
            # one; `sock_connect` the opening alone; `sock_read` each wait for bytes
            # (getUpdates' long poll included: PTB adds its `timeout` to read_timeout).
            # aiohttp has no write timeout: `total`, the sum of all four, bounds a
            # write that never drains. Unlike httpx that caps a whole transfer, which
            # only a large download would notice; the bot downloads nothing and
            # uploads small charts, CSV and .ics files.
            parts = (read, write, connect, pool)
            found = aiohttp.ClientTimeout(
                total=None if None in parts else sum(p for p in parts if p is not None),
                connect=None if connect is None or pool is None else connect + pool,
                sock_connect=connect,
                sock_read=read,
            )
            self._timeouts[timeouts] = found
        return found

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            if self._shut:
                raise RuntimeError("This AiohttpRequest is not initialized!")
            session = self._open()

        files = request_data.multipart_data if request_data is not None else None
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if files else self._write_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        timeout = self._timeout((read_timeout, write_timeout, connect_timeout, pool_timeout))

        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            fields = request_data.json_parameters
            if files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in fields.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            elif fields:
                data = urlencode(fields).encode()
                headers = {"Content-Type": FORM}

        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            # aiohttp's own timeout errors are TimeoutErrors too, and come first here.
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name helps when the message is empty, as HTTPXRequest does.
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
