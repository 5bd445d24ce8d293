"""Bills: package line, pro-rata, discounts and their cap, adjustments, VAT per line, safety bounds."""

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import (
    Adjustment,
    BillDraft,
    BillLine,
    CurrencyMismatch,
    Discount,
    ImplausibleBill,
    LineKind,
    Money,
    PackageTerms,
    Period,
    ProrataPolicy,
    compute_bill,
    sum_money,
)

NOV = Period(date(2026, 11, 1), date(2026, 11, 30))
ISSUED = date(2026, 11, 1)


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


def fiber(price: str = "800", vat_rate_bp: int = 1500, inclusive: bool = False) -> PackageTerms:
    return PackageTerms("Fiber 20", bdt(price), vat_rate_bp=vat_rate_bp, vat_inclusive=inclusive)


def bill(
    package: PackageTerms | None = None,
    period: Period = NOV,
    full_period: Period = NOV,
    prorata: ProrataPolicy = ProrataPolicy.DAILY,
    discounts: tuple[Discount, ...] = (),
    adjustments: tuple[Adjustment, ...] = (),
) -> BillDraft:
    return compute_bill(
        package=package or fiber(),
        period=period,
        full_period=full_period,
        issue_date=ISSUED,
        due_days=7,
        prorata=prorata,
        discounts=discounts,
        adjustments=adjustments,
    )


def rows(draft: BillDraft) -> list[tuple[str, str, str, str]]:
    return [(line.kind, line.description, str(line.net), str(line.vat)) for line in draft.lines]


def test_full_period_vat_exclusive() -> None:
    draft = bill()
    assert rows(draft) == [("package", "Fiber 20", "800.00 BDT", "120.00 BDT")]
    assert (draft.net, draft.vat, draft.total) == (bdt("800"), bdt("120"), bdt("920"))
    assert draft.currency == "BDT"
    assert (draft.period, draft.issue_date, draft.due_date) == (NOV, ISSUED, date(2026, 11, 8))


def test_full_period_vat_inclusive() -> None:
    draft = bill(fiber("1050", 500, inclusive=True))
    assert rows(draft) == [("package", "Fiber 20", "1000.00 BDT", "50.00 BDT")]
    assert draft.total == bdt("1050")


def test_partial_first_period_is_pro_rated_by_days_and_says_so() -> None:
    draft = bill(period=Period(date(2026, 11, 19), NOV.end))
    assert rows(draft) == [("package", "Fiber 20, 12 of 30 days", "320.00 BDT", "48.00 BDT")]


def test_partial_period_pro_rates_the_inclusive_price_then_splits_it() -> None:
    draft = bill(fiber("1050", 500, inclusive=True), period=Period(date(2026, 11, 16), NOV.end))
    assert rows(draft) == [("package", "Fiber 20, 15 of 30 days", "500.00 BDT", "25.00 BDT")]
    assert draft.total == bdt("525")


def test_pro_rata_rounds_once_half_away_from_zero() -> None:
    jan = Period(date(2027, 1, 1), date(2027, 1, 31))
    draft = bill(fiber("1000", 0), period=Period(date(2027, 1, 25), jan.end), full_period=jan)
    assert draft.net == bdt("225.81")  # 1000 * 7 / 31 = 225.806...


def test_without_pro_rata_a_partial_period_costs_the_full_price() -> None:
    draft = bill(period=Period(date(2026, 11, 19), NOV.end), prorata=ProrataPolicy.NONE)
    assert rows(draft) == [("package", "Fiber 20", "800.00 BDT", "120.00 BDT")]


def test_percentage_discount_is_taken_of_the_package_net_at_the_package_vat_rate() -> None:
    draft = bill(discounts=(Discount("Loyalty", percent_bp=1000),))
    assert rows(draft)[1] == ("discount", "Loyalty (10%)", "-80.00 BDT", "-12.00 BDT")
    assert draft.total == bdt("828")


def test_percentage_discount_follows_the_pro_rated_package_line() -> None:
    draft = bill(period=Period(date(2026, 11, 16), NOV.end), discounts=(Discount("Promo", percent_bp=1000),))
    assert draft.lines[1].net == bdt("-40")


def test_amount_discount_is_in_the_package_terms() -> None:
    exclusive = bill(discounts=(Discount("Referral", amount=bdt("100")),))
    assert rows(exclusive)[1] == ("discount", "Referral", "-100.00 BDT", "-15.00 BDT")
    inclusive = bill(fiber("1050", 500, inclusive=True), discounts=(Discount("Referral", amount=bdt("105")),))
    assert rows(inclusive)[1] == ("discount", "Referral", "-100.00 BDT", "-5.00 BDT")
    assert inclusive.total == bdt("945")


