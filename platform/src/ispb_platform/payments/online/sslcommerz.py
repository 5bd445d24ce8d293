"""SSLCommerz (v4), as published at developer.sslcommerz.com.

Session: ``POST /gwprocess/v4/api.php`` (form: ``store_id``, ``store_passwd``, ``total_amount`` as a decimal
string, ``currency``, ``tran_id`` = our merchant reference, ``success_url``/``fail_url``/``cancel_url``,
``ipn_url``, customer and product fields) answers ``status`` ``SUCCESS``, ``sessionkey`` and
``GatewayPageURL``. The customer pays there; SSLCommerz POSTs the result to the browser's return address and,
server to server, to ``ipn_url`` (an IPN, signed: ``verify_sign`` = md5 of the ``verify_key`` fields sorted,
with ``store_passwd`` = md5(store password)). Neither is believed: the validation API
(``GET /validator/api/validationserverAPI.php?val_id=..``) confirms a ``val_id`` (``status`` ``VALID`` or
``VALIDATED``), and the transaction query API (``/validator/api/merchantTransIDvalidationAPI.php?tran_id=..``)
finds a checkout whose notices were all lost.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

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

SANDBOX_URL = "https://sandbox.sslcommerz.com"
LIVE_URL = "https://securepay.sslcommerz.com"
_PAID = {"VALID", "VALIDATED"}
_CLOSED = {"FAILED", "CANCELLED", "EXPIRED", "INVALID_TRANSACTION"}


@dataclass(frozen=True)
class SslcommerzAccount:
    base_url: str
    store_id: str
    store_password: str


class Sslcommerz:
    provider = Provider.SSLCOMMERZ

    def __init__(self, account: SslcommerzAccount, policy: OutboundPolicy) -> None:
        self.account = account
        self.merchant_id = account.store_id
        self._policy = policy

    async def start(self, checkout: Checkout) -> Started:
        form = {
            "store_id": self.account.store_id,
            "store_passwd": self.account.store_password,
            "total_amount": to_decimal(checkout.amount),
            "currency": checkout.amount.currency,
            "tran_id": checkout.merchant_ref,
            "success_url": checkout.callback_url,
            "fail_url": checkout.callback_url,
            "cancel_url": checkout.callback_url,
            "ipn_url": checkout.callback_url.split("/return/", 1)[0] + "/notify",
            "cus_name": checkout.customer_code,
            "cus_email": "customer@invalid.example",
            "cus_add1": "-",
            "cus_city": "-",
            "cus_country": "Bangladesh",
            "cus_phone": checkout.customer_phone or checkout.customer_code,
            "shipping_method": "NO",
            "product_name": "Internet bill",
            "product_category": "Internet",
            "product_profile": "non-physical-goods",
        }
        _, answer = await call_json(self._policy, "SSLCommerz", "POST", self._url("/gwprocess/v4/api.php"), form=form)
        answer = fields_of(answer)
        if answer.get("status") != "SUCCESS" or not answer.get("GatewayPageURL") or not answer.get("sessionkey"):
            raise GatewayRejected(f"SSLCommerz opened no session: {answer.get('failedreason') or answer}")
        return Started(str(answer["sessionkey"]), str(answer["GatewayPageURL"]))

    async def confirm(self, pending: Pending, returned: dict[str, str]) -> Verdict:
        """Validate the ``val_id`` the return or the IPN carried; without one, or when SSLCommerz does not call it
        paid, ask by our transaction id. A ``val_id`` comes from the browser: an unknown or failed one says
        nothing about our checkout (``INVALID_TRANSACTION`` names no ``tran_id``), so it must not close it."""
        val_id = returned.get("val_id", "")
        if not val_id:
            return await self.recheck(pending)
        query = {"val_id": val_id, **self._credentials()}
        url = f"{self._url('/validator/api/validationserverAPI.php')}?{urlencode(query)}"
        _, answer = await call_json(self._policy, "SSLCommerz", "GET", url)
        verdict = _verdict(fields_of(answer))
        return verdict if verdict.outcome is Outcome.COMPLETED else await self.recheck(pending)

    async def recheck(self, pending: Pending) -> Verdict:
        query = {"tran_id": pending.merchant_ref, **self._credentials()}
        url = f"{self._url('/validator/api/merchantTransIDvalidationAPI.php')}?{urlencode(query)}"
        _, answer = await call_json(self._policy, "SSLCommerz", "GET", url)
        answer = fields_of(answer)
        elements = [e for e in answer.get("element") or [] if isinstance(e, dict)]
        paid = [e for e in elements if e.get("status") in _PAID]
        if paid:
            return _verdict(paid[0])
        if elements and all(e.get("status") in _CLOSED for e in elements):
            return Verdict(Outcome.FAILED, f"transaction query: {elements[-1].get('status')}")
        return Verdict(Outcome.PENDING, f"transaction query: {answer.get('APIConnect', '?')}, {len(elements)} found")

    def notice(self, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str], now: float) -> Notice | None:
        """An IPN: its ``verify_sign`` must match the fields it names, signed with our store password."""
        keys = [k for k in fields.get("verify_key", "").split(",") if k]
        if not keys or not fields.get("verify_sign"):
            raise NoticeRefused("the IPN carries no verify_sign/verify_key")
        signed = {k: fields[k] for k in keys if k in fields}
        signed["store_passwd"] = hashlib.md5(self.account.store_password.encode()).hexdigest()  # noqa: S324
        expected = hashlib.md5("&".join(f"{k}={signed[k]}" for k in sorted(signed)).encode()).hexdigest()  # noqa: S324
        if not hmac.compare_digest(expected, fields["verify_sign"]):
            raise NoticeRefused("the IPN's verify_sign does not match its fields and our store password")
        if "tran_id" not in keys or not fields.get("tran_id"):
            raise NoticeRefused("the IPN's signature does not cover its tran_id")
        return Notice(fields["tran_id"], dict(fields))

    def _credentials(self) -> dict[str, str]:
        return {"store_id": self.account.store_id, "store_passwd": self.account.store_password, "format": "json"}

    def _url(self, path: str) -> str:
        return self.account.base_url.rstrip("/") + path


def _verdict(answer: Mapping[str, Any]) -> Verdict:
    status = str(answer.get("status", ""))
    words = f"validation: {status or '(none)'}"
    if status in _CLOSED:
        return Verdict(Outcome.FAILED, words)
    if status not in _PAID:
        return Verdict(Outcome.PENDING, words)
    # the amount and currency the customer was asked for (``currency_*``: before any conversion to BDT)
    currency = str(answer.get("currency_type") or answer.get("currency") or "")
    amount = str(answer.get("currency_amount") or answer.get("amount") or "")
    return Verdict(
        Outcome.COMPLETED,
        f"{words}, bank transaction {answer.get('bank_tran_id', '?')}",
        transaction_id=str(answer.get("val_id", "")),
        amount=amount,
        currency=currency,
        merchant_ref=str(answer.get("tran_id", "")),
        merchant_id=str(answer["store_id"]) if answer.get("store_id") else None,
    )
