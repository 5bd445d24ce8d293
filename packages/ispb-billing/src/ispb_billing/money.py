"""Money as an integer count of minor units (poisha, paise, cents) in one currency: exact, never float.

Why integers: a bill's total must equal the sum of its lines to the last poisha on every run, and a customer
must never be suspended over a rounding crumb. Integers make that true by construction; the only place a
fraction can appear is `Money.scaled`, which rounds once, half away from zero (the one rounding rule of this
library), and `Money.allocate`, which splits without losing or creating a single minor unit.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "BDT": 2,
        "INR": 2,
        "USD": 2,
        "EUR": 2,
        "GBP": 2,
        "PKR": 2,
        "NPR": 2,
        "JPY": 0,
        "KWD": 3,
        "BHD": 3,
        "OMR": 3,
    }
)
"""Decimals per currency (ISO 4217). Codes not listed use `DEFAULT_EXPONENT`."""

DEFAULT_EXPONENT = 2

CURRENCY_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"BDT": "৳", "INR": "₹", "NPR": "रू ", "PKR": "Rs ", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
)
"""What `format_money` writes before the number; letter symbols carry their own space ("Rs 1,000.00")."""

_LAKH_GROUPED = frozenset({"BDT", "INR", "NPR", "PKR"})

_MAX_INTEGER_DIGITS = 30  # far beyond any bill; refuses "1E+999999999" before it costs memory
_CODE = re.compile(r"[A-Z]{3}")
# Plain digits, western grouping (1,234,567) or South Asian grouping (12,34,567); optional sign and decimals.
_AMOUNT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3})(?:\.\d+)?", re.ASCII)


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined; converting silently would invent money."""


