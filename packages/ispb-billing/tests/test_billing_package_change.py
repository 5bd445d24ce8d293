"""Mid-period package changes: credit the old package's unused days, charge the new one's."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import (
    LineKind,
    Money,
    PackageTerms,
    Period,
    ProrataPolicy,
    compute_bill,
    package_change_adjustments,
)

NOV = Period(date(2026, 11, 1), date(2026, 11, 30))


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


OLD = PackageTerms("Fiber 20", bdt("800"), vat_rate_bp=1500, vat_inclusive=False)
NEW = PackageTerms("Fiber 40", bdt("1100"), vat_rate_bp=500, vat_inclusive=False)


def test_daily_policy_credits_unused_days_and_charges_the_new_package() -> None:
    credit, charge = package_change_adjustments(
        old=OLD, new=NEW, period=NOV, change_date=date(2026, 11, 21), policy=ProrataPolicy.DAILY
    )
    assert (credit.kind, credit.amount, credit.vat_rate_bp) == (LineKind.PRORATA_CREDIT, bdt("-266.67"), 1500)
    assert credit.description == "Fiber 20, 10 unused days of 30 (changed on 2026-11-21)"
    assert (charge.kind, charge.amount, charge.vat_rate_bp) == (LineKind.ADJUSTMENT, bdt("366.67"), 500)
    assert charge.description == "Fiber 40, 10 of 30 days (changed on 2026-11-21)"


def test_none_policy_changes_nothing_until_the_next_period() -> None:
    changes = package_change_adjustments(
        old=OLD, new=NEW, period=NOV, change_date=date(2026, 11, 21), policy=ProrataPolicy.NONE
    )
    assert changes == ()


def test_inclusive_prices_are_credited_as_their_net() -> None:
    old = PackageTerms("Home", bdt("1050"), vat_rate_bp=500, vat_inclusive=True)
    credit, _ = package_change_adjustments(
        old=old, new=NEW, period=NOV, change_date=date(2026, 11, 21), policy=ProrataPolicy.DAILY
    )
    assert credit.amount == bdt("-333.33")  # 350.00 gross for 10 of 30 days, 333.33 net at 5 %


def test_change_on_the_first_day_credits_the_whole_period() -> None:
    credit, charge = package_change_adjustments(
        old=OLD, new=NEW, period=NOV, change_date=NOV.start, policy=ProrataPolicy.DAILY
    )
    assert (credit.amount, charge.amount) == (bdt("-800"), bdt("1100"))


def test_after_a_partial_first_period_the_day_share_is_of_the_full_cycle() -> None:
    partial = Period(date(2026, 11, 20), NOV.end)
    credit, charge = package_change_adjustments(
        old=OLD, new=NEW, period=partial, full_period=NOV, change_date=date(2026, 11, 25), policy=ProrataPolicy.DAILY
    )
    assert (credit.amount, charge.amount) == (bdt("-160"), bdt("220"))  # 6 of 30 days


def test_change_date_must_be_inside_the_billed_period() -> None:
    with pytest.raises(ValueError, match="outside the billed period"):
        package_change_adjustments(
            old=OLD, new=NEW, period=NOV, change_date=date(2026, 12, 1), policy=ProrataPolicy.DAILY
        )
    with pytest.raises(ValueError, match="not inside its cycle period"):
        package_change_adjustments(
            old=OLD,
            new=NEW,
            period=NOV,
            full_period=Period(date(2026, 11, 5), NOV.end),
            change_date=date(2026, 11, 10),
            policy=ProrataPolicy.DAILY,
        )


def test_the_adjustments_go_on_the_next_bill_with_vat() -> None:
    changes = package_change_adjustments(
        old=OLD, new=NEW, period=NOV, change_date=date(2026, 11, 21), policy=ProrataPolicy.DAILY
    )
    dec = Period(date(2026, 12, 1), date(2026, 12, 31))
    draft = compute_bill(
        package=NEW,
        period=dec,
        full_period=dec,
        issue_date=dec.start,
        due_days=7,
        prorata=ProrataPolicy.DAILY,
        adjustments=changes,
    )
    assert [(line.kind, str(line.net), str(line.vat)) for line in draft.lines] == [
        ("package", "1100.00 BDT", "55.00 BDT"),
        ("prorata_credit", "-266.67 BDT", "-40.00 BDT"),
        ("adjustment", "366.67 BDT", "18.33 BDT"),
    ]
    assert draft.total == bdt("1233.33")


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 29))
def test_credit_and_charge_are_the_day_shares_of_each_price(old_minor: int, new_minor: int, offset: int) -> None:
    old = PackageTerms("Old", Money(old_minor, "BDT"), vat_rate_bp=0, vat_inclusive=False)
    new = PackageTerms("New", Money(new_minor, "BDT"), vat_rate_bp=0, vat_inclusive=False)
    change = date(2026, 11, 1 + offset)
    credit, charge = package_change_adjustments(
        old=old, new=new, period=NOV, change_date=change, policy=ProrataPolicy.DAILY
    )
    days = 30 - offset
    assert credit.amount == -old.price.scaled(days, 30)
    assert charge.amount == new.price.scaled(days, 30)
    assert -credit.amount <= old.price  # never credits more than was billed