def test_a_discount_larger_than_the_package_is_capped_at_zero_total() -> None:
    draft = bill(discounts=(Discount("Goodwill", amount=bdt("5000")),))
    assert rows(draft)[1] == ("discount", "Goodwill, capped at the package price", "-800.00 BDT", "-120.00 BDT")
    assert draft.total == Money.zero("BDT")


def test_several_discounts_never_take_the_bill_below_zero() -> None:
    draft = bill(
        fiber("999.99", 750),
        discounts=(Discount("A", percent_bp=6000), Discount("B", percent_bp=6000), Discount("C", percent_bp=100)),
    )
    assert draft.total == Money.zero("BDT")
    assert [line.kind for line in draft.lines] == ["package", "discount", "discount"]  # C had nothing left
    assert draft.lines[2].description == "B (60%), capped at the package price"


def test_a_hundred_percent_discount_gives_a_zero_bill() -> None:
    draft = bill(fiber("777.77", 1500), discounts=(Discount("Staff", percent_bp=10_000),))
    assert (draft.net, draft.vat, draft.total) == (Money.zero("BDT"),) * 3


def test_discounts_apply_when_the_period_start_is_within_their_dates() -> None:
    def discounted(discount: Discount) -> bool:
        return len(bill(discounts=(discount,)).lines) == 2

    assert discounted(Discount("Open", percent_bp=500))
    assert discounted(Discount("From", percent_bp=500, starts=NOV.start))
    assert discounted(Discount("Until", percent_bp=500, ends=NOV.start))
    assert discounted(Discount("Window", percent_bp=500, starts=date(2026, 10, 1), ends=date(2026, 12, 31)))
    assert not discounted(Discount("Later", percent_bp=500, starts=date(2026, 11, 2)))
    assert not discounted(Discount("Over", percent_bp=500, ends=date(2026, 10, 31)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"percent_bp": 1000, "amount": Money.of("1", "BDT")}, "exactly one of"),
        ({"percent_bp": 10_001}, "discount percentage"),
        ({"amount": Money.of("-1", "BDT")}, "negative amount"),
        ({"percent_bp": 100, "starts": date(2026, 2, 1), "ends": date(2026, 1, 1)}, "ends"),
    ],
)
def test_discount_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Discount("Bad", **kwargs)  # type: ignore[arg-type]


def test_adjustments_are_vat_exclusive_at_their_own_rate() -> None:
    draft = bill(
        adjustments=(
            Adjustment("Router rent", bdt("200"), vat_rate_bp=1500),
            Adjustment("Outage credit", bdt("-100")),
        )
    )
    assert rows(draft)[1:] == [
        ("adjustment", "Router rent", "200.00 BDT", "30.00 BDT"),
        ("adjustment", "Outage credit", "-100.00 BDT", "0.00 BDT"),
    ]
    assert draft.total == bdt("1050")


def test_adjustment_kind_is_adjustment_or_prorata_credit() -> None:
    credit = Adjustment("Unused days", bdt("-10"), kind=LineKind.PRORATA_CREDIT)
    assert bill(adjustments=(credit,)).lines[1].kind == LineKind.PRORATA_CREDIT
    with pytest.raises(ValueError, match="adjustment or prorata_credit"):
        Adjustment("Sneaky", bdt("-10"), kind=LineKind.DISCOUNT)


def test_a_negative_total_is_implausible() -> None:
    with pytest.raises(ImplausibleBill, match=r"would total -80\.00 BDT"):
        bill(adjustments=(Adjustment("Huge credit", bdt("-1000")),))
    assert issubclass(ImplausibleBill, ValueError)


def test_an_absurd_period_is_implausible() -> None:
    long = Period(date(2026, 1, 1), date(2027, 1, 2))
    with pytest.raises(ImplausibleBill, match="367-day period"):
        bill(period=long, full_period=long)
    year = Period(date(2028, 1, 1), date(2028, 12, 31))
    assert bill(period=year, full_period=year).total == bdt("920")  # a leap year (366 days) is fine
    assert (
        compute_bill(
            package=fiber(),
            period=long,
            full_period=long,
            issue_date=ISSUED,
            due_days=0,
            prorata=ProrataPolicy.NONE,
            max_period_days=400,
        ).due_date
        == ISSUED
    )


def test_a_period_outside_its_cycle_period_is_implausible() -> None:
    with pytest.raises(ImplausibleBill, match="not inside its cycle period"):
        bill(period=Period(date(2026, 10, 25), date(2026, 11, 5)))


