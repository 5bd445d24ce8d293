"""Money: parsing, exact arithmetic, the one rounding rule, allocation and formatting."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import CurrencyMismatch, Money, exponent, format_money, sum_money
from ispb_billing.money import divide_half_away_from_zero


def bdt(amount: str) -> Money:
    return Money.of(amount, "BDT")


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("800", 80000),
        ("800.5", 80050),
        ("800.50", 80050),
        ("1,234.50", 123450),
        ("1,23,456.50", 12345650),
        ("12,34,567", 123456700),
        ("1,234,567.89", 123456789),
        ("0.01", 1),
        ("-500", -50000),
        ("+5.00", 500),
        ("  7 ", 700),
        ("0", 0),
    ],
)
def test_of_parses_decimal_text(text: str, minor: int) -> None:
    assert Money.of(text, "BDT") == Money(minor, "BDT")


def test_of_accepts_decimal_and_int() -> None:
    assert Money.of(Decimal("800.50"), "BDT").minor == 80050
    assert Money.of(Decimal("800.500"), "BDT").minor == 80050  # trailing zeros are exact, not extra decimals
    assert Money.of(Decimal("1E+2"), "BDT").minor == 10000
    assert Money.of(800, "BDT").minor == 80000
    assert Money.of(800, "JPY").minor == 800
    assert Money.of(5, "KWD").minor == 5000


def test_of_refuses_more_decimals_than_the_currency_has() -> None:
    with pytest.raises(ValueError, match=r"^800\.505 has more than 2 decimals for BDT$"):
        Money.of("800.505", "BDT")
    with pytest.raises(ValueError, match="more than 2 decimals for BDT"):
        Money.of(Decimal("0.001"), "BDT")
    with pytest.raises(ValueError, match="more than 3 decimals for KWD"):
        Money.of("1.0005", "KWD")
    with pytest.raises(ValueError, match="JPY has no minor unit"):
        Money.of("1.5", "JPY")


@pytest.mark.parametrize("junk", ["", "abc", "1.", ".5", "1,2345", "12,3", "1e5", "৮০০", "1 000", "--1", "NaN"])
def test_of_refuses_junk_with_a_clear_message(junk: str) -> None:
    with pytest.raises(ValueError, match="is not an amount of money"):
        Money.of(junk, "BDT")


def test_of_refuses_float_and_bool() -> None:
    with pytest.raises(TypeError, match="refuses float"):
        Money.of(800.5, "BDT")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(True, "BDT")
    with pytest.raises(ValueError, match="not an amount"):
        Money.of(Decimal("Infinity"), "BDT")
    with pytest.raises(ValueError, match="too large"):
        Money.of(Decimal("1E+40"), "BDT")


def test_constructor_checks_types_and_currency() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "BDT")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(1, "bdt")
    with pytest.raises(ValueError, match="ISO 4217"):
        Money.of("1", "TAKA")
    assert Money.from_minor(80000, "BDT") == Money(80000, "BDT") == bdt("800")
    assert Money.zero("USD") == Money(0, "USD")


def test_exponents_come_from_the_table_with_two_for_unknown_codes() -> None:
    assert [exponent(c) for c in ("BDT", "INR", "USD", "JPY", "KWD", "BHD", "OMR", "XYZ")] == [2, 2, 2, 0, 3, 3, 3, 2]


def test_arithmetic_and_predicates() -> None:
    assert bdt("800") + bdt("0.50") == bdt("800.50")
    assert bdt("800") - bdt("1000") == bdt("-200")
    assert -bdt("5") == bdt("-5")
    assert abs(bdt("-5")) == bdt("5")
    assert bdt("1") > bdt("0.99") >= bdt("0.99")
    assert bdt("0.99") < bdt("1") <= bdt("1")
    assert max(bdt("1"), bdt("2")) == bdt("2")
    assert not Money.zero("BDT")
    assert bdt("0.01")
    assert Money.zero("BDT").is_zero
    assert bdt("1").is_positive and not bdt("1").is_negative
    assert bdt("-1").is_negative and not bdt("-1").is_positive


def test_mixing_currencies_raises_currency_mismatch() -> None:
    usd = Money.of("1", "USD")
    for operation in (
        lambda: bdt("1") + usd,
        lambda: bdt("1") - usd,
        lambda: bdt("1") < usd,
        lambda: bdt("1") >= usd,
        lambda: sum_money([bdt("1"), usd], "BDT"),
    ):
        with pytest.raises(CurrencyMismatch, match="different currencies"):
            operation()
    assert issubclass(CurrencyMismatch, ValueError)
    assert bdt("1") != Money.of("1", "USD")  # equality is defined: different currencies are not equal


def test_money_does_not_mix_with_numbers() -> None:
    with pytest.raises(TypeError):
        bdt("1") + 1  # type: ignore[operator]


def test_to_decimal_is_exact() -> None:
    assert bdt("800").to_decimal() == Decimal("800.00")
    assert str(bdt("800").to_decimal()) == "800.00"
    assert str(bdt("-0.05").to_decimal()) == "-0.05"
    assert str(Money(5, "JPY").to_decimal()) == "5"
    # beyond the default Decimal context's 28 digits, still exact
    assert str(Money(10**40 + 1, "BDT").to_decimal()) == "1" + "0" * 37 + "0.01"


def test_sum_money_of_nothing_is_zero() -> None:
    assert sum_money([], "BDT") == Money.zero("BDT")
    assert sum_money([bdt("1"), bdt("2.50")], "BDT") == bdt("3.50")


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (-5, 2, -3), (7, 2, 4), (4, 3, 1), (5, 3, 2), (-4, 3, -1), (-5, 3, -2), (0, 7, 0), (5, -2, -3)],
)
def test_division_rounds_half_away_from_zero(numerator: int, denominator: int, expected: int) -> None:
    assert divide_half_away_from_zero(numerator, denominator) == expected


def test_scaled_rounds_once_half_away_from_zero() -> None:
    assert bdt("800").scaled(12, 30) == bdt("320")
    assert bdt("1000").scaled(7, 31) == bdt("225.81")  # 225.806...
    assert Money(5, "BDT").scaled(1, 2) == Money(3, "BDT")
    assert Money(-5, "BDT").scaled(1, 2) == Money(-3, "BDT")
    with pytest.raises(ValueError, match="by zero"):
        bdt("1").scaled(1, 0)


@given(st.integers(-(10**12), 10**12), st.integers(-10_000, 10_000), st.integers(1, 10_000))
def test_scaled_is_within_half_a_minor_unit_and_symmetric(minor: int, numerator: int, denominator: int) -> None:
    result = Money(minor, "BDT").scaled(numerator, denominator)
    assert abs(Fraction(result.minor) - Fraction(minor * numerator, denominator)) <= Fraction(1, 2)
    assert Money(-minor, "BDT").scaled(numerator, denominator) == -result


def test_allocate_examples() -> None:
    assert bdt("100").allocate([1, 1, 1]) == [bdt("33.34"), bdt("33.33"), bdt("33.33")]
    assert bdt("-100").allocate([1, 1, 1]) == [bdt("-33.34"), bdt("-33.33"), bdt("-33.33")]
    assert bdt("10").allocate([0, 1]) == [bdt("0"), bdt("10")]
    assert Money(5, "BDT").allocate([1, 2]) == [Money(2, "BDT"), Money(3, "BDT")]  # 1.67 and 3.33: remainders


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_weights_without_a_positive_sum(weights: list[int]) -> None:
    with pytest.raises(ValueError, match="weights"):
        bdt("1").allocate(weights)


@given(st.integers(-(10**9), 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=8))
def test_allocate_preserves_the_sum_and_stays_within_a_unit_of_each_share(minor: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights, 1]
    parts = Money(minor, "BDT").allocate(weights)
    assert sum_money(parts, "BDT") == Money(minor, "BDT")
    for part, weight in zip(parts, weights, strict=True):
        assert abs(Fraction(part.minor) - Fraction(minor * weight, sum(weights))) < 1
        if weight == 0:
            assert part.is_zero


@pytest.mark.parametrize(
    ("money", "symbol", "text"),
    [
        (Money.of("12345678.90", "BDT"), True, "৳1,23,45,678.90"),
        (Money.of("123456.50", "BDT"), True, "৳1,23,456.50"),
        (Money.of("123456.50", "BDT"), False, "1,23,456.50"),
        (Money.of("100000000", "BDT"), True, "৳10,00,00,000.00"),
        (Money.of("1234.5", "BDT"), True, "৳1,234.50"),
        (Money.of("500", "BDT"), True, "৳500.00"),
        (Money.of("-500", "BDT"), True, "-৳500.00"),
        (Money.of("-500", "BDT"), False, "-500.00"),
        (Money.of("0.05", "BDT"), True, "৳0.05"),
        (Money.of("123456.5", "INR"), True, "₹1,23,456.50"),
        (Money.of("123456.5", "NPR"), True, "रू 1,23,456.50"),
        (Money.of("123456.5", "PKR"), True, "Rs 1,23,456.50"),
        (Money.of("1234567.5", "USD"), True, "$1,234,567.50"),
        (Money.of("1234.5", "EUR"), True, "€1,234.50"),
        (Money.of("1234.5", "GBP"), True, "£1,234.50"),
        (Money.of("1234567", "JPY"), True, "¥1,234,567"),
        (Money.of("1234.125", "KWD"), True, "1,234.125 KWD"),
    ],
)
def test_format_money(money: Money, symbol: bool, text: str) -> None:
    assert format_money(money, symbol=symbol) == text


def test_str_is_plain() -> None:
    assert str(Money.of("800", "BDT")) == "800.00 BDT"
    assert str(Money.of("-123456.5", "BDT")) == "-123456.50 BDT"
    assert str(Money.of("800", "JPY")) == "800 JPY"
    assert str(Money.of("0.005", "KWD")) == "0.005 KWD"


@given(st.integers(-(10**15), 10**15), st.sampled_from(["BDT", "USD", "JPY", "KWD", "INR"]))
def test_formatted_text_parses_back(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.of(format_money(money, symbol=False), currency) == money
    assert Money.of(str(money).removesuffix(f" {currency}"), currency) == money
