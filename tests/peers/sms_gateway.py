"""An HTTP SMS gateway peer for tests: a real HTTP/1.1 server on 127.0.0.1 that records messages (stdlib only).

It answers like Kannel (``202 Accepted: sms-1``) to GET query strings, POST forms and POST JSON, and fails on
demand so the sender's retries can be tested against real sockets::

    async with SmsGatewayPeer(credentials={"username": "ispb", "password": "s3cret"}) as peer:
        config = preset("kannel", url=peer.url, username="ispb", password="s3cret")
        peer.fail_next(2)            # two HTTP 500s, then success
        ...
        assert [m.text for m in peer.messages] == ["..."]

Controls: ``fail_next(n, status=500)``, ``stall_next(n)`` (accept the request, never answer: the client times
out), ``rate_limit_next(n, retry_after=1)`` (429 with Retry-After), ``down()`` / ``up()`` (stop and start
listening on the same port), ``latency_s`` (every answer waits this long, as a provider's API does: a batch
takes a while, long enough to restart PostgreSQL under it). ``attempts`` holds every request that carried a
message, with the status it got; ``messages`` only those answered 2xx, i.e. what the customer would receive. It
imports nothing from ISPB, so it tests the gateway clients rather than mirroring them. `HttpPeer` is the shared
base of the WhatsApp peer.
"""

import asyncio
import contextlib
import json
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

__all__ = ("Answer", "HttpPeer", "ReceivedMessage", "Request", "SmsGatewayPeer")


@dataclass(frozen=True)
class Request:
    """One HTTP request as received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def fields(self) -> dict[str, Any]:
        """Query, form and JSON object fields together (later ones win)."""
        found: dict[str, Any] = dict(self.query)
        kind = self.headers.get("content-type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            found |= dict(parse_qsl(self.body.decode()))
        elif kind.startswith("application/json") and isinstance(self.json(), dict):
            found |= self.json()
        return found


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the peer was asked to send; ``status`` is what it answered (0: it never answered)."""

    to: str
    text: str
    at: datetime
    status: int
    template: str | None = None
    params: tuple[str, ...] = ()
    request: Request | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpPeer(ABC):
    """A loopback HTTP/1.1 server with scripted faults; subclasses decide what a request means."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.latency_s = 0.0
        self.attempts: list[ReceivedMessage] = []
        self._accepted = 0
        self._faults: deque[tuple[str, float]] = deque()
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[ReceivedMessage]:
        return [message for message in self.attempts if 200 <= message.status < 300]

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self._faults.extend([("fail", status)] * n)

    def stall_next(self, n: int = 1) -> None:
        self._faults.extend([("stall", 0)] * n)

    def rate_limit_next(self, n: int = 1, retry_after: float = 1) -> None:
        self._faults.extend([("rate", retry_after)] * n)

    async def up(self) -> None:
        """Listen (again) on the same port; the first start picks a free one."""
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Stop listening and drop open connections (stalled ones too): clients see connection refused."""
        if self._server is not None:
            self._server.close()
            self._release.set()
            for connection in self._connections:
                connection.cancel()  # idle keep-alive connections wait for a next request that never comes
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server, self._release = None, asyncio.Event()

    async def __aenter__(self) -> Self:
        await self.up()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.down()

    # what subclasses define

    @abstractmethod
    def message_of(self, request: Request) -> ReceivedMessage | Answer:
        """The message a request asks to send (status still 0), or the answer refusing it."""

    @abstractmethod
    def accept(self, message: ReceivedMessage, number: int) -> Answer:
        """The answer to an accepted message, the ``number``-th accepted so far (for provider message ids)."""

    def failure(self, status: int) -> Answer:
        return Answer(status, f"Error {status}")

    def rate_limited(self, retry_after: float) -> Answer:
        return Answer(429, "Too many requests", {"Retry-After": f"{retry_after:g}"})

    # the server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests on one connection until the client closes it or asks to (HTTP/1.1 keep-alive, as
        Kannel and the providers' gateways do); a stalled request ends it unanswered."""
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while (request := await _read_request(reader)) is not None:
                answer = await self._answer(request)
                if answer is None:
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                writer.write(_encode(answer, keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away (e.g. it timed out): nothing to answer
        except asyncio.CancelledError:
            pass  # down(): the connection is dropped
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):  # down() may cancel this wait too
                await writer.wait_closed()

    async def _answer(self, request: Request) -> Answer | None:
        found = self.message_of(request)
        if isinstance(found, Answer):
            return found
        kind, value = self._faults.popleft() if self._faults else ("ok", 0)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if kind == "stall":
            self.attempts.append(_with_status(found, 0))
            await self._release.wait()
            return None
        answer = {"fail": lambda: self.failure(int(value)), "rate": lambda: self.rate_limited(value)}.get(
            kind, lambda: self.accept(found, self._accepted + 1)
        )()
        self._accepted += 200 <= answer.status < 300  # counted, not recounted: 100k messages stay linear
        self.attempts.append(_with_status(found, answer.status))
        return answer


class SmsGatewayPeer(HttpPeer):
    """A Kannel-like SMS gateway: ``to``/``number``/``msisdn`` and ``text``/``message``/``msg`` fields.

    ``credentials`` are fields every request must carry (``403 Authorization failed`` otherwise, as Kannel).
    """

    def __init__(self, port: int = 0, credentials: Mapping[str, str] | None = None) -> None:
        super().__init__(port)
        self.credentials = dict(credentials or {})

    @property
    def url(self) -> str:
        return f"{self.base_url}/cgi-bin/sendsms"

    def message_of(self, request: Request) -> ReceivedMessage | Answer:
        fields = request.fields()
        if any(str(fields.get(name)) != value for name, value in self.credentials.items()):
            return Answer(403, "Authorization failed for sendsms")
        to = next((str(fields[name]) for name in ("to", "number", "msisdn") if name in fields), None)
        text = next((str(fields[name]) for name in ("text", "message", "msg") if name in fields), None)
        if to is None or text is None:
            return Answer(400, "Missing receiver number or text")
        return ReceivedMessage(to, text, datetime.now(UTC), 0, request=request)

    def accept(self, message: ReceivedMessage, number: int) -> Answer:
        return Answer(202, f"Accepted: sms-{number}")


def _with_status(message: ReceivedMessage, status: int) -> ReceivedMessage:
    return ReceivedMessage(
        message.to, message.text, message.at, status, message.template, message.params, message.request
    )


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line.strip():
        return None
    method, target, _version = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    parts = urlsplit(target)
    return Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body)


def _encode(answer: Answer, keep_alive: bool) -> bytes:
    body = answer.body.encode()
    kind = "application/json" if answer.body.startswith("{") else "text/plain; charset=utf-8"
    head = [f"HTTP/1.1 {answer.status} Peer", f"Content-Type: {kind}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in answer.headers.items()]
    head.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
