"""bKash Tokenized Checkout (without agreement), as published at developer.bka.sh (API v1.2.0-beta).

Grant token (``POST /tokenized/checkout/token/grant``, headers ``username``/``password``, body
``app_key``/``app_secret``) → create payment (``/tokenized/checkout/create``: ``mode`` ``0011``, ``amount`` as
a decimal string, ``merchantInvoiceNumber``, ``callbackURL``; answers ``paymentID`` and ``bkashURL``) → the
customer pays at ``bkashURL`` and bKash sends the browser to ``callbackURL?paymentID=..&status=success`` →
execute payment (``/tokenized/checkout/execute``), the server-to-server call that takes the money and answers
``trxID`` with ``transactionStatus`` ``Completed``. Query payment (``/tokenized/checkout/payment/status``)
tells a checkout's state when a callback or an execute answer was lost; refund
(``/tokenized/checkout/payment/refund``) gives money back. Every answer carries ``statusCode`` (``0000`` is
success) and ``statusMessage``.

A callback's ``status`` decides nothing: only execute's (or query's) answer does.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ispb_notify import OutboundPolicy
from ispb_platform.payments.online.gateway import (
    Checkout,
    GatewayRejected,
    GatewayUnavailable,
    Notice,
    NoticeRefused,
    Outcome,
    Pending,
    Provider,
    Started,
    Verdict,
    to_decimal,
)
from ispb_platform.payments.online.http import call_json

SANDBOX_URL = "https://tokenized.sandbox.bka.sh/v1.2.0-beta"
LIVE_URL = "https://tokenized.pay.bka.sh/v1.2.0-beta"
ALREADY_COMPLETED = "2062"  # execute of a payment executed before (by a racing callback or recheck)
_CLOSED = {"Cancelled", "Failed", "Failure", "Expired", "Declined"}


@dataclass(frozen=True)
class BkashAccount:
    base_url: str
    app_key: str
    app_secret: str
    username: str
    password: str


class Bkash:
    """One operator's bKash merchant account. The id token is granted once per adapter (an adapter lives for
    one request or one recheck run, well inside the token's hour)."""

    provider = Provider.BKASH

    def __init__(self, account: BkashAccount, policy: OutboundPolicy) -> None:
        self.account = account
        self.merchant_id = account.app_key
        self._policy = policy
        self._token: str | None = None

    async def start(self, checkout: Checkout) -> Started:
        answer = await self._call(
            "/tokenized/checkout/create",
            {
                "mode": "0011",
                "payerReference": checkout.customer_phone or checkout.customer_code,
                "callbackURL": checkout.callback_url,
                "amount": to_decimal(checkout.amount),
                "currency": checkout.amount.currency,
                "intent": "sale",
                "merchantInvoiceNumber": checkout.merchant_ref,
            },
        )
        _require_success(answer, "create payment")
        if not answer.get("paymentID") or not answer.get("bkashURL"):
            raise GatewayRejected("bKash created no payment (no paymentID or bkashURL in its answer)")
        return Started(str(answer["paymentID"]), str(answer["bkashURL"]))

    async def confirm(self, pending: Pending, returned: dict[str, str]) -> Verdict:
        """Execute the payment the browser came back with; a cancelled or failed return is checked by query
        (never taken on the browser's word either way)."""
        if returned.get("status") != "success":
            return await self.recheck(pending)
        answer = await self._call("/tokenized/checkout/execute", {"paymentID": pending.gateway_ref})
        if answer.get("statusCode") == ALREADY_COMPLETED:  # executed by a racing callback or the recheck
            return await self._query(pending)
        if answer.get("statusCode") != "0000":
            return Verdict(Outcome.PENDING, _words(answer))
        return _verdict(answer)

    async def recheck(self, pending: Pending) -> Verdict:
        """Query the payment; one the customer approved but nobody executed (the callback was lost) is executed
        now, which is what bKash asks for when an execute answer was missed."""
        verdict = await self._query(pending)
        if verdict.outcome is not Outcome.PENDING:
            return verdict
        executed = await self._call("/tokenized/checkout/execute", {"paymentID": pending.gateway_ref})
        if executed.get("statusCode") == "0000":
            return _verdict(executed)
        if executed.get("statusCode") == ALREADY_COMPLETED:
            return await self._query(pending)
        return Verdict(Outcome.PENDING, f"{verdict.answer}; execute: {_words(executed)}")

    def notice(self, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str], now: float) -> Notice | None:
        """bKash Tokenized Checkout sends no server-to-server notices: the browser's return and the query are all."""
        raise NoticeRefused("bKash sends no notices")

    async def refund(self, pending: Pending, transaction_id: str, reason: str) -> str:
        """Give a completed payment back in full; returns bKash's refund transaction id."""
        answer = await self._call(
            "/tokenized/checkout/payment/refund",
            {
                "paymentID": pending.gateway_ref,
                "amount": to_decimal(pending.amount),
                "trxID": transaction_id,
                "sku": "internet",
                "reason": reason[:255],
            },
        )
        _require_success(answer, "refund")
        return str(answer.get("refundTrxID", ""))

    async def _query(self, pending: Pending) -> Verdict:
        answer = await self._call("/tokenized/checkout/payment/status", {"paymentID": pending.gateway_ref})
        if answer.get("statusCode") not in (None, "0000"):
            return Verdict(Outcome.PENDING, _words(answer))
        return _verdict(answer)

    async def _grant(self) -> str:
        if self._token is None:
            answer = await self._post(
                "/tokenized/checkout/token/grant",
                {"app_key": self.account.app_key, "app_secret": self.account.app_secret},
                {"username": self.account.username, "password": self.account.password},
            )
            if not answer.get("id_token"):
                raise GatewayRejected(f"bKash granted no token: {_words(answer)}")
            self._token = str(answer["id_token"])
        return self._token

    async def _call(self, path: str, body: dict[str, str]) -> dict[str, Any]:
        token = await self._grant()
        return await self._post(path, body, {"authorization": token, "x-app-key": self.account.app_key})

    async def _post(self, path: str, body: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        url = self.account.base_url.rstrip("/") + path
        _, answer = await call_json(
            self._policy, "bKash", "POST", url, json_body=body, headers={"accept": "application/json", **headers}
        )
        if not isinstance(answer, dict):
            raise GatewayUnavailable(f"bKash answered {path} with no JSON object")
        return answer


def _verdict(answer: dict[str, Any]) -> Verdict:
    status = str(answer.get("transactionStatus", ""))
    outcome = Outcome.COMPLETED if status == "Completed" else Outcome.FAILED if status in _CLOSED else Outcome.PENDING
    return Verdict(
        outcome,
        f"{_words(answer)}; transactionStatus {status or '(none)'}",
        gateway_ref=str(answer.get("paymentID", "")),
        transaction_id=str(answer.get("trxID", "")),
        amount=str(answer.get("amount", "")),
        currency=str(answer.get("currency", "")),
        merchant_ref=str(answer.get("merchantInvoiceNumber", "")),
    )


def _require_success(answer: dict[str, Any], what: str) -> None:
    if answer.get("statusCode") != "0000":
        raise GatewayRejected(f"bKash refused to {what}: {_words(answer)}")


def _words(answer: object) -> str:
    if not isinstance(answer, dict):
        return "(no JSON object)"
    code = answer.get("statusCode") or answer.get("errorCode") or "?"
    message = answer.get("statusMessage") or answer.get("errorMessage") or answer.get("msg") or ""
    return f"{code} {message}".strip()
