"""The shared base of the payment gateway peers (bKash, SSLCommerz, Stripe): a loopback HTTP/1.1 server with
scripted faults per API call, and a customer-facing checkout page with Pay and Cancel buttons.

Faults: ``fail_next(n, status=500, call="")`` answers HTTP errors, ``drop_next(n, call="")`` carries the call
out and closes the connection without an answer, ``stall_next(n, call="", seconds=3)`` carries it out and
answers after the merchant's deadline (a timeout although the gateway did the work).
``call`` limits a fault to one API path (e.g. ``/execute``). Subclasses answer ``api(request)`` for the
provider's API paths (``api_prefixes``) and ``page_action(payment_id, action)`` when the customer presses
Pay or Cancel on ``/checkout/<id>``; they import nothing from ISPB.
"""

import asyncio
import contextlib
import html
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from peers.sms_gateway import Request, _read_request

__all__ = ("GatewayPeer", "Reply", "Request")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    kind: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class GatewayPeer(ABC):
    api_prefixes: tuple[str, ...] = ()
    name = "Gateway"

    def __init__(self) -> None:
        self.port = 0
        self.calls: list[str] = []
        self._faults: deque[tuple[str, int, str]] = deque()
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, n: int = 1, status: int = 500, call: str = "") -> None:
        self._faults.extend([("fail", status, call)] * n)

    def drop_next(self, n: int = 1, call: str = "") -> None:
        self._faults.extend([("drop", 0, call)] * n)

    def stall_next(self, n: int = 1, call: str = "", seconds: int = 3) -> None:
        """The next ``n`` calls are carried out, then answered only after ``seconds``: the merchant's deadline
        passes first (timeout), although the gateway did the work."""
        self._faults.extend([("stall", seconds, call)] * n)

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @abstractmethod
    def api(self, request: Request) -> Reply:
        """The answer to one call of the provider's API."""

    @abstractmethod
    def page_action(self, payment_id: str, action: str) -> str | None:
        """The customer pressed ``pay`` or ``cancel``; the address the browser goes to next (None: unknown)."""

    @abstractmethod
    def page_amount(self, payment_id: str) -> str | None:
        """What the checkout page says is to pay (None: no such checkout)."""

    def _fault(self, call: str) -> tuple[str, int]:
        for fault in self._faults:
            if call.startswith(fault[2]):
                self._faults.remove(fault)
                return fault[0], fault[1]
        return "ok", 0

    def _reply(self, request: Request) -> tuple[str, Reply]:
        path = request.path
        if path == "/favicon.ico":  # a browser on the checkout page asks for it
            return "ok", Reply(204, kind="image/x-icon")
        if path.startswith("/checkout/"):
            return "ok", self._page(request)
        prefix = next((p for p in self.api_prefixes if path.startswith(p)), None)
        if prefix is None:
            return "ok", Reply(404, b'{"message":"Not Found"}')
        call = path.removeprefix(prefix)
        self.calls.append(call)
        kind, value = self._fault(call)
        if kind == "fail":
            return "ok", Reply(value, b'{"message":"Internal Server Error"}')
        return (f"stall:{value}" if kind == "stall" else kind), self.api(request)

    def _page(self, request: Request) -> Reply:
        payment_id, _, action = request.path.removeprefix("/checkout/").partition("/")
        if request.method == "POST":
            target = self.page_action(payment_id, action)
            return Reply(303, headers={"Location": target}) if target else Reply(404, b"no such payment", "text/plain")
        amount = self.page_amount(payment_id)
        if amount is None:
            return Reply(404, b"no such payment", "text/plain")
        name = html.escape(payment_id)
        page = (
            f"<!doctype html><html lang='en'><head><title>{self.name} payment</title></head><body><main>"
            f"<h1>{self.name} (test peer)</h1><p>Pay {html.escape(amount)} to the merchant</p>"
            f"<form method='post' action='/checkout/{name}/pay'><button id='gateway-pay' type='submit'>Confirm"
            f" payment</button></form><form method='post' action='/checkout/{name}/cancel'><button type='submit'>"
            f"Cancel</button></form></main></body></html>"
        )
        return Reply(200, page.encode(), "text/html; charset=utf-8")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                kind, reply = self._reply(request)
                if kind == "drop":  # the work is done, the answer never arrives
                    break
                if kind.startswith("stall:"):  # the work is done, the answer comes too late
                    await asyncio.sleep(int(kind.partition(":")[2]))
                head = [f"HTTP/1.1 {reply.status} Peer", f"Content-Type: {reply.kind}", "Connection: keep-alive"]
                head += [f"{k}: {v}" for k, v in reply.headers.items()]
                head.append(f"Content-Length: {len(reply.body)}")
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
