"""Dunning: suspend only active customers who really owe money past their suspension date, and say why."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import (
    Account,
    AccountStatus,
    DunningDecision,
    Money,
    OpenBill,
    SuspensionRule,
    decide,
    decide_all,
    sum_money,
)


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


def open_bill(bill_id: int, due: str, amount: str) -> OpenBill:
    due_date = date.fromisoformat(due)
    return OpenBill(bill_id, due_date, due_date - timedelta(days=7), bdt(amount))


def account(*bills: OpenBill, status: str = "active", credit: str = "0") -> Account:
    return Account(7, status, bills, bdt(credit))


GRACE = SuspensionRule(grace_days=3)
BILL = open_bill(42, "2026-11-07", "500")


def test_suspension_date_after_grace_days() -> None:
    assert GRACE.suspend_from(date(2026, 11, 7)) == date(2026, 11, 11)
    assert SuspensionRule(grace_days=0).suspend_from(date(2026, 11, 7)) == date(2026, 11, 8)
    assert GRACE.suspend_from(date(2026, 12, 30)) == date(2027, 1, 3)


def test_suspension_on_a_fixed_day_after_the_due_date() -> None:
    tenth = SuspensionRule(fixed_day=10)
    assert tenth.suspend_from(date(2026, 11, 7)) == date(2026, 11, 10)
    assert tenth.suspend_from(date(2026, 11, 10)) == date(2026, 12, 10)  # "due before it": strictly
    assert tenth.suspend_from(date(2026, 12, 20)) == date(2027, 1, 10)
    assert SuspensionRule(fixed_day=31).suspend_from(date(2026, 11, 7)) == date(2026, 11, 30)
    assert SuspensionRule(fixed_day=30).suspend_from(date(2026, 2, 5)) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"grace_days": -1}, "grace days"), ({"fixed_day": 0}, "suspension day")]
)
def test_rule_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SuspensionRule(**kwargs)  # type: ignore[arg-type]


def test_suspends_the_day_after_the_grace_days_with_a_reason() -> None:
    assert not decide(account(BILL), GRACE, date(2026, 11, 10)).suspend
    decision = decide(account(BILL), GRACE, date(2026, 11, 11))
    assert decision == DunningDecision(
        customer_id=7,
        suspend=True,
        reason="Suspend: bill 42: 500.00 BDT due 2026-11-07, unpaid after 3 grace days.",
        overdue=(BILL,),
        overdue_amount=bdt("500"),
    )


def test_fixed_day_reason_names_the_day() -> None:
    decision = decide(account(BILL), SuspensionRule(fixed_day=10), date(2026, 11, 10))
    assert decision.suspend
    assert decision.reason == "Suspend: bill 42: 500.00 BDT due 2026-11-07, unpaid on suspension day 10 (2026-11-10)."


def test_one_grace_day_is_singular() -> None:
    decision = decide(account(BILL), SuspensionRule(grace_days=1), date(2026, 11, 9))
    assert decision.reason.endswith("unpaid after 1 grace day.")


def test_several_overdue_bills_are_listed_oldest_first_then_counted() -> None:
    bills = [open_bill(i, f"2026-0{i}-07", "100") for i in (5, 2, 4, 3, 1)]
    decision = decide(account(*bills), GRACE, date(2026, 11, 11))
    assert [b.bill_id for b in decision.overdue] == [1, 2, 3, 4, 5]
    assert decision.overdue_amount == bdt("500")
    assert decision.reason == (
        "Suspend: bill 1: 100.00 BDT due 2026-01-07, unpaid after 3 grace days; "
        "bill 2: 100.00 BDT due 2026-02-07, unpaid after 3 grace days; "
        "bill 3: 100.00 BDT due 2026-03-07, unpaid after 3 grace days; "
        "and 2 more overdue bills (500.00 BDT overdue in all)."
    )


def test_advance_credit_is_applied_before_deciding() -> None:
    covered = decide(account(BILL, credit="500"), GRACE, date(2026, 11, 20))
    assert not covered.suspend
    assert covered.reason == "Not suspended: the balance is zero."
    partly = decide(account(BILL, open_bill(43, "2026-12-07", "500"), credit="600"), GRACE, date(2026, 11, 20))
    assert not partly.suspend
    assert partly.reason == "Not suspended: advance credit 600.00 BDT covers the overdue bills."
    short = decide(account(BILL, credit="499.99"), GRACE, date(2026, 11, 20))
    assert short.suspend
    assert short.overdue_amount == bdt("0.01")
    assert short.reason == "Suspend: bill 42: 0.01 BDT due 2026-11-07, unpaid after 3 grace days."


def test_never_suspends_a_customer_in_credit() -> None:
    decision = decide(account(BILL, open_bill(43, "2026-10-07", "-600")), GRACE, date(2026, 11, 20))
    assert not decision.suspend
    assert decision.reason == "Not suspended: the customer has 100.00 BDT in credit."


def test_only_active_accounts_are_suspended() -> None:
    for status in ("suspended", AccountStatus.DISABLED):
        decision = decide(account(BILL, status=status), GRACE, date(2026, 11, 20))
        assert not decision.suspend
        assert decision.reason.startswith(f"Not suspended: the account is {status}, not active (bill 42: ")
        assert decision.overdue == (BILL,)


def test_auto_suspend_off_reports_but_does_not_suspend() -> None:
    decision = decide(account(BILL), SuspensionRule(auto_suspend=False), date(2026, 11, 20))
    assert not decision.suspend
    assert decision.reason.startswith("Not suspended: automatic suspension is off (bill 42: 500.00 BDT")
    assert decision.overdue_amount == bdt("500")


def test_nothing_overdue_yet() -> None:
    decision = decide(account(open_bill(43, "2026-12-07", "500")), GRACE, date(2026, 11, 20))
    assert (decision.suspend, decision.overdue, decision.overdue_amount) == (False, (), Money.zero("BDT"))
    assert decision.reason == "Not suspended: no bill is past its suspension date."


def test_paid_bills_are_ignored() -> None:
    assert not decide(account(open_bill(42, "2026-11-07", "0")), GRACE, date(2026, 12, 20)).suspend


def test_account_refuses_negative_credit() -> None:
    with pytest.raises(ValueError, match="never negative"):
        account(BILL, credit="-1")


def test_decide_all_uses_each_accounts_rule() -> None:
    strict, lenient = SuspensionRule(grace_days=0), SuspensionRule(grace_days=30)
    accounts = [Account(1, "active", (BILL,), bdt("0")), Account(2, "active", (BILL,), bdt("0"))]
    decisions = decide_all(accounts, lambda a: strict if a.customer_id == 1 else lenient, date(2026, 11, 8))
    assert [(d.customer_id, d.suspend) for d in decisions] == [(1, True), (2, False)]


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    count = draw(st.integers(0, 6))
    bills = tuple(
        OpenBill(
            i,
            date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 90))),
            date(2026, 1, 1),
            Money(draw(st.integers(-5_000, 50_000)), "BDT"),
        )
        for i in range(count)
    )
    status = draw(st.sampled_from(["active", "active", "suspended", "disabled"]))
    return Account(1, status, bills, Money(draw(st.integers(0, 100_000)), "BDT"))


rules = st.builds(
    SuspensionRule,
    grace_days=st.integers(0, 15),
    fixed_day=st.none() | st.integers(1, 31),
    auto_suspend=st.booleans(),
)


@given(accounts(), rules, st.dates(date(2026, 1, 1), date(2026, 8, 1)))
def test_never_suspends_when_outstanding_minus_credit_is_not_positive(
    acct: Account, rule: SuspensionRule, today: date
) -> None:
    decision = decide(acct, rule, today)
    owed = sum_money((b.outstanding for b in acct.open_bills), "BDT") - acct.advance_credit
    if not owed.is_positive:
        assert not decision.suspend
    if decision.suspend:
        assert acct.status == "active" and rule.auto_suspend
        assert decision.overdue and decision.overdue_amount.is_positive
        assert all(rule.suspend_from(b.due_date) <= today for b in decision.overdue)
    assert not decision.overdue_amount.is_negative
    assert decision.reason
