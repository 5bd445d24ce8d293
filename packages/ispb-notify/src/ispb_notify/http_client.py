"""A small HTTP/1.1 client for gateway APIs: keep-alive connections, TLS, timeouts, bounded answers.

Kept after measuring aiohttp against it (issue 11, figures in README.md): on ``tests/bench/notify_reminders.py``
the same sender delivered about half as many messages a second through aiohttp, at twice the CPU per message.

Why not httpx: the sender pushes thousands of short requests a second to one or two gateways, and httpx costs
about 1 ms of CPU per request here, its connection pool scanning every pooled connection for every request
(quadratic with the 50 keep-alive connections a busy sender holds). This client does what gateway calls need
and nothing more, at a tenth of the CPU (``tests/bench/notify_reminders.py``):

- HTTP/1.1 over TCP or TLS (certificates verified with the system's CA store, or a given ``ssl.SSLContext``);
- keep-alive: up to ``max_connections`` per origin, idle ones reused for ``keepalive_expiry`` seconds, never a
  connection the server has closed or one whose answer was not read to its end;
- answers with Content-Length, chunked, or read to the end of the connection, up to ``max_body`` bytes; an
  answer whose length is ambiguous (Content-Length repeated or a list, Content-Length with Transfer-Encoding, a
  coding other than chunked last) is refused, as are more than ``_MAX_HEADERS`` headers or ``_MAX_HEAD`` bytes
  of them (the parser is fuzzed with hypothesis: ``tests/test_ispb_notify_http_client.py``);
- one deadline for the whole exchange (connect, send, answer): `HttpTimeout`;
- only the addresses an `OutboundPolicy` allows (public ones by default), checked after DNS resolution for
  every new connection, which then goes to the checked address itself: `OutboundRefused` otherwise;
- no redirects (a gateway URL that redirects is a configuration to fix, and following one could resend an
  SMS elsewhere), no proxies, no compression (it asks for ``identity``), no cookies.

A request is never sent twice by this client: a failure surfaces as `HttpTransportError` and the caller's
retry policy (the outbox, with its de-duplicating reference) decides.
"""

import asyncio
import base64
import json
import re
import ssl
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from time import monotonic
from types import TracebackType
from typing import Any, Self
from urllib.parse import SplitResult, quote, unquote, urlencode, urlsplit

from ispb_notify.outbound import OutboundPolicy

__all__ = ("HttpClient", "HttpProtocolError", "HttpResponse", "HttpTimeout", "HttpTransportError")

_MAX_HEAD = 64 * 1024
_MAX_HEADERS = 100
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP method or header name (RFC 9110 5.6.2)
_HEX = re.compile(r"[0-9A-Fa-f]{1,16}")
_SAFE = "/%:@!$&'()*+,;=-._~"  # what stays as it is in a path or query: reserved characters and escapes
try:  # the installed package's own version, so a gateway's logs say which client sent a request
    _USER_AGENT = f"ispb-notify/{version('ispb-notify')}"
except PackageNotFoundError:  # imported from a source tree that is not installed
    _USER_AGENT = "ispb-notify"


class HttpTransportError(Exception):
    """The exchange failed below HTTP: refused or reset connection, TLS failure, unreadable answer."""


class HttpTimeout(HttpTransportError):
    """No complete answer within the deadline."""


class HttpProtocolError(HttpTransportError):
    """The server answered something that is not acceptable HTTP/1.x (or too large)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: Mapping[str, str] = field(repr=False)  # names in lower case; repeated headers joined by ", "
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        """The body decoded with the charset the server named (UTF-8 when none), bad bytes replaced."""
        charset = "utf-8"
        kind = self.headers.get("content-type", "")
        if "charset" in kind.lower():  # parsed only when named: this runs for every gateway answer
            header = Message()
            header["content-type"] = kind
            charset = header.get_content_charset() or charset
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not."""
        return json.loads(self.body)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing() or now - self.idle_since > expiry)

    def close(self) -> None:
        self.writer.close()


class _Origin:
    """The connections to one (scheme, host, port): a bound on how many, and the idle ones."""

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.idle: deque[_Connection] = deque()


