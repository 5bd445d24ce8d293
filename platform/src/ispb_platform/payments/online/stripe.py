"""Stripe Checkout, as published at docs.stripe.com (API 2024+).

Session: ``POST /v1/checkout/sessions`` (form-encoded, ``Authorization: Bearer <secret key>``): ``mode=payment``,
one line item with ``price_data`` (``currency`` lower case, ``unit_amount`` in the currency's minor unit),
``client_reference_id`` = our merchant reference, ``success_url`` (with ``{CHECKOUT_SESSION_ID}``) and
``cancel_url``; answers the session's ``id`` and ``url``. Retrieve (``GET /v1/checkout/sessions/<id>``)
answers ``status`` (``open``, ``complete``, ``expired``), ``payment_status`` (``paid``, ``unpaid``),
``amount_total``, ``currency`` and ``payment_intent``: the confirmation and the recheck both ask it.

Webhooks (``checkout.session.completed``, ``...async_payment_succeeded``, ``...expired``) are signed:
``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint's secret>``; a
signature older than five minutes, or none matching, is refused.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ispb_billing import Money
from ispb_notify import OutboundPolicy
from ispb_platform.payments.online.gateway import (
    Checkout,
    GatewayRejected,
    Notice,
    NoticeRefused,
    Outcome,
    Pending,
    Provider,
    Started,
    Verdict,
    to_decimal,
)
from ispb_platform.payments.online.http import call_json, fields_of

API_URL = "https://api.stripe.com"
TOLERANCE_S = 300
_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}


@dataclass(frozen=True)
class StripeAccount:
    base_url: str
    account_name: str
    secret_key: str
    webhook_secret: str


class Stripe:
    provider = Provider.STRIPE

    def __init__(self, account: StripeAccount, policy: OutboundPolicy) -> None:
        self.account = account
        self.merchant_id = account.account_name
        self._policy = policy

    async def start(self, checkout: Checkout) -> Started:
        back = checkout.callback_url
        form = {
            "mode": "payment",
            "client_reference_id": checkout.merchant_ref,
            "metadata[merchant_ref]": checkout.merchant_ref,
            "success_url": f"{back}?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{back}?cancelled=1",
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": checkout.amount.currency.lower(),
            "line_items[0][price_data][unit_amount]": str(checkout.amount.minor),
            "line_items[0][price_data][product_data][name]": f"Internet bill {checkout.customer_code}",
        }
        answer = await self._call("POST", "/v1/checkout/sessions", form=form)
        if not answer.get("id") or not answer.get("url"):
            raise GatewayRejected(f"Stripe opened no session: {_error(answer)}")
        return Started(str(answer["id"]), str(answer["url"]))

    async def confirm(self, pending: Pending, returned: dict[str, str]) -> Verdict:
        """Whatever the browser brought back: the session as Stripe has it."""
        return await self.recheck(pending)

    async def recheck(self, pending: Pending) -> Verdict:
        answer = await self._call("GET", f"/v1/checkout/sessions/{quote(pending.gateway_ref, safe='')}")
        if "error" in answer:
            return Verdict(Outcome.PENDING, f"retrieve: {_error(answer)}")
        status, paid = str(answer.get("status", "")), str(answer.get("payment_status", ""))
        words = f"session {status or '?'}, payment {paid or '?'}"
        if status == "expired":
            return Verdict(Outcome.FAILED, words)
        if status != "complete" or paid != "paid":
            return Verdict(Outcome.PENDING, words)
        currency = str(answer.get("currency", "")).upper()
        total = answer.get("amount_total")
        amount = _decimal(total, currency) if isinstance(total, int) and not isinstance(total, bool) else ""
        intent = answer.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        return Verdict(
            Outcome.COMPLETED,
            words,
            gateway_ref=str(answer.get("id", "")),
            transaction_id=str(intent_id or ""),
            amount=amount,
            currency=currency,
            merchant_ref=str(answer.get("client_reference_id") or ""),
        )

    def notice(self, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str], now: float) -> Notice | None:
        """A webhook event, after its ``Stripe-Signature`` checks out; None for events about no checkout."""
        check_signature(body, headers.get("stripe-signature", ""), self.account.webhook_secret, now)
        try:
            event = json.loads(body)
        except ValueError as error:
            raise NoticeRefused("the webhook body is not JSON") from error
        session = fields_of(fields_of(fields_of(event).get("data")).get("object"))
        if fields_of(event).get("type") not in _EVENTS or not session.get("client_reference_id"):
            return None
        return Notice(str(session["client_reference_id"]), {"session_id": str(session.get("id", ""))})

    async def _call(self, method: str, path: str, **request: Any) -> Mapping[str, Any]:
        url = self.account.base_url.rstrip("/") + path
        headers = {"authorization": f"Bearer {self.account.secret_key}"}
        _, answer = await call_json(self._policy, "Stripe", method, url, headers=headers, accept_4xx=True, **request)
        return fields_of(answer)


def check_signature(body: bytes, header: str, secret: str, now: float) -> None:
    """Stripe's scheme: ``t=<time>,v1=<hmac>[,v1=...]``; raises `NoticeRefused` unless a v1 matches and ``t``
    is within five minutes of ``now``."""
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [v for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not signatures or not secret:
        raise NoticeRefused("no usable Stripe-Signature header")
    stamp = int(stamps[0])
    if abs(now - stamp) > TOLERANCE_S:
        raise NoticeRefused("the Stripe-Signature timestamp is more than five minutes off")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise NoticeRefused("no Stripe-Signature v1 matches the body and our webhook secret")


def _decimal(minor: int, currency: str) -> str:
    try:
        return to_decimal(Money(minor, currency))
    except ValueError:
        return ""


def _error(answer: Mapping[str, Any]) -> str:
    error = fields_of(answer.get("error"))
    return str(error.get("message") or error.get("code") or answer)[:200]
