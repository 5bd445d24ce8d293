"""Uptime arithmetic: incidents from check results, and per-day uptime over a 90-day history.

**Incidents.** One failed check is not an outage (a lost packet, a restart): `advance` opens an incident only
after ``confirm`` consecutive down results, dated from the first of them, and closes it after ``recover``
consecutive results that are not down, dated from the first of those. A check that flaps (down, up, down, up)
with ``confirm=2`` never opens one. While a maintenance window covers a check, failures open nothing.

    >>> from datetime import datetime, timedelta, UTC
    >>> t0 = datetime(2026, 12, 1, tzinfo=UTC)
    >>> tracker = Tracker()
    >>> for minute, status in enumerate([Status.DOWN, Status.DOWN, Status.UP]):
    ...     step = advance(tracker, status, t0 + timedelta(minutes=minute), confirm=2)
    ...     tracker = step.tracker
    ...     print(status.value, step.opened_at and step.opened_at.minute, step.closed_at and step.closed_at.minute)
    down None None
    down 0 None
    up None 2

**Uptime.** A day's uptime is the share of the day (in the operator's time zone; only the part that was
monitored, only up to now) not inside an incident, with maintenance windows taken out of both the downtime and
the time that counts: a day with two hours of planned work and no other outage is 100 %.

    >>> from zoneinfo import ZoneInfo
    >>> day = daily_uptime([Interval(t0, t0 + timedelta(minutes=144))], [], first_day=t0.date(),
    ...     last_day=t0.date(), zone=ZoneInfo("UTC"), now=t0 + timedelta(days=2), monitored_from=t0)
    >>> day[0].percent
    Decimal('90.00')
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from ispb_monitor.checks.result import Status

__all__ = ("DayUptime", "Interval", "Step", "Tracker", "advance", "daily_uptime", "history", "overall")

HISTORY_DAYS = 90
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Tracker:
    """What must be remembered about a check between results (a row's columns in the platform)."""

    shown: Status | None = None
    """What a status page shows: down only while an incident is open; None before the first result."""
    failures: int = 0
    """Consecutive down results up to now."""
    successes: int = 0
    """Consecutive results that were not down."""
    failing_since: datetime | None = None
    """When the current run of down results began."""
    recovering_since: datetime | None = None
    """When the current run of good results began (while an incident is open)."""
    incident_open: bool = False


@dataclass(frozen=True)
class Step:
    tracker: Tracker
    opened_at: datetime | None = None
    """An incident opens, dated from the first down result of the run."""
    closed_at: datetime | None = None
    """The open incident closes, dated from the first good result of the run."""


def advance(
    tracker: Tracker, status: Status, at: datetime, *, confirm: int = 2, recover: int = 1, in_maintenance: bool = False
) -> Step:
    """The tracker after one more result ``status`` taken at ``at``, and whether an incident opens or closes."""
    if confirm < 1 or recover < 1:
        raise ValueError("confirm and recover count results: 1 or more")
    if status is Status.DOWN:
        failures = tracker.failures + 1
        since = tracker.failing_since or at
        opens = not tracker.incident_open and failures >= confirm and not in_maintenance
        is_open = tracker.incident_open or opens
        shown = Status.DOWN if is_open else (tracker.shown or Status.UP)
        after = replace(
            tracker, shown=shown, failures=failures, successes=0, failing_since=since, recovering_since=None,
            incident_open=is_open,
        )  # fmt: skip
        return Step(after, opened_at=since if opens else None)
    successes = tracker.successes + 1
    recovering = (tracker.recovering_since or at) if tracker.incident_open else None
    closes = tracker.incident_open and successes >= recover
    is_open = tracker.incident_open and not closes
    after = Tracker(
        shown=Status.DOWN if is_open else status,
        failures=0,
        successes=successes,
        failing_since=None,
        recovering_since=recovering if is_open else None,
        incident_open=is_open,
    )
    return Step(after, closed_at=recovering if closes else None)


@dataclass(frozen=True)
class Interval:
    """A span of time; ``end`` None means it is still going on."""

    start: datetime
    end: datetime | None = None

    def until(self, now: datetime) -> tuple[datetime, datetime]:
        return self.start, min(self.end, now) if self.end is not None else now


@dataclass(frozen=True)
class DayUptime:
    day: date
    monitored_s: int
    """Seconds of the day the check was watched (0 before it existed, the part of today gone so far)."""
    down_s: int
    maintenance_s: int
    percent: Decimal | None
    """Up share of the watched time outside maintenance, rounded down to 0.01; None when there was none."""


Span = tuple[datetime, datetime]


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _clipped(spans: Sequence[Span], start: datetime, end: datetime) -> list[Span]:
    return [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]


def _seconds(spans: Iterable[Span]) -> float:
    return sum((e - s).total_seconds() for s, e in spans)


def _overlap(a: Sequence[Span], b: Sequence[Span]) -> float:
    """Seconds inside both sets of merged spans."""
    total, j = 0.0, 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            total += (min(end, b[k][1]) - max(start, b[k][0])).total_seconds()
            k += 1
    return total


def daily_uptime(
    incidents: Iterable[Interval],
    maintenance: Iterable[Interval],
    *,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    now: datetime,
    monitored_from: datetime,
) -> list[DayUptime]:
    """One `DayUptime` per day from ``first_day`` to ``last_day`` (local days of ``zone``), oldest first."""
    down = _merged(i.until(now) for i in incidents)
    planned = _merged(m.until(now) for m in maintenance)
    days = []
    day = first_day
    while day <= last_day:
        start = max(datetime.combine(day, time(), zone), monitored_from)
        end = min(datetime.combine(day + timedelta(days=1), time(), zone), now)
        if end <= start:
            days.append(DayUptime(day, 0, 0, 0, None))
        else:
            watched = (end - start).total_seconds()
            day_down = _clipped(down, start, end)
            day_planned = _clipped(planned, start, end)
            in_maintenance = _seconds(day_planned)
            down_s = _seconds(day_down) - _overlap(day_down, day_planned)
            counted = watched - in_maintenance
            percent = None
            if counted > 0:
                share = Decimal(str(max(0.0, counted - down_s))) / Decimal(str(counted)) * 100
                percent = share.quantize(_CENT, rounding=ROUND_DOWN)
            days.append(DayUptime(day, round(watched), round(down_s), round(in_maintenance), percent))
        day += timedelta(days=1)
    return days


def history(
    incidents: Iterable[Interval],
    maintenance: Iterable[Interval],
    *,
    today: date,
    zone: ZoneInfo,
    now: datetime,
    monitored_from: datetime,
    days: int = HISTORY_DAYS,
) -> list[DayUptime]:
    """The last ``days`` days up to ``today``, oldest first: what a status page draws as bars."""
    return daily_uptime(
        incidents, maintenance, first_day=today - timedelta(days=days - 1), last_day=today, zone=zone, now=now,
        monitored_from=monitored_from,
    )  # fmt: skip


def overall(days: Iterable[DayUptime]) -> Decimal | None:
    """The uptime of several days together, weighted by the time that counted on each; None with no data.

    >>> overall([DayUptime(date(2026, 1, 1), 86400, 8640, 0, Decimal("90.00")),
    ...          DayUptime(date(2026, 1, 2), 86400, 0, 0, Decimal("100.00"))])
    Decimal('95.00')
    """
    counted = down = 0
    for day in days:
        if day.percent is not None:
            counted += day.monitored_s - day.maintenance_s
            down += day.down_s
    if counted <= 0:
        return None
    return (Decimal(counted - down) / Decimal(counted) * 100).quantize(_CENT, rounding=ROUND_DOWN)
