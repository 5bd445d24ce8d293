"""Billing cycles: month ends, leap years, daily validity, and catch-up-safe due periods."""

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ispb_billing import (
    Cycle,
    Period,
    daily_period,
    due_period,
    monthly_bill_date,
    monthly_period_containing,
    next_daily_period,
)

ONE_DAY = timedelta(days=1)


def p(start: str, end: str) -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end))


def test_period_basics() -> None:
    nov = p("2026-11-01", "2026-11-30")
    assert nov.days == 30
    assert nov.contains(date(2026, 11, 1)) and nov.contains(date(2026, 11, 30))
    assert not nov.contains(date(2026, 12, 1)) and not nov.contains(date(2026, 10, 31))
    assert str(nov) == "2026-11-01 – 2026-11-30"
    assert p("2026-11-05", "2026-11-05").days == 1
    assert sorted([p("2026-12-01", "2026-12-31"), nov]) == [nov, p("2026-12-01", "2026-12-31")]


def test_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        p("2026-11-02", "2026-11-01")


@pytest.mark.parametrize(
    ("year", "month", "billing_day", "expected"),
    [
        (2026, 2, 28, "2026-02-28"),
        (2026, 2, 29, "2026-02-28"),
        (2026, 2, 30, "2026-02-28"),
        (2026, 2, 31, "2026-02-28"),
        (2028, 2, 29, "2028-02-29"),
        (2028, 2, 30, "2028-02-29"),
        (2028, 2, 31, "2028-02-29"),
        (2100, 2, 29, "2100-02-28"),  # not a leap year
        (2000, 2, 29, "2000-02-29"),  # a leap year
        (2026, 4, 30, "2026-04-30"),
        (2026, 4, 31, "2026-04-30"),
        (2026, 5, 31, "2026-05-31"),
        (2026, 1, 1, "2026-01-01"),
        (2026, 6, 15, "2026-06-15"),
    ],
)
def test_monthly_bill_date_falls_on_the_last_day_of_shorter_months(
    year: int, month: int, billing_day: int, expected: str
) -> None:
    assert monthly_bill_date(year, month, billing_day) == date.fromisoformat(expected)


@pytest.mark.parametrize("billing_day", [0, 32, -1])
def test_billing_day_must_be_1_to_31(billing_day: int) -> None:
    with pytest.raises(ValueError, match="billing day"):
        monthly_bill_date(2026, 1, billing_day)


def test_billing_day_31_periods_as_documented() -> None:
    days = ["2026-02-10", "2026-03-01", "2026-04-15", "2026-05-01", "2026-06-01"]
    periods = [str(monthly_period_containing(date.fromisoformat(d), 31)) for d in days]
    assert periods == [
        "2026-01-31 – 2026-02-27",
        "2026-02-28 – 2026-03-30",
        "2026-03-31 – 2026-04-29",
        "2026-04-30 – 2026-05-30",
        "2026-05-31 – 2026-06-29",
    ]


def test_billing_day_31_in_a_leap_year() -> None:
    assert monthly_period_containing(date(2028, 2, 28), 31) == p("2028-01-31", "2028-02-28")
    assert monthly_period_containing(date(2028, 2, 29), 31) == p("2028-02-29", "2028-03-30")


def test_billing_days_29_and_30_around_february() -> None:
    assert monthly_period_containing(date(2026, 2, 27), 30) == p("2026-01-30", "2026-02-27")
    assert monthly_period_containing(date(2026, 2, 28), 30) == p("2026-02-28", "2026-03-29")
    assert monthly_period_containing(date(2026, 2, 28), 29) == p("2026-02-28", "2026-03-28")
    assert monthly_period_containing(date(2028, 2, 29), 29) == p("2028-02-29", "2028-03-28")
    assert monthly_period_containing(date(2028, 2, 28), 29) == p("2028-01-29", "2028-02-28")


def test_monthly_periods_on_day_1_are_calendar_months_and_cross_the_year_end() -> None:
    assert monthly_period_containing(date(2026, 2, 14), 1) == p("2026-02-01", "2026-02-28")
    assert monthly_period_containing(date(2026, 12, 31), 1) == p("2026-12-01", "2026-12-31")
    assert monthly_period_containing(date(2027, 1, 3), 15) == p("2026-12-15", "2027-01-14")
    assert monthly_period_containing(date(2026, 12, 15), 15) == p("2026-12-15", "2027-01-14")


def test_monthly_periods_for_every_billing_day_tile_the_calendar_for_years() -> None:
    for billing_day in range(1, 32):
        day, end = date(2023, 1, 1), date(2029, 12, 31)
        period = monthly_period_containing(day, billing_day)
        while period.start <= end:
            # every day of the period maps back to this same period: no overlap
            for offset in range(period.days):
                assert monthly_period_containing(period.start + timedelta(days=offset), billing_day) == period
            following = monthly_period_containing(period.end + ONE_DAY, billing_day)
            assert following.start == period.end + ONE_DAY  # no gap
            assert following.start == monthly_bill_date(following.start.year, following.start.month, billing_day)
            period = following


