"""Computing one bill: the package line (pro-rated or not), discounts, adjustments, VAT per line.

Policies, all explicit so an operator can read them on the bill (DESIGN 11: no pro-rata surprises):
- Pro-rata (`ProrataPolicy.DAILY`): a period shorter than its cycle period (a first, partial period) is
  charged `price * period.days / full_period.days`, rounded once on the price as entered (gross when the
  package is VAT-inclusive, net otherwise), and the line says so ("Fiber 20, 12 of 30 days").
  `ProrataPolicy.NONE` charges the full price for any period.
- Discounts apply when the bill period's start is within their `starts`..`ends` dates. A percentage is taken
  of the package line's net (so it follows pro-rata); an amount is in the package's own terms (gross when
  VAT-inclusive) and is not pro-rated. Discount lines carry the package's VAT rate. Together they never take
  the package line below zero: the discount that would is capped to exactly what is left of the package line.
- Adjustments are VAT-exclusive amounts at their own rate (0 unless given): positive charges, negative credits.
- Safety: an implausible result (negative total, a period longer than a year) raises `ImplausibleBill`, so
  the platform parks the customer with a visible reason instead of issuing a wrong bill (DESIGN 10).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ispb_billing.cycles import Period
from ispb_billing.money import CurrencyMismatch, Money, sum_money
from ispb_billing.rates import BASIS_POINTS, check_basis_points, format_percent
from ispb_billing.vat import VatSplit, vat_exclusive, vat_inclusive

MAX_PERIOD_DAYS = 366
"""Longest period one bill may cover by default; longer is treated as a bug upstream (`ImplausibleBill`)."""


class ImplausibleBill(ValueError):
    """The computed bill is not believable (negative total, absurd period); the message says why, for people."""


class LineKind(StrEnum):
    PACKAGE = "package"
    PRORATA_CREDIT = "prorata_credit"
    DISCOUNT = "discount"
    ADJUSTMENT = "adjustment"


class ProrataPolicy(StrEnum):
    """How partial periods and mid-period package changes are charged (a billing profile setting)."""

    NONE = "none"
    DAILY = "daily"


@dataclass(frozen=True)
class PackageTerms:
    """What the customer's package costs per full period, and how VAT applies to that price."""

    name: str
    price: Money
    vat_rate_bp: int
    vat_inclusive: bool

    def __post_init__(self) -> None:
        check_basis_points(self.vat_rate_bp, "VAT rate")
        if self.price.is_negative:
            raise ValueError(f"package {self.name!r} has a negative price {self.price}")

    def split(self, amount: Money) -> VatSplit:
        """Split `amount`, given in this package's terms (gross if VAT-inclusive, else net), into net and VAT."""
        if self.vat_inclusive:
            return vat_inclusive(amount, self.vat_rate_bp)
        return vat_exclusive(amount, self.vat_rate_bp)


@dataclass(frozen=True)
class Discount:
    """A percentage (`percent_bp`) or a fixed `amount` off the package line, optionally limited in time."""

    label: str
    percent_bp: int | None = None
    amount: Money | None = None
    starts: date | None = None
    ends: date | None = None

    def __post_init__(self) -> None:
        if (self.percent_bp is None) == (self.amount is None):
            raise ValueError(f"discount {self.label!r} needs exactly one of percent_bp and amount")
        if self.percent_bp is not None:
            check_basis_points(self.percent_bp, "discount percentage")
        if self.amount is not None and self.amount.is_negative:
            raise ValueError(f"discount {self.label!r} has a negative amount {self.amount}")
        if self.starts is not None and self.ends is not None and self.starts > self.ends:
            raise ValueError(f"discount {self.label!r} ends ({self.ends}) before it starts ({self.starts})")

    def applies_to(self, period: Period) -> bool:
        """True when the period's start is within `starts`..`ends` (open ends are unlimited)."""
        after_start = self.starts is None or self.starts <= period.start
        before_end = self.ends is None or period.start <= self.ends
        return after_start and before_end


@dataclass(frozen=True)
class Adjustment:
    """A one-off VAT-exclusive charge (positive) or credit (negative) on the next bill.

    `kind` is ADJUSTMENT, or PRORATA_CREDIT for the unused-days credit of a package change.
    """

    description: str
    amount: Money
    vat_rate_bp: int = 0
    kind: LineKind = LineKind.ADJUSTMENT

    def __post_init__(self) -> None:
        check_basis_points(self.vat_rate_bp, "VAT rate")
        if self.kind not in (LineKind.ADJUSTMENT, LineKind.PRORATA_CREDIT):
            raise ValueError(f"an adjustment is of kind adjustment or prorata_credit, not {self.kind}")