class Closing(ABC):
    """Closed by ``aclose`` or by leaving ``async with``."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the object holds (connections); safe to call more than once."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


class HttpClient(Closing):
    """Keep-alive HTTP/1.1 requests; ``aclose`` (or leaving ``async with``) closes the idle connections."""

    def __init__(
        self,
        *,
        max_connections: int = 50,
        keepalive_expiry: float = 5.0,
        max_body: int = 1024 * 1024,
        ssl_context: ssl.SSLContext | None = None,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.max_body = max_body
        self._ssl = ssl_context
        self.policy = policy if policy is not None else OutboundPolicy()
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._closed = False

    async def aclose(self) -> None:
        self._closed = True
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.popleft().close()

    async def request(
        self,
        method: str,
        url: str,
        *,
        seconds: float,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: object = None,
        form: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        """One request and its whole answer within ``seconds``; raises `OutboundRefused` (the policy refuses every
        address of the host: nothing was sent), `HttpTimeout`, `HttpTransportError`, `HttpProtocolError`, or
        ``ValueError`` for a request that cannot be written (bad URL or method, CR/LF in a header)."""
        if self._closed:
            raise RuntimeError("this HttpClient is closed")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        if not _TOKEN.fullmatch(method):
            raise ValueError(f"the method {method!r} cannot be sent (letters and digits only)")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        request = _request_bytes(method, parts, params, headers, json_body, form, basic_auth)

        key = (parts.scheme, parts.hostname, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(self.max_connections)
        try:
            async with asyncio.timeout(seconds):
                async with origin.slots:
                    return await self._exchange(origin, key, request, method == "HEAD")
        except TimeoutError as error:
            raise HttpTimeout(f"no answer within {seconds:g} s") from error

    async def _exchange(self, origin: _Origin, key: tuple[str, str, int], request: bytes, head: bool) -> HttpResponse:
        connection = self._idle(origin)
        if connection is None:
            connection = await self._connect(key)
        reusable = False
        try:
            connection.writer.write(request)
            await connection.writer.drain()
            response, reusable = await self._read_response(connection.reader, head)
            return response
        except (OSError, asyncio.IncompleteReadError) as error:
            raise HttpTransportError(f"the connection failed: {error or type(error).__name__}") from error
        except ValueError as error:  # a line over the stream's limit
            raise HttpProtocolError(f"the answer has a line over {_MAX_HEAD} bytes") from error
        finally:  # a cancelled or failed exchange leaves the connection in an unknown state: never reuse it
            if reusable and not self._closed:
                connection.idle_since = monotonic()
                origin.idle.append(connection)
            else:
                connection.close()

    def _idle(self, origin: _Origin) -> _Connection | None:
        now = monotonic()
        while origin.idle:
            connection = origin.idle.pop()  # the most recently used: the least likely to be timed out
            if connection.usable(now, self.keepalive_expiry):
                return connection
            connection.close()
        return None

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        context = None
        if scheme == "https":
            context = self._ssl or _default_ssl()
        try:
            addresses = await self.policy.resolve(host, port)  # raises OutboundRefused
        except OSError as error:
            raise HttpTransportError(f"cannot find {host}: {error.strerror or error}") from error
        failure: OSError | None = None
        for address in addresses:  # the checked addresses themselves: a second lookup could answer otherwise
            try:
                reader, writer = await asyncio.open_connection(
                    address, port, ssl=context, server_hostname=host if context else None, limit=_MAX_HEAD
                )
            except ssl.SSLError as error:
                raise HttpTransportError(f"TLS with {host}:{port} failed: {error.reason or error}") from error
            except OSError as error:
                failure = error
                continue
            return _Connection(reader, writer)
        assert failure is not None  # resolve() returns at least one address
        raise HttpTransportError(f"cannot connect to {host}:{port}: {failure.strerror or failure}") from failure

    async def _read_response(self, reader: asyncio.StreamReader, head: bool) -> tuple[HttpResponse, bool]:
        while True:
            status_line = await reader.readline()
            if not status_line:
                raise HttpTransportError("the server closed the connection without answering")
            version, status, reason = _status(status_line)
            headers = await _headers(reader)
            if not 100 <= status < 200 or status == 101:
                break  # 1xx interim answers (100 Continue, 103 Early Hints) come before the real one
        keep_alive = _keep_alive(version, headers)
        framing = _framing(headers)
        if head or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif framing == "chunked":
            body = await self._chunked(reader)
        elif isinstance(framing, int):
            length = framing
            if length > self.max_body:
                raise HttpProtocolError(f"an answer of {length} bytes is over the {self.max_body} byte limit")
            body = await reader.readexactly(length)
        else:  # delimited by the end of the connection
            body = await reader.read(self.max_body + 1)
            while len(body) <= self.max_body and (more := await reader.read(self.max_body + 1 - len(body))):
                body += more
            if len(body) > self.max_body:
                raise HttpProtocolError(f"the answer is over the {self.max_body} byte limit")
            keep_alive = False
        return HttpResponse(status, reason, headers, body), keep_alive

    async def _chunked(self, reader: asyncio.StreamReader) -> bytes:
        body = bytearray()
        while True:
            size_line = await reader.readline()
            digits = size_line.split(b";")[0].strip().decode("latin-1")
            if not _HEX.fullmatch(digits):  # int(x, 16) would also take "0x1f", "+1f" and "1_f"
                raise HttpProtocolError(f"bad chunk size {size_line[:40]!r}")
            size = int(digits, 16)
            if size == 0:
                await _headers(reader)  # trailers, then the blank line
                return bytes(body)
            if len(body) + size > self.max_body:
                raise HttpProtocolError(f"the answer is over the {self.max_body} byte limit")
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise HttpProtocolError("a chunk does not end with CRLF")


def _request_bytes(
    method: str,
    parts: SplitResult,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    json_body: object,
    form: Mapping[str, str] | None,
    basic_auth: tuple[str, str] | None,
) -> bytes:
    """The request as it goes on the wire; ``ValueError`` for what cannot be sent."""
    target = quote(parts.path or "/", safe=_SAFE)
    # the URL's own query as typed (escapes kept, anything else non-ASCII escaped), then ``params``
    query = "&".join(q for q in (quote(parts.query, safe=_SAFE + "?"), urlencode(params or {})) if q)
    if query:
        target += "?" + query
    body = b""
    content_type = None
    if json_body is not None:
        body, content_type = json.dumps(json_body, ensure_ascii=False).encode(), "application/json"
    elif form is not None:
        body, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc.rpartition('@')[2]}"]
    lines += [f"User-Agent: {_USER_AGENT}", "Accept-Encoding: identity"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    if basic_auth is None and parts.username is not None:  # http://user:password@host/ means basic auth
        basic_auth = (unquote(parts.username), unquote(parts.password or ""))
    if basic_auth is not None:
        lines.append("Authorization: Basic " + base64.b64encode(":".join(basic_auth).encode()).decode())
    for name, value in (headers or {}).items():
        if any(c in value for c in "\r\n\0") or not _TOKEN.fullmatch(name):
            raise ValueError(f"the header {name!r} cannot be sent (a name of letters and digits, one line)")
        lines.append(f"{name}: {value}")
    if any(c in target for c in "\r\n "):
        raise ValueError(f"the URL {parts.geturl()!r} has spaces or line breaks")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@cache
def _default_ssl() -> ssl.SSLContext:
    """One context per process: loading the system's CA store is slow."""
    return ssl.create_default_context()


