"""VAT per line: exclusive and inclusive splits, rounded half away from zero."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import Money, VatSplit, format_percent, vat_exclusive, vat_inclusive


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


def test_fifteen_percent_exclusive_on_800_is_120() -> None:
    split = vat_exclusive(bdt("800"), 1500)
    assert (split.net, split.vat, split.gross) == (bdt("800"), bdt("120"), bdt("920"))


def test_five_percent_inclusive_on_1050_is_1000_plus_50() -> None:
    split = vat_inclusive(bdt("1050"), 500)
    assert (split.net, split.vat, split.gross) == (bdt("1000"), bdt("50"), bdt("1050"))


def test_inclusive_rounds_the_net_and_keeps_the_gross() -> None:
    split = vat_inclusive(bdt("1000"), 1500)  # 869.565... net
    assert (split.net, split.vat) == (bdt("869.57"), bdt("130.43"))
    assert split.gross == bdt("1000")


def test_rounding_examples() -> None:
    assert vat_exclusive(bdt("0.10"), 750).vat == bdt("0.01")  # 0.0075 rounds up
    assert vat_exclusive(bdt("0.03"), 1500).vat == bdt("0")  # 0.0045 rounds down
    assert vat_exclusive(bdt("-0.10"), 750).vat == bdt("-0.01")  # credits round like charges
    assert vat_exclusive(bdt("0.10"), 500).vat == bdt("0.01")  # exactly half: away from zero


def test_zero_and_full_rates() -> None:
    assert vat_exclusive(bdt("800"), 0).vat == bdt("0")
    assert vat_exclusive(bdt("800"), 10_000).vat == bdt("800")
    assert vat_inclusive(bdt("800"), 10_000).net == bdt("400")


@pytest.mark.parametrize("rate", [-1, 10_001, True])
def test_rates_outside_0_to_10000_basis_points_are_refused(rate: int) -> None:
    with pytest.raises(ValueError, match="VAT rate must be whole basis points"):
        vat_exclusive(bdt("1"), rate)
    with pytest.raises(ValueError, match="VAT rate"):
        vat_inclusive(bdt("1"), rate)


def test_split_refuses_mixed_currencies() -> None:
    with pytest.raises(ValueError, match="different currencies"):
        VatSplit(bdt("1"), Money.of("1", "USD"))


def test_format_percent() -> None:
    assert [format_percent(bp) for bp in (1500, 750, 1234, 5, 0, 10_000)] == [
        "15%",
        "7.5%",
        "12.34%",
        "0.05%",
        "0%",
        "100%",
    ]


amounts = st.integers(-(10**10), 10**10)
rates = st.integers(0, 10_000)


@given(amounts, rates)
def test_exclusive_vat_is_within_half_a_minor_unit_of_the_exact_vat(net_minor: int, rate: int) -> None:
    split = vat_exclusive(Money(net_minor, "BDT"), rate)
    assert abs(split.vat.minor - Fraction(net_minor * rate, 10_000)) <= Fraction(1, 2)
    assert split.gross == split.net + split.vat


@given(amounts, rates)
def test_inclusive_split_adds_up_to_the_gross_exactly(gross_minor: int, rate: int) -> None:
    split = vat_inclusive(Money(gross_minor, "BDT"), rate)
    assert split.net + split.vat == split.gross == Money(gross_minor, "BDT")
    assert abs(split.vat.minor - Fraction(gross_minor * rate, 10_000 + rate)) <= Fraction(1, 2)
    # and against its own net, the VAT drifts by at most one minor unit
    assert abs(split.vat.minor - Fraction(split.net.minor * rate, 10_000)) <= 1
