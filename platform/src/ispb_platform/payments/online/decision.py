"""What a gateway's verdict does to an open checkout: one rule for every kind of checkout.

Three things are paid online through the same gateways: a customer's bills (``service.py``), an operator's SMS
credit (``sms_credit.py``) and an operator's subscription bill (``subscriptions/checkout.py``). Each keeps its
checkouts in its own table and does its own thing with the money, but when to credit, close, or keep asking is
the same question with the same traps (a failure about a checkout id only the browser named, an answer about
another checkout, an amount or merchant that is not ours), so it is answered here, once, without I/O. The caller
applies the decision under its checkout's row lock.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from ispb_billing import Money
from ispb_platform.payments.online.gateway import (
    PROVIDER_LABELS,
    Outcome,
    Pending,
    Provider,
    Verdict,
    about_another,
    judge,
    trusted_failure,
)

log = logging.getLogger(__name__)

EXPIRE_AFTER = timedelta(days=1)
"""A checkout still unpaid a day after it opened is closed as expired (gateways' own sessions end sooner)."""

Status = Literal["completed", "failed", "expired", "refused", "pending"]


class OpenCheckout(Protocol):
    """What the rule reads of a stored checkout, whatever its table."""

    @property
    def provider(self) -> Provider: ...

    @property
    def amount(self) -> Money: ...

    @property
    def merchant_ref(self) -> str: ...

    @property
    def gateway_ref(self) -> str | None: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def pending(self) -> Pending: ...


@dataclass(frozen=True)
class Decision:
    status: Status
    """``completed``: credit it; ``pending``: keep it open and note the answer; otherwise close it so."""
    answer: str
    """The words kept with the checkout (its last answer)."""
    pending: Pending
    """The checkout as the gateway knows it: a reference never stored is taken from the verdict."""

    @property
    def closes(self) -> bool:
        return self.status not in ("completed", "pending")


def decide(checkout: OpenCheckout, verdict: Verdict, merchant_id: str, now: datetime | None) -> Decision:
    """The next status of ``checkout`` on ``verdict`` from the account ``merchant_id``; ``now`` (None on a
    browser's return or a notice) lets a day-old checkout expire."""
    what = f"{PROVIDER_LABELS[checkout.provider]} checkout {checkout.merchant_ref}"
    verdict = trusted_failure(verdict, checkout.provider, checkout.gateway_ref)
    pending = (
        checkout.pending
        if checkout.gateway_ref
        else Pending(checkout.merchant_ref, verdict.gateway_ref, checkout.amount)
    )
    if verdict.outcome is Outcome.FAILED:
        return Decision("failed", verdict.answer, pending)
    if verdict.outcome is Outcome.PENDING:
        if now is not None and now - checkout.created_at > EXPIRE_AFTER:
            return Decision("expired", f"unpaid after a day: {verdict.answer}", pending)
        return Decision("pending", verdict.answer, pending)
    if other := about_another(pending, verdict):  # e.g. a val_id from another payment: ask again later
        log.warning("%s: answer ignored: %s", what, other)
        return Decision("pending", f"ignored: {other} ({verdict.answer})", pending)
    if problem := judge(pending, verdict, merchant_id):
        log.warning("%s refused, not credited: %s", what, problem)
        return Decision("refused", f"refused: {problem} ({verdict.answer})", pending)
    return Decision("completed", verdict.answer, pending)
