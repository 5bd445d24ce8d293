"""Rates in basis points (1500 = 15.00 %): VAT rates and percentage discounts, kept as ints like money.

Why basis points: a rate such as 7.5 % is exact as 750, and multiplying money by `bp / 10000` stays in
integer arithmetic (`Money.scaled(bp, BASIS_POINTS)`), so no float or Decimal context touches a bill.
"""

BASIS_POINTS = 10_000
"""100 % in basis points."""


def check_basis_points(value: int, what: str) -> int:
    """Return `value` if it is an int from 0 to 10000 (0 % to 100 %); ValueError naming `what` otherwise.

    >>> check_basis_points(1500, "VAT rate")
    1500
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BASIS_POINTS:
        raise ValueError(f"{what} must be whole basis points from 0 to {BASIS_POINTS} (1500 = 15 %), got {value!r}")
    return value


def format_percent(bp: int) -> str:
    """Basis points as people write percentages: 1500 -> "15%", 750 -> "7.5%", 1234 -> "12.34%".

    >>> format_percent(1500), format_percent(750), format_percent(5)
    ('15%', '7.5%', '0.05%')
    """
    whole, fraction = divmod(bp, 100)
    if fraction == 0:
        return f"{whole}%"
    return f"{whole}.{fraction:02d}".rstrip("0") + "%"
