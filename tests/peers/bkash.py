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

import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from peers.payment_gateway import GatewayPeer, Reply, Request

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


class BkashPeer(GatewayPeer):
    api_prefixes = (PREFIX,)
    name = "bKash"

    def __init__(
        self,
        *,
        app_key: str = "peer-app-key",
        app_secret: str = "peer-app-secret",
        username: str = "merchant",
        password: str = "merchant-pass",
    ) -> None:
        super().__init__()
        self.app_key, self.app_secret, self.username, self.password = app_key, app_secret, username, password
        self.payments: dict[str, PeerPayment] = {}
        self.executions = 0
        self.tamper: dict[str, str] = {}
        self._tokens: set[str] = set()
        self._numbers = itertools.count(1)

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

    def page_action(self, payment_id: str, action: str) -> str | None:
        if payment_id not in self.payments:
            return None
        return self.pay(payment_id) if action == "pay" else self.cancel(payment_id)

    def page_amount(self, payment_id: str) -> str | None:
        payment = self.payments.get(payment_id)
        return None if payment is None else f"{payment.amount} {payment.currency}"

    def api(self, request: Request) -> Reply:
        path = request.path
        body = request.json() or {}
        if path == f"{PREFIX}/token/grant":
            return _json(self._grant(request, body))
        if request.headers.get("authorization") not in self._tokens or request.headers.get("x-app-key") != self.app_key:
            return Reply(401, b'{"message":"Unauthorized"}')
        handler = {
            "/create": self._create,
            "/execute": self._execute,
            "/payment/status": self._status,
            "/payment/refund": self._refund,
        }.get(path.removeprefix(PREFIX))
        return _json(handler(body)) if handler else Reply(404, b'{"message":"Not Found"}')

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


def _callback(payment: PeerPayment, status: str) -> str:
    separator = "&" if "?" in payment.callback_url else "?"
    return f"{payment.callback_url}{separator}{urlencode({'paymentID': payment.payment_id, 'status': status})}"


def _json(answer: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(answer).encode())
