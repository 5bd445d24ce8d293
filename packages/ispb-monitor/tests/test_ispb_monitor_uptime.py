"""Properties of the incident rules and the uptime arithmetic (hypothesis), and the cases that name them."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ispb_monitor.checks import Status
from ispb_monitor.uptime import DayUptime, Interval, Tracker, advance, daily_uptime, history, overall

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DHAKA = ZoneInfo("Asia/Dhaka")
statuses = st.lists(st.sampled_from([Status.UP, Status.DOWN, Status.DEGRADED]), max_size=200)


def _replay(results: list[Status], confirm: int, recover: int = 1) -> tuple[list[Interval], Tracker]:
    tracker, incidents, opened = Tracker(), [], None
    for minute, status in enumerate(results):
        step = advance(tracker, status, T0 + timedelta(minutes=minute), confirm=confirm, recover=recover)
        tracker = step.tracker
        if step.opened_at is not None:
            assert opened is None, "an incident opened while one was open"
            opened = step.opened_at
        if step.closed_at is not None:
            assert opened is not None, "an incident closed that was not open"
            incidents.append(Interval(opened, step.closed_at))
            opened = None
    if opened is not None:
        incidents.append(Interval(opened))
    return incidents, tracker


@given(statuses, st.integers(1, 5))
def test_an_incident_needs_confirm_consecutive_failures(results: list[Status], confirm: int) -> None:
    incidents, tracker = _replay(results, confirm)
    longest = run = 0
    for status in results:
        run = run + 1 if status is Status.DOWN else 0
        longest = max(longest, run)
    assert bool(incidents) == (longest >= confirm)
    for incident in incidents:  # dated from the first failure of its run, which was confirm failures long
        first = int((incident.start - T0).total_seconds() // 60)
        assert results[first : first + confirm] == [Status.DOWN] * confirm
        assert first == 0 or results[first - 1] is not Status.DOWN
    assert tracker.incident_open == (bool(incidents) and incidents[-1].end is None)
    assert (tracker.shown is Status.DOWN) == tracker.incident_open or not results


@given(statuses, st.integers(1, 4), st.integers(1, 4))
def test_incidents_never_overlap_and_close_on_recovery(results: list[Status], confirm: int, recover: int) -> None:
    incidents, _ = _replay(results, confirm, recover)
    for before, after in pairwise(incidents):
        assert before.end is not None and before.end <= after.start
    for incident in incidents:
        if incident.end is not None:
            first_good = int((incident.end - T0).total_seconds() // 60)
            assert all(s is not Status.DOWN for s in results[first_good : first_good + recover])


def test_flapping_opens_nothing() -> None:
    incidents, tracker = _replay([Status.DOWN, Status.UP] * 20, confirm=2)
    assert incidents == [] and tracker.shown is Status.UP


def test_failures_in_maintenance_open_nothing() -> None:
    tracker = Tracker()
    for minute in range(5):
        step = advance(tracker, Status.DOWN, T0 + timedelta(minutes=minute), confirm=2, in_maintenance=True)
        assert step.opened_at is None
        tracker = step.tracker
    after = advance(tracker, Status.DOWN, T0 + timedelta(minutes=5), confirm=2)  # the window ended, still down
    assert after.opened_at == T0


moments = st.integers(0, 4 * 86400).map(lambda s: T0 + timedelta(seconds=s))
spans = st.lists(st.tuples(moments, st.integers(1, 86400)), max_size=6).map(
    lambda pairs: [Interval(start, start + timedelta(seconds=length)) for start, length in pairs]
)


@settings(max_examples=200)
@given(spans, spans, moments)
def test_uptime_is_a_share_and_maintenance_is_never_downtime(
    incidents: list[Interval], maintenance: list[Interval], monitored_from: datetime
) -> None:
    now = T0 + timedelta(days=5)
    days = daily_uptime(
        incidents, maintenance, first_day=date(2026, 10, 31), last_day=date(2026, 11, 6), zone=DHAKA, now=now,
        monitored_from=monitored_from,
    )  # fmt: skip
    for day in days:
        assert day.percent is None or Decimal(0) <= day.percent <= Decimal(100)
        assert 0 <= day.down_s <= day.monitored_s - day.maintenance_s + 1
    # maintenance over every incident: a perfect record
    covered = daily_uptime(
        incidents, incidents + maintenance, first_day=date(2026, 10, 31), last_day=date(2026, 11, 6), zone=DHAKA,
        now=now, monitored_from=monitored_from,
    )  # fmt: skip
    assert all(day.down_s == 0 and day.percent in (None, Decimal("100.00")) for day in covered)
    # no incidents: 100 % wherever something was watched outside maintenance
    clean = daily_uptime(
        [], maintenance, first_day=date(2026, 10, 31), last_day=date(2026, 11, 6), zone=DHAKA, now=now,
        monitored_from=monitored_from,
    )  # fmt: skip
    assert all(day.percent in (None, Decimal("100.00")) for day in clean)


@settings(max_examples=200)
@given(spans)
def test_downtime_adds_up_to_the_incidents(incidents: list[Interval]) -> None:
    """Without maintenance, the days' downtime is the incidents' union, wherever the day boundaries fall."""
    now = T0 + timedelta(days=6)
    days = daily_uptime(
        incidents, [], first_day=date(2026, 10, 30), last_day=date(2026, 11, 8), zone=DHAKA, now=now, monitored_from=T0
    )
    covered: set[int] = set()
    for incident in incidents:
        assert incident.end is not None
        covered |= set(range(int((incident.start - T0).total_seconds()), int((incident.end - T0).total_seconds())))
    assert abs(sum(day.down_s for day in days) - len(covered)) <= len(days)  # each day rounds to a second


def test_an_open_incident_counts_until_now_and_days_are_local() -> None:
    now = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # 12:00 in Dhaka
    start = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 06:00 in Dhaka
    days = history([Interval(start)], [], today=date(2026, 11, 2), zone=DHAKA, now=now, monitored_from=T0, days=3)
    assert [d.day for d in days] == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    assert days[0].percent is None  # before monitoring began
    assert days[1].percent == Decimal("100.00")
    assert days[2].monitored_s == 12 * 3600 and days[2].down_s == 6 * 3600 and days[2].percent == Decimal("50.00")
    assert overall(days) == (Decimal(1 - 6 / (24 + 12 - 6)) * 100).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def test_a_day_entirely_in_maintenance_has_no_figure() -> None:
    day = date(2026, 11, 1)
    start = datetime(2026, 11, 1, tzinfo=DHAKA)
    whole = [Interval(start, start + timedelta(days=1))]
    [result] = daily_uptime(
        whole,
        whole,
        first_day=day,
        last_day=day,
        zone=DHAKA,
        now=T0 + timedelta(days=9),
        monitored_from=T0 - timedelta(days=2),
    )
    assert result.percent is None and result.maintenance_s == 86400
    assert overall([result]) is None
    assert overall([DayUptime(day, 0, 0, 0, None)]) is None


def test_a_short_outage_never_rounds_up_to_perfect() -> None:
    day = date(2026, 11, 1)
    start = datetime(2026, 11, 1, 13, tzinfo=DHAKA)
    [result] = daily_uptime([Interval(start, start + timedelta(seconds=1))], [], first_day=day, last_day=day,
                            zone=DHAKA, now=T0 + timedelta(days=9), monitored_from=T0)  # fmt: skip
    assert result.percent == Decimal("99.99")
