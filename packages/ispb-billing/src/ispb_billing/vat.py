"""VAT on one bill line, from a rate in basis points, exclusive or inclusive of the price.

The rule (also in the README): VAT is computed per line and rounded once per line, half away from zero, to
the currency's minor unit; a bill's VAT is the sum of its lines' VAT. So every printed line is internally
consistent (net + vat == total on the line) and the bill adds up exactly; each line's VAT is within half a
minor unit of the exact rational VAT.
"""

from dataclasses import dataclass

from ispb_billing.money import CurrencyMismatch, Money
from ispb_billing.rates import BASIS_POINTS, check_basis_points


@dataclass(frozen=True)
class VatSplit:
    """An amount split into its net part and its VAT; `gross` is their exact sum."""

    net: Money
    vat: Money

    def __post_init__(self) -> None:
        if self.net.currency != self.vat.currency:
            raise CurrencyMismatch(f"net {self.net} and VAT {self.vat} are in different currencies")

    @property
    def gross(self) -> Money:
        return self.net + self.vat


def vat_exclusive(net: Money, rate_bp: int) -> VatSplit:
    """VAT added on top of a net price: vat = net * rate / 10000, rounded half away from zero.

    >>> split = vat_exclusive(Money.of("800", "BDT"), 1500)
    >>> str(split.vat), str(split.gross)
    ('120.00 BDT', '920.00 BDT')
    """
    check_basis_points(rate_bp, "VAT rate")
    return VatSplit(net=net, vat=net.scaled(rate_bp, BASIS_POINTS))


def vat_inclusive(gross: Money, rate_bp: int) -> VatSplit:
    """VAT contained in a gross price: net = gross * 10000 / (10000 + rate), rounded; vat = gross - net.

    Rounding the net and taking the VAT as the difference keeps net + vat == gross exactly, so a package
    advertised at 1050.00 including VAT is billed at exactly 1050.00.

    >>> split = vat_inclusive(Money.of("1050", "BDT"), 500)
    >>> str(split.net), str(split.vat)
    ('1000.00 BDT', '50.00 BDT')
    """
    check_basis_points(rate_bp, "VAT rate")
    net = gross.scaled(BASIS_POINTS, BASIS_POINTS + rate_bp)
    return VatSplit(net=net, vat=gross - net)
