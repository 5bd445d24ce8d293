"""Which reminders are due now: due-date and expiration rules, pure, with an idempotency key per message.

The platform's daily jobs (``notify.due_date``, ``notify.expiration``) load bills or customers, call these
functions with ``today`` or ``now``, and write one outbox row per returned message under a unique ``key``
(DESIGN 3: one reminder per bill and rule). So a rerun, a second worker or a catch-up run returns the same keys
and the database keeps the first row; nothing here needs to know what was sent before.

Due-date rules count days from the bill's due date: ``DueDateRule(-3)`` three days before, ``DueDateRule(0)``
on the day, ``DueDateRule(2)`` two days after. Expiration rules count back from the moment service expires:
``ExpiryRule(before_days=1)`` a day before, ``ExpiryRule()`` at expiry.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

__all__ = (
    "BillDue",
    "DueDateRule",
    "DueMessage",
    "Expiring",
    "ExpiryMessage",
    "ExpiryRule",
    "due_date_messages",
    "expiration_messages",
    "has_amount_due",
)

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class DueDateRule:
    """Send ``template_key`` ``offset_days`` after the due date (negative: before it; 0: on the day)."""

    offset_days: int
    template_key: str = "due_date"


@dataclass(frozen=True)
class BillDue:
    """An open bill as the reminder job sees it; ``amount_due`` is the text shown to the customer."""

    bill_id: int
    customer_id: int
    due_date: date
    amount_due: str


@dataclass(frozen=True)
class DueMessage:
    """One reminder to write to the outbox; ``key`` (``due:<bill>:<offset>``) is unique per bill and rule."""

    customer_id: int
    bill_id: int
    rule: DueDateRule
    key: str


@dataclass(frozen=True)
class ExpiryRule:
    """Warn ``before_days`` days and ``before_hours`` hours before service expires (both 0: at expiry)."""

    before_days: int = 0
    before_hours: int = 0

    def __post_init__(self) -> None:
        if self.before_days < 0 or self.before_hours < 0:
            raise ValueError("an expiry reminder is sent before (or at) expiry: use days and hours >= 0")

    @property
    def lead(self) -> timedelta:
        """How long before expiry the reminder goes out."""
        return timedelta(days=self.before_days, hours=self.before_hours)

    @property
    def label(self) -> str:
        """A stable name for the rule inside idempotency keys: ``3d``, ``6h``, ``1d12h``, ``0h`` (at expiry).

        >>> ExpiryRule(before_days=1, before_hours=12).label
        '1d12h'
        """
        days = f"{self.before_days}d" if self.before_days else ""
        hours = f"{self.before_hours}h" if self.before_hours or not self.before_days else ""
        return days + hours


@dataclass(frozen=True)
class Expiring:
    """A customer whose service expires at ``expires_at`` (use aware datetimes, in one zone, consistently)."""

    customer_id: int
    expires_at: datetime


@dataclass(frozen=True)
class ExpiryMessage:
    """One expiry warning; ``key`` is ``expiry:<customer>:<expires_at ISO>:<rule label>``.

    The expiry moment is part of the key, so a customer who renews and expires again is warned again.
    """

    customer_id: int
    rule: ExpiryRule
    key: str


def has_amount_due(amount_due: str) -> bool:
    """True unless the text reads as zero or a credit: "৳0.00", "0", "-50.00" and "" mean nothing is due.

    The text may carry a currency symbol, thousands separators, Bangla digits or the local "/-" suffix; the
    first number in it and a minus sign before that number are read.

    >>> [has_amount_due(text) for text in ("৳1,234.50", "0.00", "-20", "৳৫০০", "500/-", "-৳50")]
    [True, False, False, True, True, False]
    """
    number = _NUMBER.search(amount_due)
    if number is None:
        return False
    negative = "-" in amount_due[: number.start()]
    return not negative and Decimal(number.group().replace(",", "")) > 0


def due_date_messages(bills: Iterable[BillDue], rules: Iterable[DueDateRule], today: date) -> list[DueMessage]:
    """The due-date reminders to send ``today``: a rule fires when ``today == due_date + offset_days``.

    Bills with nothing left to pay are skipped. A day the job did not run is not caught up (a reminder
    "3 days before" is pointless a day late); running it twice on one day returns the same keys.

    >>> bill = BillDue(bill_id=7, customer_id=42, due_date=date(2026, 5, 10), amount_due="৳500.00")
    >>> [m.key for m in due_date_messages([bill], [DueDateRule(-3), DueDateRule(0)], date(2026, 5, 7))]
    ['due:7:-3']
    """
    rules = list(dict.fromkeys(rules))
    messages: dict[str, DueMessage] = {}
    for bill in bills:
        if not has_amount_due(bill.amount_due):
            continue
        for rule in rules:
            if bill.due_date + timedelta(days=rule.offset_days) == today:
                key = f"due:{bill.bill_id}:{rule.offset_days}"
                messages.setdefault(key, DueMessage(bill.customer_id, bill.bill_id, rule, key))
    return list(messages.values())


def expiration_messages(
    customers: Iterable[Expiring],
    rules: Iterable[ExpiryRule],
    now: datetime,
    window: timedelta = timedelta(days=1),
) -> list[ExpiryMessage]:
    """The expiry warnings whose moment (``expires_at - rule.lead``) lies in ``(now - window, now]``.

    With a daily job and the default one-day window every warning moment falls into exactly one run, even
    one at 23:59; a rerun on the same day returns the same keys (the outbox keeps the first). After a missed
    run, pass ``window = now - last successful run`` to catch up. A warning whose moment has passed by more
    than ``window`` is not sent late.

    >>> from datetime import timezone
    >>> expiring = Expiring(42, datetime(2026, 5, 10, 0, 0, tzinfo=timezone.utc))
    >>> now = datetime(2026, 5, 9, 9, 0, tzinfo=timezone.utc)
    >>> [m.key for m in expiration_messages([expiring], [ExpiryRule(before_days=1)], now)]
    ['expiry:42:2026-05-10T00:00:00+00:00:1d']
    """
    if window <= timedelta(0):
        raise ValueError("the window must be positive: it is the time since the previous run")
    rules = list(dict.fromkeys(rules))
    messages: dict[str, ExpiryMessage] = {}
    for customer in customers:
        for rule in rules:
            if now - window < customer.expires_at - rule.lead <= now:
                key = f"expiry:{customer.customer_id}:{customer.expires_at.isoformat()}:{rule.label}"
                messages.setdefault(key, ExpiryMessage(customer.customer_id, rule, key))
    return list(messages.values())