def _status(line: bytes) -> tuple[str, int, str]:
    try:
        version, status, *reason = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if version not in ("HTTP/1.0", "HTTP/1.1") or not (len(status) == 3 and status.isascii() and status.isdigit()):
            raise ValueError(version)
        return version, int(status), reason[0] if reason else ""
    except ValueError as error:
        raise HttpProtocolError(f"not an HTTP/1.x answer: {line[:60]!r}") from error


async def _headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    size = count = 0
    while (line := await reader.readline()) not in (b"\r\n", b"\n"):
        if not line:
            raise HttpTransportError("the server closed the connection in the middle of its answer")
        size, count = size + len(line), count + 1
        if size > _MAX_HEAD or count > _MAX_HEADERS:
            raise HttpProtocolError(f"the answer has over {_MAX_HEADERS} headers or {_MAX_HEAD} bytes of them")
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not _TOKEN.fullmatch(name):  # also a folded line (leading space) or a space before ":"
            raise HttpProtocolError(f"bad header line {line[:60]!r}")
        name, value = name.lower(), value.strip()
        if name == "content-length" and name in headers:
            raise HttpProtocolError("the answer has Content-Length twice")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _framing(headers: Mapping[str, str]) -> int | str | None:
    """How the body ends: ``"chunked"``, a Content-Length, or None (at the end of the connection).

    Anything two parsers could read differently (the shapes of response smuggling) is refused: Content-Length
    with Transfer-Encoding, a Content-Length that is a list or not plain digits, a last coding other than
    chunked (this client asks for ``identity``)."""
    length = headers.get("content-length")
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if length is not None:
            raise HttpProtocolError("the answer has both Content-Length and Transfer-Encoding")
        if coding.rsplit(",", 1)[-1].strip().lower() != "chunked":
            raise HttpProtocolError(f"the answer's Transfer-Encoding {coding[:40]!r} does not end with chunked")
        return "chunked"
    if length is None:
        return None
    if not (length.isascii() and length.isdigit() and len(length) <= 18):  # int() would take "+5", "5_0", "٥"
        raise HttpProtocolError(f"bad Content-Length {length[:40]!r}")
    return int(length)


def _keep_alive(version: str, headers: Mapping[str, str]) -> bool:
    tokens = {token.strip() for token in headers.get("connection", "").lower().split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens
