"""Settlement: money goes to the oldest bills first, never more than a bill's outstanding."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import (
    Allocation,
    Credit,
    CreditAllocation,
    CurrencyMismatch,
    Money,
    OpenBill,
    Settlement,
    allocate,
    allocate_credits,
    outstanding_after,
)


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


def open_bill(bill_id: int, due: str, amount: str, issued: str = "2026-01-01") -> OpenBill:
    return OpenBill(bill_id, date.fromisoformat(due), date.fromisoformat(issued), bdt(amount))


def test_oldest_bill_first_then_partial() -> None:
    bills = [open_bill(2, "2026-12-07", "920"), open_bill(1, "2026-11-07", "920")]
    settlement = allocate(bdt("1000"), bills)
    assert settlement == Settlement((Allocation(1, bdt("920")), Allocation(2, bdt("80"))), bdt("0"))
    assert settlement.applied == bdt("1000")


def test_overpayment_is_left_unapplied_as_advance_credit() -> None:
    settlement = allocate(bdt("2000"), [open_bill(1, "2026-11-07", "920")])
    assert settlement.allocations == (Allocation(1, bdt("920")),)
    assert settlement.unapplied == bdt("1080")


def test_nothing_to_pay_keeps_everything_unapplied() -> None:
    assert allocate(bdt("500"), []) == Settlement((), bdt("500"))
    paid_up = [open_bill(1, "2026-11-07", "0"), open_bill(2, "2026-11-08", "-5")]
    assert allocate(bdt("500"), paid_up) == Settlement((), bdt("500"))


def test_zero_amount_allocates_nothing() -> None:
    assert allocate(Money.zero("BDT"), [open_bill(1, "2026-11-07", "920")]) == Settlement((), bdt("0"))


def test_ties_on_due_date_go_by_issue_date_then_bill_id() -> None:
    bills = [
        open_bill(9, "2026-11-07", "10", issued="2026-11-01"),
        open_bill(5, "2026-11-07", "10", issued="2026-11-02"),
        open_bill(3, "2026-11-07", "10", issued="2026-11-01"),
    ]
    assert [a.bill_id for a in allocate(bdt("25"), bills).allocations] == [3, 9, 5]


def test_refuses_negative_amounts_duplicates_and_other_currencies() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(bdt("-1"), [])
    with pytest.raises(ValueError, match="appear once"):
        allocate(bdt("1"), [open_bill(1, "2026-11-07", "1"), open_bill(1, "2026-11-08", "1")])
    with pytest.raises(CurrencyMismatch):
        allocate(Money.of("1", "USD"), [open_bill(1, "2026-11-07", "1")])


def test_outstanding_after_reduces_the_allocated_bills() -> None:
    bills = [open_bill(2, "2026-12-07", "920"), open_bill(1, "2026-11-07", "920"), open_bill(3, "2027-01-07", "5")]
    after = outstanding_after(bills, allocate(bdt("1000"), bills))
    assert [(b.bill_id, b.outstanding) for b in after] == [(2, bdt("840")), (1, bdt("0")), (3, bdt("5"))]


@st.composite
def bill_lists(draw: st.DrawFn) -> list[OpenBill]:
    count = draw(st.integers(0, 8))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    return [
        OpenBill(
            bill_id,
            date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 60))),
            date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 60))),
            Money(draw(st.integers(-1000, 100_000)), "BDT"),
        )
        for bill_id in ids
    ]


@given(st.integers(0, 500_000), bill_lists())
def test_allocation_never_over_allocates_and_fills_oldest_first(minor: int, bills: list[OpenBill]) -> None:
    amount = Money(minor, "BDT")
    settlement = allocate(amount, bills)
    assert settlement.applied + settlement.unapplied == amount
    assert not settlement.unapplied.is_negative
    by_id = {bill.bill_id: bill for bill in bills}
    given_to = {a.bill_id: a.amount for a in settlement.allocations}
    assert len(given_to) == len(settlement.allocations)
    for allocation in settlement.allocations:
        assert Money.zero("BDT") < allocation.amount <= by_id[allocation.bill_id].outstanding
    # oldest first: a bill left with something outstanding means no younger bill received anything
    owing = sorted((b for b in bills if b.outstanding.is_positive), key=lambda b: b.age_key)
    for index, bill in enumerate(owing):
        if given_to.get(bill.bill_id, Money.zero("BDT")) < bill.outstanding:
            assert all(younger.bill_id not in given_to for younger in owing[index + 1 :])
            assert settlement.unapplied.is_zero
    assert [a.bill_id for a in settlement.allocations] == [b.bill_id for b in owing][: len(settlement.allocations)]
    assert all(not b.outstanding.is_negative or b.bill_id not in given_to for b in outstanding_after(bills, settlement))


@given(st.lists(st.integers(0, 200_000), max_size=5), bill_lists())
def test_allocate_credits_is_allocate_per_payment_oldest_first(amounts: list[int], bills: list[OpenBill]) -> None:
    credits = [Credit(100 + n, Money(minor, "BDT")) for n, minor in enumerate(amounts)]
    expected: list[CreditAllocation] = []
    left = bills
    for credit in credits:
        settlement = allocate(credit.amount, left)
        expected += [CreditAllocation(a.bill_id, credit.payment_id, a.amount) for a in settlement.allocations]
        left = list(outstanding_after(left, settlement))
    assert list(allocate_credits(credits, bills)) == expected


def test_allocate_credits_refuses_negative_credit_and_mixed_currencies() -> None:
    bills = [open_bill(1, "2026-11-07", "500")]
    with pytest.raises(ValueError, match="negative amount"):
        allocate_credits([Credit(1, Money(-1, "BDT"))], bills)
    with pytest.raises(CurrencyMismatch):
        allocate_credits([Credit(1, bdt("1")), Credit(2, Money(1, "USD"))], bills)
    with pytest.raises(CurrencyMismatch):
        allocate_credits([Credit(1, Money(1, "USD"))], bills)
