"""The one interface every payment gateway adapter implements, and the values that cross it.

An adapter speaks one provider's published API and nothing else: it starts a checkout (the address the
customer's browser goes to), confirms a checkout the browser came back from (the server-to-server step that
captures or verifies it), and rechecks a checkout whose callback never came. It answers with a `Verdict` in
the provider's own words (the amount as the provider's decimal string); `judge` compares that with what we
asked for. Adapters never touch the database: ``service.py`` records what `judge` accepts.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ispb_billing import Money
from ispb_billing.money import exponent


class Provider(StrEnum):
    BKASH = "bkash"
    NAGAD = "nagad"
    SSLCOMMERZ = "sslcommerz"
    STRIPE = "stripe"


PROVIDER_LABELS = {
    Provider.BKASH: "bKash",
    Provider.NAGAD: "Nagad",
    Provider.SSLCOMMERZ: "SSLCommerz",
    Provider.STRIPE: "Stripe",
}


class Outcome(StrEnum):
    """What the gateway says about a checkout."""

    COMPLETED = "completed"
    """Paid: the money is the merchant's."""
    PENDING = "pending"
    """Not (yet) paid, nor finally failed: ask again later."""
    FAILED = "failed"
    """Cancelled, declined or expired at the gateway: it will never be paid."""


class GatewayError(Exception):
    """A gateway call that gave no usable answer; ``str(error)`` says why, for the log and the operator."""


class GatewayUnavailable(GatewayError):
    """No answer, a timeout, an HTTP 5xx: the checkout's state is unknown, ask again later."""


class GatewayRejected(GatewayError):
    """The gateway answered and refused the request (bad credentials, an unknown payment, a bad state)."""


class NoticeRefused(Exception):
    """A server-to-server notice (IPN, webhook) whose signature does not check out; nothing is done with it."""


@dataclass(frozen=True)
class Notice:
    """A gateway's signed server-to-server notice: which checkout it is about and the fields to confirm with."""

    merchant_ref: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Checkout:
    """What we ask a gateway to collect."""

    merchant_ref: str
    amount: Money
    customer_code: str
    customer_phone: str
    callback_url: str
    """Where the gateway sends the customer's browser back (and, for some, its server-to-server notice)."""


@dataclass(frozen=True)
class Started:
    gateway_ref: str
    """The gateway's id of the checkout (bKash paymentID, ...)."""
    redirect_url: str
    """Where the customer's browser goes to pay."""


@dataclass(frozen=True)
class Pending:
    """A checkout as we recorded it: what a confirmation or a recheck is compared with."""

    merchant_ref: str
    gateway_ref: str
    amount: Money


RETURN_REF_FIELD = {
    Provider.BKASH: "paymentID",
    Provider.NAGAD: "payment_ref_id",
    Provider.STRIPE: "session_id",
}
"""The field of the way back (query or notice) that names the gateway's checkout id. Used only when we never
stored that id (the start's last step was lost); the gateway's answer must still name our reference, so the
field is a pointer, never evidence. SSLCommerz needs none: its ``val_id`` and ``tran_id`` find the payment."""


RECHECKED_BY_OUR_REF = frozenset({Provider.SSLCOMMERZ})
"""Gateways whose recheck finds a checkout by our reference alone (SSLCommerz's transaction query by
``tran_id``): a checkout whose gateway id was never stored is still asked about."""


def can_recheck(provider: Provider, gateway_ref: str | None) -> bool:
    return bool(gateway_ref) or provider in RECHECKED_BY_OUR_REF


def returned_pending(pending: Pending, provider: Provider, returned: Mapping[str, str]) -> Pending:
    """The checkout to confirm: as recorded, or, when its gateway id was never stored, with the id the way back
    names (see `RETURN_REF_FIELD`)."""
    if pending.gateway_ref:
        return pending
    found = returned.get(RETURN_REF_FIELD.get(provider, ""), "")
    return Pending(pending.merchant_ref, found, pending.amount)


@dataclass(frozen=True)
class Verdict:
    """The gateway's answer about one checkout, in its own terms (unchecked)."""

    outcome: Outcome
    answer: str
    """The gateway's words (status code and message), kept on the checkout."""
    gateway_ref: str = ""
    transaction_id: str = ""
    amount: str = ""
    """The provider's decimal string ("500", "500.00")."""
    currency: str = ""
    merchant_ref: str = ""
    merchant_id: str | None = None
    """The merchant/store id the provider names in its answer, where it names one."""


