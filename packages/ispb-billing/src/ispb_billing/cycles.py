"""Billing cycles: which days one bill covers.

Monthly cycles bill on a billing day of the month (1-31). A billing day of 29, 30 or 31 falls on the last
day of shorter months, and a period runs from one bill date to the day before the next one, so periods
tile the calendar with no gap and no overlap. With billing day 31 (non-leap year): Jan 31 - Feb 27,
Feb 28 - Mar 30, Mar 31 - Apr 29, Apr 30 - May 30, May 31 - Jun 29, ...

Daily cycles bill a package's validity (e.g. 30 days) back to back from the service start.

A package and a cycle must agree (`validity_mismatch`): a monthly cycle bills a month at the package's price,
which is right only for a package valid for a month (28 to 31 days, `MONTH_VALIDITY_DAYS`). A package valid
for 1, 7 or 90 days is a *validity package*: it is prepaid per validity period on a daily cycle, where each
bill covers `validity_days` days at the package's price. Any package fits a daily cycle.

Everything here is a pure function of its arguments (time comes in as `today`), so the platform can call
`due_period` again and again to catch up after an outage and always gets the same answer.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

_ONE_DAY = timedelta(days=1)


class Cycle(StrEnum):
    MONTHLY = "monthly"
    DAILY = "daily"


MONTH_VALIDITY_DAYS = range(28, 32)
"""Validities (in days) of a monthly package: a month is 28 to 31 days long. Any other is a validity package."""


def is_validity_package(validity_days: int) -> bool:
    """True for a package valid for anything other than a month (1, 7, 15, 90 days): prepaid, daily cycle only.

    >>> is_validity_package(1), is_validity_package(7), is_validity_package(30), is_validity_package(31)
    (True, True, False, False)
    """
    _check_validity(validity_days)
    return validity_days not in MONTH_VALIDITY_DAYS


def validity_mismatch(cycle: Cycle, validity_days: int) -> str | None:
    """Why a package valid for `validity_days` cannot be billed on `cycle`, in words; None when they agree.

    A monthly cycle bills a month at the package's price, so a 1-day package would be sold for a month at a
    day's price (and a 90-day package for a month at three months' price). Such a package is billed on a daily
    cycle, each bill covering its validity.

    >>> validity_mismatch(Cycle.MONTHLY, 30) is None, validity_mismatch(Cycle.DAILY, 1) is None
    (True, True)
    >>> for part in validity_mismatch(Cycle.MONTHLY, 1).split("; "):
    ...     print(part)
    a package valid for 1 day is prepaid per validity period on a daily billing cycle
    a monthly cycle would bill a whole month at the price of 1 day
    """
    if Cycle(cycle) is Cycle.DAILY or not is_validity_package(validity_days):
        return None
    days = f"{validity_days} day" if validity_days == 1 else f"{validity_days} days"
    return (
        f"a package valid for {days} is prepaid per validity period on a daily billing cycle; "
        f"a monthly cycle would bill a whole month at the price of {days}"
    )


@dataclass(frozen=True, order=True)
class Period:
    """The days one bill covers, `start` to `end`, both included.

    >>> p = Period(date(2026, 11, 1), date(2026, 11, 30))
    >>> p.days, p.contains(date(2026, 11, 30)), str(p)
    (30, True, '2026-11-01 – 2026-11-30')
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def monthly_bill_date(year: int, month: int, billing_day: int) -> date:
    """The bill date of a month: `billing_day`, or the month's last day when the month is shorter.

    >>> monthly_bill_date(2026, 2, 31), monthly_bill_date(2028, 2, 30), monthly_bill_date(2026, 4, 31)
    (datetime.date(2026, 2, 28), datetime.date(2028, 2, 29), datetime.date(2026, 4, 30))
    """
    _check_billing_day(billing_day)
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def monthly_period_containing(day: date, billing_day: int) -> Period:
    """The monthly period that `day` falls in: from the latest bill date <= day to the day before the next.

    >>> str(monthly_period_containing(date(2026, 2, 10), 31))
    '2026-01-31 – 2026-02-27'
    >>> str(monthly_period_containing(date(2026, 2, 28), 31))
    '2026-02-28 – 2026-03-30'
    """
    this_month = monthly_bill_date(day.year, day.month, billing_day)
    if this_month <= day:
        start, following = this_month, monthly_bill_date(*_next_month(day.year, day.month), billing_day)
    else:
        start, following = monthly_bill_date(*_previous_month(day.year, day.month), billing_day), this_month
    return Period(start, following - _ONE_DAY)


def daily_period(start: date, validity_days: int) -> Period:
    """`validity_days` days from `start` (inclusive): a 30-day package started on 2026-12-20 ends 2027-01-18.

    >>> str(daily_period(date(2026, 12, 20), 30))
    '2026-12-20 – 2027-01-18'
    """
    _check_validity(validity_days)
    return Period(start, start + timedelta(days=validity_days - 1))


def next_daily_period(previous: Period, validity_days: int) -> Period:
    """The daily period that starts the day after `previous` ends."""
    return daily_period(previous.end + _ONE_DAY, validity_days)


def due_period(
    *,
    cycle: Cycle,
    today: date,
    billing_day: int,
    validity_days: int,
    service_start: date,
    last_period_end: date | None,
) -> Period | None:
    """The period to bill on `today`, or None when nothing is due; pure, so safe to call again and again.

    Monthly: the period containing `today`, starting no earlier than `service_start` (a first, partial
    period) nor before the day after `last_period_end` (days already billed are never billed twice); None
    when service starts after today or that period is already covered (`last_period_end >= period.end`).
    Missed earlier months are not billed retroactively: a monthly customer gets the current period.

    Daily: the first period from `service_start`, then each next period from `last_period_end + 1` (or
    `service_start` if that is later), as long as it starts on or before `today`. The platform catches up
    missed daily periods by calling this again with the new `last_period_end` until it returns None.

    >>> str(due_period(cycle=Cycle.MONTHLY, today=date(2026, 11, 20), billing_day=1, validity_days=30,
    ...                service_start=date(2026, 11, 19), last_period_end=None))
    '2026-11-19 – 2026-11-30'
    """
    if service_start > today:
        return None
    if Cycle(cycle) is Cycle.MONTHLY:
        return _due_monthly(today, billing_day, service_start, last_period_end)
    return _due_daily(today, validity_days, service_start, last_period_end)


def _due_monthly(today: date, billing_day: int, service_start: date, last_period_end: date | None) -> Period | None:
    full = monthly_period_containing(today, billing_day)
    if last_period_end is not None and last_period_end >= full.end:
        return None
    start = max(full.start, service_start)
    if last_period_end is not None:
        start = max(start, last_period_end + _ONE_DAY)
    return Period(start, full.end)


def _due_daily(today: date, validity_days: int, service_start: date, last_period_end: date | None) -> Period | None:
    start = service_start if last_period_end is None else max(last_period_end + _ONE_DAY, service_start)
    if start > today:
        _check_validity(validity_days)
        return None
    return daily_period(start, validity_days)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _check_billing_day(billing_day: int) -> None:
    if isinstance(billing_day, bool) or not isinstance(billing_day, int) or not 1 <= billing_day <= 31:
        raise ValueError(f"billing day must be a day of the month from 1 to 31, got {billing_day!r}")


def _check_validity(validity_days: int) -> None:
    if isinstance(validity_days, bool) or not isinstance(validity_days, int) or validity_days < 1:
        raise ValueError(f"validity must be at least 1 day, got {validity_days!r}")
