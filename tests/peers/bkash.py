"""A bKash Tokenized Checkout peer for tests: a real HTTP/1.1 server on 127.0.0.1 speaking the published API's
shapes (stdlib only, nothing imported from ISPB, so it tests the adapter rather than mirroring it).

``POST /tokenized/checkout/token/grant`` (``username``/``password`` headers, ``app_key``/``app_secret`` body),
``/tokenized/checkout/create``, ``/execute``, ``/payment/status`` and ``/payment/refund`` (``authorization``
id token and ``x-app-key`` headers), each answering ``statusCode``/``statusMessage`` as bKash does. The
customer's side: ``GET /checkout/<paymentID>`` is the page ``bkashURL`` leads to, with Pay and Cancel buttons
that send the browser to the merchant's ``callbackURL?paymentID=..&status=success|cancel``; tests without a
browser call ``pay(payment_id)`` (the customer approves) and get that callback address to visit themselves,
which is how "callback twice", "callback after the recheck" and "callback never" are played.

Switches: ``fail_next(n, status=500)`` (HTTP errors), ``drop_next(n)`` (do the work, then close the connection
without an answer: the merchant times out although the payment went through), ``tamper`` (answer a different
``amount``, ``currency`` or ``merchantInvoiceNumber`` than was asked for). ``executions`` counts successful
executes (a payment is executed once at bKash: a second execute answers 2062).
"""

import asyncio
import contextlib
import html
import itertools
import json
import secrets
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

from peers.sms_gateway import Request, _read_request

__all__ = ("BkashPeer", "PeerPayment")

PREFIX = "/tokenized/checkout"


@dataclass
class PeerPayment:
    payment_id: str
    amount: str
    currency: str
    invoice: str
    callback_url: str
    payer: str
    status: str = "Initiated"  # Initiated → Authorized (customer paid) → Completed (executed); or Cancelled
    trx_id: str = ""


