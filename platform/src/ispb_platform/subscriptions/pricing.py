"""What an operator owes for a month: pure rules, no database (the functional core of ``subscription.bill_*``).

A plan has customer-count tiers (``up to 200``, ``up to 500``, ``more``). A month's count falls in the tier with
the smallest bound at or above it (200 is the first tier, 201 the second). ``tier`` pricing charges that tier's
price for the month; ``per_customer`` charges the count times that tier's price (the whole count at one rate,
not graduated). An operator that was on the plan for part of the month (joined mid-month, or a free trial that
ended mid-month) pays for its billable days only: the price times billable days over the month's days.

Amounts are ``Decimal``; the bill's amount is rounded once, to minor units, half away from zero (the billing
library's rule), at the end.

>>> plan = Plan("Basic", Pricing.TIER, (Tier(200, Decimal("1000")), Tier(None, Decimal("2500"))), Decimal("0.35"))
>>> monthly_charge(plan, 201, billable_days(date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 16), None))
Charge(tier=Tier(up_to=None, price=Decimal('2500')), days=15, month_days=30, amount_minor=125000)
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

MINOR = Decimal(100)


class Pricing(StrEnum):
    TIER = "tier"
    PER_CUSTOMER = "per_customer"


@dataclass(frozen=True)
class Tier:
    up_to: int | None
    """The highest count of this tier; None: no bound (the last tier)."""
    price: Decimal

    def label(self, previous: int | None) -> str:
        low = (previous or 0) + 1
        return f"{low}+ active customers" if self.up_to is None else f"{low}–{self.up_to} active customers"


@dataclass(frozen=True)
class Plan:
    name: str
    pricing: Pricing
    tiers: tuple[Tier, ...]
    sms_price: Decimal
    trial_days: int = 0


class NoTier(ValueError):
    """The plan has no tier for the count (its last tier is bounded below the count)."""


def sorted_tiers(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    return tuple(sorted(tiers, key=lambda t: (t.up_to is None, t.up_to or 0)))


def tier_for(plan: Plan, count: int) -> Tier:
    for tier in sorted_tiers(plan.tiers):
        if tier.up_to is None or count <= tier.up_to:
            return tier
    raise NoTier(f"plan {plan.name!r} has no tier for {count} active customers")


def tier_label(plan: Plan, tier: Tier) -> str:
    ordered = sorted_tiers(plan.tiers)
    at = ordered.index(tier)
    return tier.label(ordered[at - 1].up_to if at else None)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month(today: date) -> tuple[date, date]:
    return month_bounds(today.replace(day=1) - timedelta(days=1))


def billable_days(start: date, end: date, started_on: date, trial_ends_on: date | None) -> int:
    """Days of ``start``..``end`` the operator pays for: from the day it joined the plan, after its free trial."""
    first = max(start, started_on)
    if trial_ends_on is not None:
        first = max(first, trial_ends_on + timedelta(days=1))
    return max((end - first).days + 1, 0)


@dataclass(frozen=True)
class Charge:
    tier: Tier
    days: int
    month_days: int
    amount_minor: int


def to_minor(amount: Decimal) -> int:
    """Decimal major units to integer minor units, half away from zero (amounts here are never negative)."""
    return int((amount * MINOR).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def monthly_charge(plan: Plan, count: int, days: int, month_days: int = 30) -> Charge:
    """The month's charge for ``count`` active customers and ``days`` billable days of ``month_days``."""
    tier = tier_for(plan, count)
    full = tier.price if plan.pricing is Pricing.TIER else tier.price * count
    amount = full if days >= month_days else full * days / month_days
    return Charge(tier, min(days, month_days), month_days, to_minor(amount))


def sms_charge(plan: Plan, segments: int) -> int:
    """Minor units for ``segments`` SMS segments at the plan's price (rounded once per billed batch)."""
    return to_minor(plan.sms_price * segments)


def due_dates(issued: date, due_day: int, lock_day: int) -> tuple[date, date]:
    """(due date, lock date) of a bill issued on ``issued``: the month's ``due_day`` and ``lock_day`` (the 10th
    and the 20th by default); a bill issued late (a manual run after the due day) still gets the same spans."""
    due = issued.replace(day=due_day)
    lock = issued.replace(day=lock_day)
    if due <= issued:
        due = issued + timedelta(days=max(due_day - 2, 1))
        lock = due + timedelta(days=lock_day - due_day)
    return due, max(lock, due)