@given(st.dates(date(1900, 2, 1), date(2200, 11, 30)), st.integers(1, 31))
def test_the_period_containing_a_day_starts_on_a_bill_date_and_lasts_28_to_31_days(day: date, billing_day: int) -> None:
    period = monthly_period_containing(day, billing_day)
    assert period.contains(day)
    assert 28 <= period.days <= 31
    assert period.start == monthly_bill_date(period.start.year, period.start.month, billing_day)


def test_daily_periods_cross_month_year_and_leap_day() -> None:
    assert daily_period(date(2026, 12, 20), 30) == p("2026-12-20", "2027-01-18")
    assert daily_period(date(2028, 2, 15), 30) == p("2028-02-15", "2028-03-15")
    assert daily_period(date(2026, 2, 15), 30) == p("2026-02-15", "2026-03-16")
    assert daily_period(date(2026, 1, 31), 1) == p("2026-01-31", "2026-01-31")
    assert next_daily_period(p("2026-12-20", "2027-01-18"), 30) == p("2027-01-19", "2027-02-17")


@pytest.mark.parametrize("validity", [0, -5])
def test_validity_is_at_least_one_day(validity: int) -> None:
    with pytest.raises(ValueError, match="validity"):
        daily_period(date(2026, 1, 1), validity)


def monthly_due(today: str, start: str, last_end: str | None, billing_day: int = 1) -> Period | None:
    return due_period(
        cycle=Cycle.MONTHLY,
        today=date.fromisoformat(today),
        billing_day=billing_day,
        validity_days=30,
        service_start=date.fromisoformat(start),
        last_period_end=None if last_end is None else date.fromisoformat(last_end),
    )


def test_monthly_first_period_is_partial_from_the_service_start() -> None:
    assert monthly_due("2026-11-19", "2026-11-19", None) == p("2026-11-19", "2026-11-30")
    assert monthly_due("2026-11-25", "2026-11-19", None) == p("2026-11-19", "2026-11-30")
    assert monthly_due("2026-11-19", "2026-10-01", None) == p("2026-11-01", "2026-11-30")


def test_monthly_nothing_due_before_service_or_when_already_covered() -> None:
    assert monthly_due("2026-11-18", "2026-11-19", None) is None
    assert monthly_due("2026-11-25", "2026-11-19", "2026-11-30") is None
    assert monthly_due("2026-11-25", "2026-11-19", "2026-12-31") is None
    assert monthly_due("2026-12-01", "2026-11-19", "2026-11-30") == p("2026-12-01", "2026-12-31")


def test_monthly_never_bills_a_day_twice() -> None:
    # covered up to the 20th (e.g. switched from a daily cycle): bill the rest of the month only
    assert monthly_due("2026-11-10", "2026-01-01", "2026-11-20") == p("2026-11-21", "2026-11-30")


def test_monthly_after_missed_months_bills_the_current_period_only() -> None:
    assert monthly_due("2027-02-03", "2026-01-01", "2026-11-30") == p("2027-02-01", "2027-02-28")


def test_monthly_due_with_billing_day_31() -> None:
    assert monthly_due("2026-02-28", "2026-01-01", "2026-02-27", 31) == p("2026-02-28", "2026-03-30")


def daily_due(today: date, start: date, last_end: date | None, validity: int = 7) -> Period | None:
    return due_period(
        cycle=Cycle.DAILY,
        today=today,
        billing_day=1,
        validity_days=validity,
        service_start=start,
        last_period_end=last_end,
    )


def test_daily_first_period_and_next() -> None:
    start = date(2026, 12, 1)
    assert daily_due(date(2026, 11, 30), start, None) is None
    assert daily_due(start, start, None) == p("2026-12-01", "2026-12-07")
    assert daily_due(date(2026, 12, 7), start, date(2026, 12, 7)) is None
    assert daily_due(date(2026, 12, 8), start, date(2026, 12, 7)) == p("2026-12-08", "2026-12-14")


def test_daily_catch_up_returns_each_missed_period_in_turn() -> None:
    start, today, last = date(2026, 12, 1), date(2026, 12, 30), None
    billed: list[Period] = []
    while (period := daily_due(today, start, last)) is not None:
        assert daily_due(today, start, last) == period  # pure: the same answer when asked again
        billed.append(period)
        last = period.end
    assert [str(x) for x in billed] == [
        "2026-12-01 – 2026-12-07",
        "2026-12-08 – 2026-12-14",
        "2026-12-15 – 2026-12-21",
        "2026-12-22 – 2026-12-28",
        "2026-12-29 – 2027-01-04",
    ]


def test_due_period_accepts_the_cycle_as_text() -> None:
    period = due_period(
        cycle="daily",  # type: ignore[arg-type]
        today=date(2026, 1, 1),
        billing_day=1,
        validity_days=30,
        service_start=date(2026, 1, 1),
        last_period_end=None,
    )
    assert period == p("2026-01-01", "2026-01-30")
    with pytest.raises(ValueError, match="weekly"):
        due_period(
            cycle="weekly",  # type: ignore[arg-type]
            today=date(2026, 1, 1),
            billing_day=1,
            validity_days=30,
            service_start=date(2026, 1, 1),
            last_period_end=None,
        )