def trusted_failure(verdict: Verdict, provider: Provider, stored_gateway_ref: str | None) -> Verdict:
    """The verdict, except a failure about a checkout id that only the browser named (ours was never stored):
    such an answer may be about someone else's checkout, so it is kept as an answer and ours stays pending
    (the day's expiry still closes it)."""
    if verdict.outcome is not Outcome.FAILED or stored_gateway_ref or provider in RECHECKED_BY_OUR_REF:
        return verdict
    return Verdict(Outcome.PENDING, f"not closed on an answer about the id the browser named: {verdict.answer}")


class PaymentGateway(Protocol):
    """One provider's API, configured for one operator's account."""

    provider: Provider
    merchant_id: str

    async def start(self, checkout: Checkout) -> Started:
        """Open a checkout at the gateway. Raises `GatewayError`."""
        ...

    async def confirm(self, pending: Pending, returned: dict[str, str]) -> Verdict:
        """The server-to-server step after the browser (or the gateway's notice) came back with ``returned``
        (query or form fields, never trusted alone). Raises `GatewayError`."""
        ...

    async def recheck(self, pending: Pending) -> Verdict:
        """Ask the gateway about a checkout whose callback may have been missed. Raises `GatewayError`."""
        ...

    def notice(self, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str], now: float) -> Notice | None:
        """A server-to-server notice (SSLCommerz IPN, Stripe webhook) read after its signature is checked; None
        for an event that is about no checkout. Raises `NoticeRefused` for a bad or missing signature. The
        notice only says which checkout to confirm: the confirmation is still a call to the gateway."""
        ...


_DECIMAL = re.compile(r"\d{1,15}(?:\.\d{1,6})?")


def to_decimal(amount: Money) -> str:
    """The amount as providers write it: ``Money(50000, "BDT")`` → ``"500.00"``."""
    places = exponent(amount.currency)
    whole, part = divmod(amount.minor, 10**places)
    return f"{whole}.{part:0{places}d}" if places else str(whole)


def from_decimal(text: str, currency: str) -> Money | None:
    """A provider's decimal string as exact money; None for anything else (a sign, grouping, an exponent, more
    decimals than the currency has). ``from_decimal("15", "BDT")`` → ``Money(1500, "BDT")``."""
    text = text.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    try:
        return Money.of(text, currency)
    except ValueError:
        return None


def about_another(pending: Pending, verdict: Verdict) -> str | None:
    """Why a verdict is about some other checkout (its ids differ from ours), or None. Such an answer says
    nothing about ours: it is neither credited nor a reason to close ours."""
    if verdict.gateway_ref and verdict.gateway_ref != pending.gateway_ref:
        return f"the gateway answered about checkout {verdict.gateway_ref!r}, not {pending.gateway_ref!r}"
    if verdict.merchant_ref and verdict.merchant_ref != pending.merchant_ref:
        return f"the gateway's invoice number {verdict.merchant_ref!r} is not ours ({pending.merchant_ref!r})"
    return None


def judge(pending: Pending, verdict: Verdict, merchant_id: str) -> str | None:
    """Why a completed verdict must not be credited, or None when it matches what we asked for exactly:
    the checkout's ids, the amount to the minor unit, the currency and (where the gateway names it) our
    merchant account."""
    if other := about_another(pending, verdict):
        return other
    if not verdict.merchant_ref:
        return "the gateway's answer names no invoice number"
    if verdict.merchant_id is not None and verdict.merchant_id != merchant_id:
        return f"the payment went to merchant {verdict.merchant_id!r}, not to this account ({merchant_id!r})"
    if verdict.currency.upper() != pending.amount.currency:
        return f"the currency {verdict.currency!r} is not the {pending.amount.currency} asked for"
    paid = from_decimal(verdict.amount, pending.amount.currency)
    if paid != pending.amount:
        return f"the amount {verdict.amount!r} is not the {to_decimal(pending.amount)} asked for"
    if not verdict.transaction_id:
        return "the gateway named no transaction id"
    return None