def exponent(currency: str) -> int:
    """Number of decimals of `currency`, e.g. 2 for BDT (1 taka = 100 poisha), 0 for JPY.

    >>> exponent("BDT"), exponent("JPY"), exponent("KWD")
    (2, 0, 3)
    """
    return CURRENCY_EXPONENTS.get(currency, DEFAULT_EXPONENT)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `minor` units of `currency` (an upper-case ISO 4217 code).

    >>> Money.of("1,234.50", "BDT")
    Money(minor=123450, currency='BDT')
    >>> str(Money.of("800", "BDT") - Money.of("0.50", "BDT"))
    '799.50 BDT'
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money.minor must be an int count of minor units, not {type(self.minor).__name__}")
        _check_currency(self.currency)

    # -- construction -------------------------------------------------------------------------------------------

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> "Money":
        """Parse an amount in major units ("800", "800.5", "1,234.50", Decimal("800.50"), 800).

        Refuses float (binary fractions are not money) with TypeError, and text that is not an amount or has
        more decimals than the currency has (a silent rounding here would be a wrong bill) with ValueError.

        >>> Money.of("800.505", "BDT")
        Traceback (most recent call last):
        ...
        ValueError: 800.505 has more than 2 decimals for BDT
        """
        _check_currency(currency)
        return cls(_parse_minor(amount, currency), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> "Money":
        """The same as `Money(minor, currency)`; reads better where rows store minor units."""
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        """Nothing, in `currency`: the start of every sum."""
        return cls(0, currency)

    # -- arithmetic ---------------------------------------------------------------------------------------------

    def __add__(self, other: "Money") -> "Money":
        return Money(self.minor + _same_currency(self, other, "+").minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        return Money(self.minor - _same_currency(self, other, "-").minor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.minor, self.currency)

    def __abs__(self) -> "Money":
        return Money(abs(self.minor), self.currency)

    def __lt__(self, other: "Money") -> bool:
        return self.minor < _same_currency(self, other, "<").minor

    def __le__(self, other: "Money") -> bool:
        return self.minor <= _same_currency(self, other, "<=").minor

    def __gt__(self, other: "Money") -> bool:
        return self.minor > _same_currency(self, other, ">").minor

    def __ge__(self, other: "Money") -> bool:
        return self.minor >= _same_currency(self, other, ">=").minor

    def __bool__(self) -> bool:
        return self.minor != 0

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0

    @property
    def is_negative(self) -> bool:
        return self.minor < 0

    def scaled(self, numerator: int, denominator: int) -> "Money":
        """This amount times `numerator / denominator`, rounded once, half away from zero.

        Exact integer arithmetic: no Decimal context, no float. Half away from zero is symmetric, so a credit
        rounds exactly like the charge it reverses (`(-m).scaled(a, b) == -(m.scaled(a, b))`).

        >>> str(Money.of("800", "BDT").scaled(12, 30))
        '320.00 BDT'
        >>> str(Money.of("0.05", "BDT").scaled(1, 2)), str(Money.of("-0.05", "BDT").scaled(1, 2))
        ('0.03 BDT', '-0.03 BDT')
        """
        return Money(divide_half_away_from_zero(self.minor * numerator, denominator), self.currency)

    def allocate(self, weights: Sequence[int]) -> "list[Money]":
        """Split into parts proportional to `weights` whose sum is exactly this amount (largest remainder).

        Leftover minor units go to the parts with the largest remainders, ties to the earlier part, so the
        result is deterministic. A negative amount splits like its absolute value, negated.

        >>> [str(m) for m in Money.of("100", "BDT").allocate([1, 1, 1])]
        ['33.34 BDT', '33.33 BDT', '33.33 BDT']
        """
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError(f"allocate needs non-negative weights with a positive sum, got {list(weights)}")
        total = sum(weights)
        magnitude = abs(self.minor)
        shares = [magnitude * w // total for w in weights]
        remainders = [magnitude * w % total for w in weights]
        leftover = magnitude - sum(shares)
        for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:leftover]:
            shares[index] += 1
        sign = -1 if self.minor < 0 else 1
        return [Money(sign * share, self.currency) for share in shares]

    # -- conversion ---------------------------------------------------------------------------------------------

    def to_decimal(self) -> Decimal:
        """The exact amount in major units, e.g. Decimal("800.00") for 80000 poisha."""
        digits = tuple(int(c) for c in str(abs(self.minor)))
        return Decimal((1 if self.minor < 0 else 0, digits, -exponent(self.currency)))

    def __str__(self) -> str:
        """Plain and unambiguous for logs and reasons: "800.00 BDT" (no grouping, no symbol)."""
        sign = "-" if self.minor < 0 else ""
        return f"{sign}{_ungrouped(abs(self.minor), self.currency)} {self.currency}"


def format_money(money: Money, *, symbol: bool = True) -> str:
    """For people: grouped digits and the currency symbol, e.g. "৳1,23,456.50" or "$1,234.50".

    BDT, INR, NPR and PKR group the South Asian way (lakh, crore: 1,23,45,678.90), as customers there read
    amounts; other currencies group by thousands. Currencies without a symbol here end with their code.
    `symbol=False` gives the grouped number alone, for tables whose header names the currency.

    >>> format_money(Money.of("12345678.90", "BDT")), format_money(Money.of("-500", "BDT"))
    ('৳1,23,45,678.90', '-৳500.00')
    >>> format_money(Money.of("1234.5", "USD")), format_money(Money.of("123456.5", "BDT"), symbol=False)
    ('$1,234.50', '1,23,456.50')
    """
    sign = "-" if money.minor < 0 else ""
    whole, _, fraction = _ungrouped(abs(money.minor), money.currency).partition(".")
    grouped = _group_lakh(whole) if money.currency in _LAKH_GROUPED else f"{int(whole):,}"
    number = f"{grouped}.{fraction}" if fraction else grouped
    if not symbol:
        return f"{sign}{number}"
    prefix = CURRENCY_SYMBOLS.get(money.currency)
    if prefix is None:
        return f"{sign}{number} {money.currency}"
    return f"{sign}{prefix}{number}"


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Sum of `items`, all in `currency` (CurrencyMismatch otherwise); zero for no items.

    The builtin `sum()` needs a start value and would accept mixed currencies; this does neither.
    """
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def divide_half_away_from_zero(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded to an int, halves away from zero: the library's one rounding rule.

    >>> divide_half_away_from_zero(5, 2), divide_half_away_from_zero(-5, 2), divide_half_away_from_zero(7, 3)
    (3, -3, 2)
    """
    if denominator == 0:
        raise ValueError("cannot divide an amount by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def _check_currency(currency: str) -> None:
    if type(currency) is str and currency in CURRENCY_EXPONENTS:  # the common case, without the regex
        return
    if not isinstance(currency, str) or not _CODE.fullmatch(currency):
        raise ValueError(f"currency must be an upper-case ISO 4217 code such as BDT, got {currency!r}")


def _same_currency(left: Money, right: object, operator: str) -> Money:
    if not isinstance(right, Money):
        raise TypeError(f"unsupported operand for {operator}: Money and {type(right).__name__}")
    if right.currency != left.currency:
        raise CurrencyMismatch(f"cannot apply {operator} to {left} and {right}: different currencies")
    return right


def _parse_minor(amount: object, currency: str) -> int:
    if isinstance(amount, float):
        raise TypeError(
            f"Money.of refuses float {amount!r}: floats cannot hold money exactly; "
            f"pass text or a Decimal, e.g. Money.of('{amount}', '{currency}')"
        )
    if isinstance(amount, bool):
        raise TypeError("Money.of refuses bool: pass text, a Decimal or an int")
    if isinstance(amount, int):
        return amount * _power_of_ten(exponent(currency))
    if isinstance(amount, str):
        text = amount.strip()
        if not _AMOUNT.fullmatch(text):
            raise ValueError(f"{amount!r} is not an amount of money (write it like 800, 800.50 or 1,234.50)")
        return _decimal_to_minor(Decimal(text.replace(",", "")), text, currency)
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise ValueError(f"{amount} is not an amount of money")
        return _decimal_to_minor(amount, str(amount), currency)
    raise TypeError(f"Money.of takes text, a Decimal or an int, not {type(amount).__name__}")


def _decimal_to_minor(value: Decimal, text: str, currency: str) -> int:
    """Exact conversion from the Decimal's digits: a Decimal context could round, this never does."""
    sign, digits, exp = value.as_tuple()
    if not isinstance(exp, int):  # NaN and infinities are refused before this; keeps the type exact
        raise ValueError(f"{text} is not an amount of money")
    if len(digits) + exp > _MAX_INTEGER_DIGITS:
        raise ValueError(f"{text} is too large for an amount of money")
    coefficient = int("".join(str(d) for d in digits))
    shift = exp + exponent(currency)
    if shift >= 0:
        minor = coefficient * _power_of_ten(shift)
    else:
        minor, remainder = divmod(coefficient, _power_of_ten(-shift))
        if remainder:
            raise ValueError(_too_many_decimals(text, currency))
    return -minor if sign else minor


def _too_many_decimals(text: str, currency: str) -> str:
    places = exponent(currency)
    if places == 0:
        return f"{text} has decimals, but {currency} has no minor unit"
    return f"{text} has more than {places} decimals for {currency}"


def _group_lakh(digits: str) -> str:
    """ "12345678" -> "1,23,45,678": the last three digits, then pairs."""
    head, tail = digits[:-3], digits[-3:]
    groups = [tail]
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join(groups)


def _power_of_ten(power: int) -> int:
    """10**power for power >= 0, typed as int (the ** operator is typed loosely because of negative powers)."""
    result: int = 10**power
    return result


def _ungrouped(magnitude: int, currency: str) -> str:
    places = exponent(currency)
    if places == 0:
        return str(magnitude)
    whole, fraction = divmod(magnitude, _power_of_ten(places))
    return f"{whole}.{fraction:0{places}d}"