@dataclass(frozen=True)
class BillLine:
    """One printed line: net, its VAT rate and VAT; `total` is their sum."""

    kind: LineKind
    description: str
    net: Money
    vat_rate_bp: int
    vat: Money

    def __post_init__(self) -> None:
        if self.net.currency != self.vat.currency:
            raise CurrencyMismatch(f"line {self.description!r}: net and VAT in different currencies")

    @property
    def total(self) -> Money:
        return self.net + self.vat


@dataclass(frozen=True)
class BillDraft:
    """A computed bill before it is numbered and issued; its sums are exact sums of its lines."""

    period: Period
    issue_date: date
    due_date: date
    lines: tuple[BillLine, ...]

    def __post_init__(self) -> None:
        if not self.lines:
            raise ValueError("a bill has at least one line")
        if len({line.net.currency for line in self.lines}) > 1:
            raise CurrencyMismatch("all lines of a bill are in one currency")

    @property
    def currency(self) -> str:
        return self.lines[0].net.currency

    @property
    def net(self) -> Money:
        return sum_money((line.net for line in self.lines), self.currency)

    @property
    def vat(self) -> Money:
        return sum_money((line.vat for line in self.lines), self.currency)

    @property
    def total(self) -> Money:
        return sum_money((line.total for line in self.lines), self.currency)


def compute_bill(
    *,
    package: PackageTerms,
    period: Period,
    full_period: Period,
    issue_date: date,
    due_days: int,
    prorata: ProrataPolicy,
    discounts: Sequence[Discount] = (),
    adjustments: Sequence[Adjustment] = (),
    max_period_days: int = MAX_PERIOD_DAYS,
) -> BillDraft:
    """The bill for `period` (part or all of the cycle period `full_period`); see the module doc for policies.

    >>> fiber = PackageTerms("Fiber 20", Money.of("800", "BDT"), vat_rate_bp=1500, vat_inclusive=False)
    >>> nov = Period(date(2026, 11, 1), date(2026, 11, 30))
    >>> bill = compute_bill(package=fiber, period=Period(date(2026, 11, 19), nov.end), full_period=nov,
    ...                     issue_date=date(2026, 11, 19), due_days=7, prorata=ProrataPolicy.DAILY)
    >>> [(line.description, str(line.net), str(line.vat)) for line in bill.lines]
    [('Fiber 20, 12 of 30 days', '320.00 BDT', '48.00 BDT')]
    >>> str(bill.total), bill.due_date
    ('368.00 BDT', datetime.date(2026, 11, 26))
    """
    _check_period(period, full_period, max_period_days)
    if isinstance(due_days, bool) or not isinstance(due_days, int) or due_days < 0:
        raise ValueError(f"due days must be a whole number of days >= 0, got {due_days!r}")
    package_line = _package_line(package, period, full_period, ProrataPolicy(prorata))
    applicable = [discount for discount in discounts if discount.applies_to(period)]
    lines = (
        package_line,
        *_discount_lines(package, package_line, applicable),
        *(_adjustment_line(adjustment) for adjustment in adjustments),
    )
    bill = BillDraft(period, issue_date, issue_date + timedelta(days=due_days), lines)
    if bill.total.is_negative:
        raise ImplausibleBill(
            f"the bill for {period} would total {bill.total}: credits exceed charges; "
            "record the credit on the customer's ledger instead of on a bill"
        )
    return bill


def _check_period(period: Period, full_period: Period, max_period_days: int) -> None:
    if period.days > max_period_days:
        raise ImplausibleBill(
            f"a {period.days}-day period ({period}) is implausible for one bill (the limit is {max_period_days} days)"
        )
    if full_period.days > max_period_days:
        raise ImplausibleBill(
            f"a {full_period.days}-day period ({full_period}) is implausible for one bill "
            f"(the limit is {max_period_days} days)"
        )
    if not (full_period.contains(period.start) and full_period.contains(period.end)):
        raise ImplausibleBill(f"the bill period {period} is not inside its cycle period {full_period}")


def _package_line(package: PackageTerms, period: Period, full_period: Period, prorata: ProrataPolicy) -> BillLine:
    price, description = package.price, package.name
    if prorata is ProrataPolicy.DAILY and period.days < full_period.days:
        price = price.scaled(period.days, full_period.days)
        description = f"{package.name}, {period.days} of {full_period.days} days"
    split = package.split(price)
    return BillLine(LineKind.PACKAGE, description, split.net, package.vat_rate_bp, split.vat)


