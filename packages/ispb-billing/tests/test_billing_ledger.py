"""Ledger: the balance is derived from entries and reconciles with bills, payments and advance credit."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import (
    Account,
    EntryKind,
    LedgerEntry,
    Money,
    OpenBill,
    SuspensionRule,
    advance_credit,
    allocate,
    amount_due,
    balance,
    decide,
    outstanding_after,
    sum_money,
)


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


DAY = date(2026, 11, 1)


def test_balance_is_debits_minus_credits() -> None:
    entries = [
        LedgerEntry(EntryKind.DEBIT, bdt("920"), DAY, "INV-2026-000001"),
        LedgerEntry(EntryKind.CREDIT, bdt("500"), DAY, "cash"),
        LedgerEntry(EntryKind.DEBIT, bdt("100"), DAY),
    ]
    assert balance(entries, "BDT") == bdt("520")
    assert amount_due(bdt("520")) == bdt("520")
    assert advance_credit(bdt("520")) == Money.zero("BDT")


def test_a_negative_balance_is_advance_credit() -> None:
    entries = [LedgerEntry(EntryKind.CREDIT, bdt("1000"), DAY), LedgerEntry(EntryKind.DEBIT, bdt("920"), DAY)]
    assert balance(entries, "BDT") == bdt("-80")
    assert advance_credit(bdt("-80")) == bdt("80")
    assert amount_due(bdt("-80")) == Money.zero("BDT")


def test_empty_ledger_is_zero() -> None:
    assert balance([], "BDT") == Money.zero("BDT")


def test_entries_are_never_negative_and_of_a_known_kind() -> None:
    with pytest.raises(ValueError, match="never negative"):
        LedgerEntry(EntryKind.CREDIT, bdt("-1"), DAY)
    with pytest.raises(ValueError, match="refund"):
        LedgerEntry("refund", bdt("1"), DAY)  # type: ignore[arg-type]
    assert LedgerEntry("debit", bdt("1"), DAY).signed == bdt("1")  # type: ignore[arg-type]
    assert LedgerEntry(EntryKind.DEBIT, Money.zero("BDT"), DAY).signed.is_zero  # a fully discounted bill


def test_balance_refuses_other_currencies() -> None:
    with pytest.raises(ValueError, match="different currencies"):
        balance([LedgerEntry(EntryKind.DEBIT, Money.of("1", "USD"), DAY)], "BDT")


events = st.lists(
    st.tuples(st.sampled_from(["bill", "payment"]), st.integers(0, 200_000)),
    max_size=25,
)


@given(events, st.integers(0, 120), st.integers(0, 10))
def test_random_histories_keep_ledger_bills_and_credit_in_agreement(
    history: list[tuple[str, int]], days_later: int, grace_days: int
) -> None:
    """Bills debit and use up credit; payments credit and settle oldest first; the books always agree."""
    bills: list[OpenBill] = []
    entries: list[LedgerEntry] = []
    credit = Money.zero("BDT")
    for day_number, (event, minor) in enumerate(history):
        today, amount = DAY + timedelta(days=day_number), Money(minor, "BDT")
        if event == "bill":
            bills.append(OpenBill(len(bills) + 1, today + timedelta(days=7), today, amount))
            entries.append(LedgerEntry(EntryKind.DEBIT, amount, today, f"bill {len(bills)}"))
            money = credit  # auto-debit: advance credit pays the new bill
        else:
            entries.append(LedgerEntry(EntryKind.CREDIT, amount, today, "payment"))
            money = credit + amount
        settlement = allocate(money, bills)
        bills, credit = list(outstanding_after(bills, settlement)), settlement.unapplied

        owed = sum_money((bill.outstanding for bill in bills), "BDT")
        current = balance(entries, "BDT")
        debits = sum_money((e.amount for e in entries if e.kind == EntryKind.DEBIT), "BDT")
        credits = sum_money((e.amount for e in entries if e.kind == EntryKind.CREDIT), "BDT")
        assert current == debits - credits == owed - credit
        assert all(not bill.outstanding.is_negative for bill in bills)
        assert not credit.is_negative
        assert credit.is_zero or owed.is_zero  # credit is only kept when nothing is owed
        assert amount_due(current) == owed and advance_credit(current) == credit

    today = DAY + timedelta(days=len(history) + days_later)
    decision = decide(Account(1, "active", tuple(bills), credit), SuspensionRule(grace_days=grace_days), today)
    if not balance(entries, "BDT").is_positive:
        assert not decision.suspend
    assert decision.overdue_amount <= amount_due(balance(entries, "BDT"))