class BkashPeer:
    def __init__(
        self,
        *,
        app_key: str = "peer-app-key",
        app_secret: str = "peer-app-secret",
        username: str = "merchant",
        password: str = "merchant-pass",
    ) -> None:
        self.app_key, self.app_secret, self.username, self.password = app_key, app_secret, username, password
        self.port = 0
        self.payments: dict[str, PeerPayment] = {}
        self.calls: list[str] = []
        self.executions = 0
        self.tamper: dict[str, str] = {}
        self._faults: deque[tuple[str, int, str]] = deque()
        self._tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, n: int = 1, status: int = 500, call: str = "") -> None:
        """The next ``n`` API calls (of ``call``, e.g. ``/execute``, when given) answer HTTP ``status``."""
        self._faults.extend([("fail", status, call)] * n)

    def drop_next(self, n: int = 1, call: str = "") -> None:
        """The next ``n`` API calls (of ``call`` when given) are carried out but never answered."""
        self._faults.extend([("drop", 0, call)] * n)

    def _fault(self, path: str) -> tuple[str, int]:
        call = path.removeprefix(PREFIX)
        for fault in self._faults:
            if fault[2] in ("", call):
                self._faults.remove(fault)
                return fault[0], fault[1]
        return "ok", 0

    def pay(self, payment_id: str) -> str:
        """The customer approves the payment at bKash; returns the callback address their browser is sent to."""
        payment = self.payments[payment_id]
        if payment.status == "Initiated":
            payment.status = "Authorized"
        return _callback(payment, "success")

    def cancel(self, payment_id: str) -> str:
        payment = self.payments[payment_id]
        if payment.status in ("Initiated", "Authorized"):
            payment.status = "Cancelled"
        return _callback(payment, "cancel")

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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                fault = self._fault(request.path) if request.path.startswith(PREFIX) else ("ok", 0)
                if fault[0] == "fail":
                    writer.write(_encode(fault[1], "application/json", b'{"message":"Internal Server Error"}'))
                    await writer.drain()
                    continue
                status, kind, body = self._answer(request)
                if fault[0] == "drop":  # the work is done, the answer never arrives
                    break
                writer.write(_encode(status, kind, body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _answer(self, request: Request) -> tuple[int, str, bytes]:
        path = request.path
        if request.method == "GET" and path.startswith("/checkout/"):
            return self._page(path.removeprefix("/checkout/"))
        if request.method == "POST" and path.startswith("/checkout/"):
            payment_id, _, action = path.removeprefix("/checkout/").partition("/")
            known = payment_id in self.payments
            target = (self.pay if action == "pay" else self.cancel)(payment_id) if known else "/"
            return 303, "text/plain", target.encode()  # Location set by _encode for 303
        if not path.startswith(PREFIX) or request.method != "POST":
            return 404, "application/json", b'{"message":"Not Found"}'
        self.calls.append(path.removeprefix(PREFIX))
        body = request.json() or {}
        if path == f"{PREFIX}/token/grant":
            return _json(self._grant(request, body))
        if request.headers.get("authorization") not in self._tokens or request.headers.get("x-app-key") != self.app_key:
            return 401, "application/json", b'{"message":"Unauthorized"}'
        handler = {
            "/create": self._create,
            "/execute": self._execute,
            "/payment/status": self._status,
            "/payment/refund": self._refund,
        }.get(path.removeprefix(PREFIX))
        return _json(handler(body)) if handler else (404, "application/json", b'{"message":"Not Found"}')

    def _grant(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        headers = request.headers
        if (headers.get("username"), headers.get("password")) != (self.username, self.password) or (
            body.get("app_key"),
            body.get("app_secret"),
        ) != (self.app_key, self.app_secret):
            return {"statusCode": "2001", "statusMessage": "Invalid App Key"}
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        return {
            "statusCode": "0000",
            "statusMessage": "Successful",
            "id_token": token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": secrets.token_urlsafe(12),
        }

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        required = ("mode", "payerReference", "callbackURL", "amount", "currency", "intent", "merchantInvoiceNumber")
        if any(not body.get(name) for name in required) or body["mode"] != "0011":
            return {"statusCode": "2065", "statusMessage": "Mandatory field missing"}
        payment_id = f"TR0011{secrets.token_hex(6).upper()}{next(self._numbers)}"
        payment = PeerPayment(
            payment_id,
            body["amount"],
            body["currency"],
            body["merchantInvoiceNumber"],
            body["callbackURL"],
            body["payerReference"],
        )
        self.payments[payment_id] = payment
        return self._shape(payment) | {
            "bkashURL": f"{self.base_url}/checkout/{payment_id}",
            "callbackURL": payment.callback_url,
            "paymentCreateTime": "2026-12-03T10:00:00:000 GMT+0600",
        }

    def _execute(self, body: dict[str, Any]) -> dict[str, Any]:
        payment = self.payments.get(str(body.get("paymentID")))
        if payment is None:
            return {"statusCode": "2117", "statusMessage": "Payment not found"}
        if payment.status == "Completed":
            return {"statusCode": "2062", "statusMessage": "The payment has already been completed"}
        if payment.status != "Authorized":
            return {"statusCode": "2056", "statusMessage": "Invalid Payment State"}
        payment.status, payment.trx_id = "Completed", f"TRX{secrets.token_hex(4).upper()}"
        self.executions += 1
        return self._shape(payment) | {"payerReference": payment.payer, "customerMsisdn": "01770618575"}

    def _status(self, body: dict[str, Any]) -> dict[str, Any]:
        payment = self.payments.get(str(body.get("paymentID")))
        if payment is None:
            return {"statusCode": "2117", "statusMessage": "Payment not found"}
        return self._shape(payment)

    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        payment = self.payments.get(str(body.get("paymentID")))
        if payment is None or payment.status != "Completed" or body.get("trxID") != payment.trx_id:
            return {"statusCode": "2071", "statusMessage": "Invalid transaction for refund"}
        return {"statusCode": "0000", "statusMessage": "Successful", "refundTrxID": f"RF{payment.trx_id}"}

    def _shape(self, payment: PeerPayment) -> dict[str, Any]:
        shown = "Initiated" if payment.status == "Authorized" else payment.status  # bKash shows no approval
        answer = {
            "statusCode": "0000",
            "statusMessage": "Successful",
            "paymentID": payment.payment_id,
            "amount": payment.amount,
            "currency": payment.currency,
            "intent": "sale",
            "merchantInvoiceNumber": payment.invoice,
            "transactionStatus": shown,
        }
        if payment.trx_id:
            answer["trxID"] = payment.trx_id
        return answer | self.tamper

    def _page(self, payment_id: str) -> tuple[int, str, bytes]:
        payment = self.payments.get(payment_id)
        if payment is None:
            return 404, "text/plain", b"no such payment"
        name = html.escape(payment_id)
        page = (
            f"<!doctype html><html lang='en'><head><title>bKash payment</title></head><body><main>"
            f"<h1>bKash (test peer)</h1><p>Pay {html.escape(payment.amount)} {html.escape(payment.currency)}"
            f" to the merchant</p><form method='post' action='/checkout/{name}/pay'>"
            f"<button id='bkash-pay' type='submit'>Confirm payment</button></form>"
            f"<form method='post' action='/checkout/{name}/cancel'><button type='submit'>Cancel</button></form>"
            f"</main></body></html>"
        )
        return 200, "text/html; charset=utf-8", page.encode()


def _callback(payment: PeerPayment, status: str) -> str:
    separator = "&" if "?" in payment.callback_url else "?"
    return f"{payment.callback_url}{separator}{urlencode({'paymentID': payment.payment_id, 'status': status})}"


def _json(answer: dict[str, Any]) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps(answer).encode()


def _encode(status: int, kind: str, body: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} Peer", f"Content-Type: {kind}", "Connection: keep-alive"]
    if status == 303:
        head.append(f"Location: {body.decode()}")
        body = b""
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