def run_every_day(cycle: Cycle, start: date, run_days: list[date], billing_day: int, validity: int) -> list[Period]:
    """What the platform does: on each run day, bill every due period until nothing is due."""
    billed: list[Period] = []
    for today in run_days:
        while (
            period := due_period(
                cycle=cycle,
                today=today,
                billing_day=billing_day,
                validity_days=validity,
                service_start=start,
                last_period_end=billed[-1].end if billed else None,
            )
        ) is not None:
            billed.append(period)
    return billed


@given(
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.integers(1, 31),
    st.sets(st.integers(0, 400), max_size=40),
)
def test_monthly_runs_on_any_days_never_overlap_and_bill_from_the_service_start(
    start: date, billing_day: int, offsets: set[int]
) -> None:
    run_days = [start + timedelta(days=offset) for offset in sorted(offsets)]
    billed = run_every_day(Cycle.MONTHLY, start, run_days, billing_day, 30)
    for earlier, later in itertools.pairwise(billed):
        assert later.start > earlier.end
    if billed:
        first_run_period = monthly_period_containing(run_days[0], billing_day)
        assert billed[0].start == max(start, first_run_period.start)  # partial first period, no back-billing
        assert billed[-1].contains(run_days[-1])


@settings(max_examples=40)
@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(1, 31))
def test_monthly_runs_every_day_tile_the_days_from_the_service_start(start: date, billing_day: int) -> None:
    run_days = [start + timedelta(days=i) for i in range(70)]
    billed = run_every_day(Cycle.MONTHLY, start, run_days, billing_day, 30)
    assert billed[0].start == start
    for earlier, later in itertools.pairwise(billed):
        assert later.start == earlier.end + ONE_DAY
        assert later == monthly_period_containing(later.start, billing_day)


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(1, 45), st.sets(st.integers(0, 200), max_size=20))
def test_daily_catch_up_tiles_from_the_service_start_whatever_days_the_job_runs(
    start: date, validity: int, offsets: set[int]
) -> None:
    run_days = [start + timedelta(days=offset) for offset in sorted(offsets)]
    billed = run_every_day(Cycle.DAILY, start, run_days, 1, validity)
    assert all(period.days == validity for period in billed)
    assert [period.start for period in billed] == [start + timedelta(days=validity * i) for i in range(len(billed))]
    if run_days:
        assert billed[-1].contains(run_days[-1])  # caught up to the last run day


# --- a package's validity and the cycle that bills it ---------------------------------------------------------


def test_a_validity_package_on_a_monthly_cycle_is_a_mismatch_with_a_reason() -> None:
    from ispb_billing import validity_mismatch

    reason = validity_mismatch(Cycle.MONTHLY, 1)
    assert reason is not None
    assert "valid for 1 day" in reason and "daily billing cycle" in reason and "whole month" in reason
    assert "valid for 7 days" in (validity_mismatch(Cycle.MONTHLY, 7) or "")
    assert validity_mismatch(Cycle.MONTHLY, 90) is not None
    for month in (28, 29, 30, 31):
        assert validity_mismatch(Cycle.MONTHLY, month) is None
    assert validity_mismatch(Cycle.DAILY, 1) is None and validity_mismatch(Cycle.DAILY, 30) is None


@given(
    validity=st.integers(1, 366),
    cycle=st.sampled_from(Cycle),
    start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    price=st.integers(0, 10_000_000),
)
@settings(max_examples=300)
def test_a_package_is_billed_only_on_a_cycle_that_fits_its_validity_and_a_daily_bill_covers_it_at_its_price(
    validity: int, cycle: Cycle, start: date, price: int
) -> None:
    """A monthly cycle fits exactly the month-long packages; on the daily cycle every package fits, and each bill
    covers the package's validity at the package's price (no pro-rata: the bill period is the whole cycle)."""
    from ispb_billing import (
        MONTH_VALIDITY_DAYS,
        Money,
        PackageTerms,
        ProrataPolicy,
        compute_bill,
        is_validity_package,
        validity_mismatch,
    )

    fits = validity_mismatch(cycle, validity) is None
    assert fits == (cycle is Cycle.DAILY or validity in MONTH_VALIDITY_DAYS)
    assert is_validity_package(validity) == (validity not in MONTH_VALIDITY_DAYS)
    if cycle is not Cycle.DAILY:
        return
    period = due_period(
        cycle=cycle, today=start, billing_day=1, validity_days=validity, service_start=start, last_period_end=None
    )
    assert period is not None and period.start == start and period.days == validity
    package = PackageTerms("Hotspot", Money(price, "BDT"), vat_rate_bp=0, vat_inclusive=False)
    bill = compute_bill(
        package=package, period=period, full_period=period, issue_date=start, due_days=0, prorata=ProrataPolicy.DAILY
    )
    assert bill.total == Money(price, "BDT") and bill.period.days == validity