def test_due_days_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="due days"):
        compute_bill(
            package=fiber(), period=NOV, full_period=NOV, issue_date=ISSUED, due_days=-1, prorata=ProrataPolicy.NONE
        )


def test_package_terms_validation() -> None:
    with pytest.raises(ValueError, match="negative price"):
        fiber("-1")
    with pytest.raises(ValueError, match="VAT rate"):
        fiber(vat_rate_bp=20_000)


def test_one_currency_per_bill() -> None:
    with pytest.raises(CurrencyMismatch):
        bill(adjustments=(Adjustment("Dollar fee", Money.of("1", "USD")),))
    with pytest.raises(CurrencyMismatch):
        BillDraft(
            NOV,
            ISSUED,
            ISSUED,
            (
                BillLine(LineKind.PACKAGE, "a", bdt("1"), 0, bdt("0")),
                BillLine(LineKind.PACKAGE, "b", Money.of("1", "USD"), 0, Money.of("0", "USD")),
            ),
        )
    with pytest.raises(ValueError, match="at least one line"):
        BillDraft(NOV, ISSUED, ISSUED, ())


# -- properties --------------------------------------------------------------------------------------------------

packages = st.builds(
    PackageTerms,
    name=st.just("Plan"),
    price=st.integers(0, 10**7).map(lambda minor: Money(minor, "BDT")),
    vat_rate_bp=st.integers(0, 10_000),
    vat_inclusive=st.booleans(),
)
discounts = st.one_of(
    st.builds(Discount, label=st.just("P"), percent_bp=st.integers(0, 10_000)),
    st.builds(Discount, label=st.just("A"), amount=st.integers(0, 10**7).map(lambda minor: Money(minor, "BDT"))),
)
adjustments = st.builds(
    Adjustment,
    description=st.just("Adj"),
    amount=st.integers(-(10**5), 10**6).map(lambda minor: Money(minor, "BDT")),
    vat_rate_bp=st.integers(0, 10_000),
)


@st.composite
def periods(draw: st.DrawFn) -> tuple[Period, Period]:
    start = draw(st.dates(date(2020, 1, 1), date(2030, 12, 1)))
    full = Period(start, date.fromordinal(start.toordinal() + draw(st.integers(0, 365))))
    first = date.fromordinal(draw(st.integers(full.start.toordinal(), full.end.toordinal())))
    return Period(first, full.end), full


def within_a_minor_unit_fraction(line: BillLine) -> Fraction:
    """How far the line's VAT is from the exact VAT on its net, in minor units."""
    return abs(line.vat.minor - Fraction(line.net.minor * line.vat_rate_bp, 10_000))


@given(
    packages,
    periods(),
    st.sampled_from(ProrataPolicy),
    st.lists(discounts, max_size=3),
    st.lists(adjustments, max_size=3),
)
def test_bill_totals_are_exact_sums_and_line_vat_is_rounded_once(
    package: PackageTerms,
    period_pair: tuple[Period, Period],
    prorata: ProrataPolicy,
    discount_list: list[Discount],
    adjustment_list: list[Adjustment],
) -> None:
    period, full = period_pair
    try:
        draft = bill(package, period, full, prorata, tuple(discount_list), tuple(adjustment_list))
    except ImplausibleBill:
        credits = sum_money((a.amount for a in adjustment_list if a.amount.is_negative), "BDT")
        assert credits.is_negative  # only credit adjustments can take a bill below zero
        return
    assert draft.total == sum_money((line.total for line in draft.lines), "BDT") == draft.net + draft.vat
    assert not draft.total.is_negative
    package_and_discounts = [line for line in draft.lines if line.kind in ("package", "discount")]
    assert not sum_money((line.net for line in package_and_discounts), "BDT").is_negative
    assert not sum_money((line.vat for line in package_and_discounts), "BDT").is_negative
    exact_vat = sum((Fraction(line.net.minor * line.vat_rate_bp, 10_000) for line in draft.lines), Fraction(0))
    assert abs(draft.vat.minor - exact_vat) <= len(draft.lines)  # never more than a minor unit per line
    for line in draft.lines:
        if line.kind == "adjustment" or (line.kind == "discount" and "capped" not in line.description):
            # exclusive lines: within half a minor unit of the exact VAT (inclusive ones within one, below)
            assert within_a_minor_unit_fraction(line) <= (1 if package.vat_inclusive else Fraction(1, 2))
        if line.kind == "package":
            exact = Fraction(line.total.minor * line.vat_rate_bp, 10_000 + line.vat_rate_bp)
            if package.vat_inclusive:
                assert abs(line.vat.minor - exact) <= Fraction(1, 2)
            else:
                assert within_a_minor_unit_fraction(line) <= Fraction(1, 2)
