"""Dunning: which customers to suspend today, and why, in words an operator can act on.

A customer is suspended only when all of these hold:
- the account is active and its billing profile suspends automatically;
- after applying the customer's advance credit to the open bills (oldest first, as a payment would be),
  some bill still has money outstanding and is past its suspension date;
- the amount owed in all (open bills minus advance credit) is above zero: a customer whose balance is zero
  or in credit is never suspended, whatever the rounding or the order of partial payments (DESIGN 11).

A bill's suspension date: `due_date + grace_days` is the last day to pay, suspension from the day after; or,
with a fixed suspension day, that day of the first month in which it falls after the due date (29-31 meaning
the last day of shorter months).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ispb_billing.cycles import monthly_bill_date
from ispb_billing.money import Money, sum_money
from ispb_billing.settlement import OpenBill, allocate, outstanding_after

_LISTED = 3  # bills named in a reason; the rest are counted


class AccountStatus(StrEnum):
    """The statuses the rules know; `Account.status` also accepts the plain strings."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISABLED = "disabled"


@dataclass(frozen=True)
class SuspensionRule:
    """When an unpaid bill makes a customer suspendable (from the billing profile)."""

    grace_days: int = 3
    fixed_day: int | None = None
    auto_suspend: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.grace_days, bool) or not isinstance(self.grace_days, int) or self.grace_days < 0:
            raise ValueError(f"grace days must be a whole number >= 0, got {self.grace_days!r}")
        if self.fixed_day is not None and not 1 <= self.fixed_day <= 31:
            raise ValueError(f"the suspension day must be a day of the month from 1 to 31, got {self.fixed_day!r}")

    def suspend_from(self, due_date: date) -> date:
        """The first day on which a bill due on `due_date`, still unpaid, allows suspension.

        >>> SuspensionRule(grace_days=3).suspend_from(date(2026, 11, 7))
        datetime.date(2026, 11, 11)
        >>> SuspensionRule(fixed_day=10).suspend_from(date(2026, 11, 10))
        datetime.date(2026, 12, 10)
        """
        if self.fixed_day is None:
            return due_date + timedelta(days=self.grace_days + 1)
        this_month = monthly_bill_date(due_date.year, due_date.month, self.fixed_day)
        if this_month > due_date:
            return this_month
        year, month = (due_date.year + 1, 1) if due_date.month == 12 else (due_date.year, due_date.month + 1)
        return monthly_bill_date(year, month, self.fixed_day)

    def describe_unpaid(self, bill: OpenBill) -> str:
        """ "bill 42: 500.00 BDT due 2026-11-07, unpaid after 3 grace days" (or "... on suspension day 10")."""
        unpaid = f"bill {bill.bill_id}: {bill.outstanding} due {bill.due_date.isoformat()}, unpaid"
        if self.fixed_day is None:
            return f"{unpaid} after {self.grace_days} grace day{'' if self.grace_days == 1 else 's'}"
        return f"{unpaid} on suspension day {self.fixed_day} ({self.suspend_from(bill.due_date).isoformat()})"


@dataclass(frozen=True)
class Account:
    """What dunning needs to know about one customer. `status`: "active", "suspended" or "disabled"."""

    customer_id: int
    status: str
    open_bills: tuple[OpenBill, ...]
    advance_credit: Money

    def __post_init__(self) -> None:
        if self.advance_credit.is_negative:
            raise ValueError(f"advance credit is never negative, got {self.advance_credit}")


@dataclass(frozen=True)
class DunningDecision:
    """The verdict for one customer: suspend or not, the reason in words, and the overdue bills behind it.

    `overdue` lists the bills past their suspension date with what is still owed on each once the advance
    credit is applied; it is filled even when the customer is not suspended (e.g. auto-suspend is off).
    """

    customer_id: int
    suspend: bool
    reason: str
    overdue: tuple[OpenBill, ...]
    overdue_amount: Money


def decide(account: Account, rule: SuspensionRule, today: date) -> DunningDecision:
    """Suspend `account` today or not, and why (see the module doc for the rule).

    >>> bill = OpenBill(42, due_date=date(2026, 11, 7), issue_date=date(2026, 11, 1),
    ...                 outstanding=Money.of("500", "BDT"))
    >>> account = Account(7, "active", (bill,), advance_credit=Money.zero("BDT"))
    >>> decision = decide(account, SuspensionRule(grace_days=3), date(2026, 11, 11))
    >>> decision.suspend, decision.reason
    (True, 'Suspend: bill 42: 500.00 BDT due 2026-11-07, unpaid after 3 grace days.')
    >>> decide(account, SuspensionRule(grace_days=3), date(2026, 11, 10)).suspend
    False
    """
    currency = account.advance_credit.currency
    due_before_credit = _past_suspension(account.open_bills, rule, today)
    bills = outstanding_after(account.open_bills, allocate(account.advance_credit, account.open_bills))
    overdue = _past_suspension(bills, rule, today)
    overdue_amount = sum_money((bill.outstanding for bill in overdue), currency)
    owed = sum_money((bill.outstanding for bill in account.open_bills), currency) - account.advance_credit

    def verdict(suspend: bool, reason: str) -> DunningDecision:
        return DunningDecision(account.customer_id, suspend, reason, overdue, overdue_amount)

    if owed.is_zero:
        return verdict(False, "Not suspended: the balance is zero.")
    if owed.is_negative:
        return verdict(False, f"Not suspended: the customer has {-owed} in credit.")
    if not overdue:
        if due_before_credit:
            return verdict(False, f"Not suspended: advance credit {account.advance_credit} covers the overdue bills.")
        return verdict(False, "Not suspended: no bill is past its suspension date.")
    unpaid = _describe(overdue, overdue_amount, rule)
    if account.status != AccountStatus.ACTIVE:
        return verdict(False, f"Not suspended: the account is {account.status}, not active ({unpaid}).")
    if not rule.auto_suspend:
        return verdict(False, f"Not suspended: automatic suspension is off ({unpaid}).")
    return verdict(True, f"Suspend: {unpaid}.")


def decide_all(
    accounts: Iterable[Account], rule_for: Callable[[Account], SuspensionRule], today: date
) -> list[DunningDecision]:
    """`decide` for each account (in the given order), with the rule of each account's billing profile."""
    return [decide(account, rule_for(account), today) for account in accounts]


def _past_suspension(bills: Iterable[OpenBill], rule: SuspensionRule, today: date) -> tuple[OpenBill, ...]:
    unpaid = (bill for bill in bills if bill.outstanding.is_positive and rule.suspend_from(bill.due_date) <= today)
    return tuple(sorted(unpaid, key=lambda bill: bill.age_key))


def _describe(overdue: tuple[OpenBill, ...], overdue_amount: Money, rule: SuspensionRule) -> str:
    named = "; ".join(rule.describe_unpaid(bill) for bill in overdue[:_LISTED])
    rest = len(overdue) - _LISTED
    if rest <= 0:
        return named
    return f"{named}; and {rest} more overdue bill{'' if rest == 1 else 's'} ({overdue_amount} overdue in all)"