def _discount_lines(package: PackageTerms, package_line: BillLine, discounts: Sequence[Discount]) -> list[BillLine]:
    """Discount lines in order, each capped so the package line plus its discounts never goes below zero."""
    lines: list[BillLine] = []
    left = VatSplit(package_line.net, package_line.vat)
    for discount in discounts:
        off = _discount_split(discount, package, package_line)
        description = discount.label
        if discount.percent_bp is not None:
            description = f"{discount.label} ({format_percent(discount.percent_bp)})"
        if off.net > left.net or off.vat > left.vat:
            off, description = left, f"{description}, capped at the package price"
        if off.net.is_zero and off.vat.is_zero:
            continue
        lines.append(BillLine(LineKind.DISCOUNT, description, -off.net, package.vat_rate_bp, -off.vat))
        left = VatSplit(left.net - off.net, left.vat - off.vat)
    return lines


def _discount_split(discount: Discount, package: PackageTerms, package_line: BillLine) -> VatSplit:
    """How much a discount takes off, as a positive net and VAT."""
    if discount.percent_bp is not None:
        return vat_exclusive(package_line.net.scaled(discount.percent_bp, BASIS_POINTS), package.vat_rate_bp)
    if discount.amount is None:  # unreachable: __post_init__ demands one of the two
        raise ValueError(f"discount {discount.label!r} has neither a percentage nor an amount")
    return package.split(discount.amount)


def _adjustment_line(adjustment: Adjustment) -> BillLine:
    vat = vat_exclusive(adjustment.amount, adjustment.vat_rate_bp).vat
    return BillLine(adjustment.kind, adjustment.description, adjustment.amount, adjustment.vat_rate_bp, vat)


def package_change_adjustments(
    *,
    old: PackageTerms,
    new: PackageTerms,
    period: Period,
    change_date: date,
    policy: ProrataPolicy,
    full_period: Period | None = None,
) -> tuple[Adjustment, ...]:
    """Adjustments for changing package on `change_date`, inside the already billed `period`.

    DAILY: a credit (kind PRORATA_CREDIT) for the old package's unused days, `change_date` to `period.end`
    inclusive, and a charge (kind ADJUSTMENT) for the new package over the same days, each at its package's
    VAT rate and as a net amount (a VAT-inclusive price is split first). The day share is taken of the
    cycle's full period: pass `full_period` when `period` was a partial first period (default: `period`).
    Discounts on the old bill are not re-credited. NONE: no adjustments; the new price applies from the
    next period.

    >>> old = PackageTerms("Fiber 20", Money.of("800", "BDT"), vat_rate_bp=0, vat_inclusive=False)
    >>> new = PackageTerms("Fiber 40", Money.of("1100", "BDT"), vat_rate_bp=0, vat_inclusive=False)
    >>> nov = Period(date(2026, 11, 1), date(2026, 11, 30))
    >>> for adjustment in package_change_adjustments(
    ...     old=old, new=new, period=nov, change_date=date(2026, 11, 21), policy=ProrataPolicy.DAILY
    ... ):
    ...     print(adjustment.kind, adjustment.amount, adjustment.description)
    prorata_credit -266.67 BDT Fiber 20, 10 unused days of 30 (changed on 2026-11-21)
    adjustment 366.67 BDT Fiber 40, 10 of 30 days (changed on 2026-11-21)
    """
    if ProrataPolicy(policy) is ProrataPolicy.NONE:
        return ()
    cycle = period if full_period is None else full_period
    if not period.contains(change_date):
        raise ValueError(f"the package change date {change_date} is outside the billed period {period}")
    if not (cycle.contains(period.start) and cycle.contains(period.end)):
        raise ValueError(f"the billed period {period} is not inside its cycle period {cycle}")
    days = (period.end - change_date).days + 1
    when = f"changed on {change_date.isoformat()}"
    credit = Adjustment(
        f"{old.name}, {days} unused days of {cycle.days} ({when})",
        -_net_share(old, days, cycle.days),
        old.vat_rate_bp,
        LineKind.PRORATA_CREDIT,
    )
    charge = Adjustment(
        f"{new.name}, {days} of {cycle.days} days ({when})", _net_share(new, days, cycle.days), new.vat_rate_bp
    )
    return credit, charge


def _net_share(package: PackageTerms, days: int, of_days: int) -> Money:
    return package.split(package.price.scaled(days, of_days)).net
