"""Settling money against open bills: oldest bill first, never more than a bill's outstanding.

The same rule serves a payment and the customer's advance credit (auto-debit when a new bill is issued):
whatever cannot be applied stays with the customer as advance credit (`Settlement.unapplied`).
Oldest means earliest due date, then earliest issue date, then lowest bill id, so the order is total and
the result never depends on how the caller sorted its rows.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from ispb_billing.money import CurrencyMismatch, Money, sum_money


@dataclass(frozen=True)
class OpenBill:
    """An issued bill with money still owed on it (`outstanding` = total minus what was applied so far)."""

    bill_id: int
    due_date: date
    issue_date: date
    outstanding: Money

    @property
    def age_key(self) -> tuple[date, date, int]:
        """Sort key of the settlement order: due date, issue date, bill id."""
        return (self.due_date, self.issue_date, self.bill_id)


@dataclass(frozen=True)
class Allocation:
    """`amount` (> 0) of the money goes to bill `bill_id`."""

    bill_id: int
    amount: Money


@dataclass(frozen=True)
class Settlement:
    """Where the money went: `allocations` oldest bill first, and what was left over (`unapplied`)."""

    allocations: tuple[Allocation, ...]
    unapplied: Money

    @property
    def applied(self) -> Money:
        return sum_money((allocation.amount for allocation in self.allocations), self.unapplied.currency)


def allocate(amount: Money, open_bills: Sequence[OpenBill]) -> Settlement:
    """Apply `amount` (>= 0) to `open_bills`, oldest first, partially if need be; the rest is unapplied.

    Bills with nothing outstanding (<= 0) are skipped. `applied + unapplied == amount` always.

    >>> bills = [OpenBill(2, date(2026, 12, 7), date(2026, 12, 1), Money.of("920", "BDT")),
    ...          OpenBill(1, date(2026, 11, 7), date(2026, 11, 1), Money.of("920", "BDT"))]
    >>> settlement = allocate(Money.of("1000", "BDT"), bills)
    >>> [(a.bill_id, str(a.amount)) for a in settlement.allocations], str(settlement.unapplied)
    ([(1, '920.00 BDT'), (2, '80.00 BDT')], '0.00 BDT')
    """
    if amount.is_negative:
        raise ValueError(f"cannot allocate a negative amount ({amount})")
    _check_bills(amount.currency, open_bills)
    left = amount
    allocations: list[Allocation] = []
    for bill in sorted(open_bills, key=lambda b: b.age_key):
        if not left.is_positive:
            break
        if bill.outstanding.is_positive:
            part = min(left, bill.outstanding)
            allocations.append(Allocation(bill.bill_id, part))
            left = left - part
    return Settlement(tuple(allocations), left)


@dataclass(frozen=True)
class Credit:
    """Money a customer holds to spend on bills: `payment_id`'s unapplied part (`amount` >= 0)."""

    payment_id: int
    amount: Money


@dataclass(frozen=True)
class CreditAllocation:
    """`amount` (> 0) of payment `payment_id`'s credit goes to bill `bill_id`."""

    bill_id: int
    payment_id: int
    amount: Money


def allocate_credits(credits: Sequence[Credit], open_bills: Sequence[OpenBill]) -> tuple[CreditAllocation, ...]:
    """Spend several payments' credit on `open_bills`: the payments in the given order (the caller's oldest
    first), each one `allocate`d to the bills the ones before it left owing, oldest bill first.

    The same allocations as calling `allocate` per payment and `outstanding_after` between them
    (property-tested), in one pass over integers: the advance debit settles 100,000 customers on the 1st and
    spent most of its Python time building the intermediate settlements.

    >>> bills = [OpenBill(1, date(2026, 11, 7), date(2026, 11, 1), Money.of("500", "BDT")),
    ...          OpenBill(2, date(2026, 12, 7), date(2026, 12, 1), Money.of("500", "BDT"))]
    >>> paid = allocate_credits([Credit(10, Money.of("200", "BDT")), Credit(11, Money.of("400", "BDT"))], bills)
    >>> [(a.bill_id, a.payment_id, str(a.amount)) for a in paid]
    [(1, 10, '200.00 BDT'), (1, 11, '300.00 BDT'), (2, 11, '100.00 BDT')]
    """
    if not credits:
        return ()
    currency = credits[0].amount.currency
    for credit in credits:
        if credit.amount.currency != currency:
            raise CurrencyMismatch(f"payment {credit.payment_id} is in {credit.amount.currency}, not {currency}")
        if credit.amount.is_negative:
            raise ValueError(f"cannot allocate a negative amount ({credit.amount}) of payment {credit.payment_id}")
    _check_bills(currency, open_bills)
    owing = [
        [bill.bill_id, bill.outstanding.minor]
        for bill in sorted(open_bills, key=lambda b: b.age_key)
        if bill.outstanding.is_positive
    ]
    allocations: list[CreditAllocation] = []
    oldest = 0
    for credit in credits:
        left = credit.amount.minor
        while left > 0 and oldest < len(owing):
            bill_id, owed = owing[oldest]
            part = min(left, owed)
            allocations.append(CreditAllocation(bill_id, credit.payment_id, Money(part, currency)))
            left -= part
            if part == owed:
                oldest += 1
            else:
                owing[oldest][1] = owed - part
    return tuple(allocations)


def outstanding_after(open_bills: Sequence[OpenBill], settlement: Settlement) -> tuple[OpenBill, ...]:
    """`open_bills` (same order) with each bill's outstanding reduced by what `settlement` allocated to it."""
    paid: dict[int, Money] = {}
    for allocation in settlement.allocations:
        before = paid.get(allocation.bill_id)
        paid[allocation.bill_id] = allocation.amount if before is None else before + allocation.amount
    return tuple(
        replace(bill, outstanding=bill.outstanding - paid[bill.bill_id]) if bill.bill_id in paid else bill
        for bill in open_bills
    )


def _check_bills(currency: str, open_bills: Sequence[OpenBill]) -> None:
    ids = [bill.bill_id for bill in open_bills]
    if len(set(ids)) != len(ids):
        raise ValueError(f"each open bill must appear once, got bill ids {ids}")
    for bill in open_bills:
        if bill.outstanding.currency != currency:
            raise CurrencyMismatch(f"bill {bill.bill_id} is in {bill.outstanding.currency}, the money in {currency}")
