"""The retention rule of ``backup.cleanup``: newest per day, ISO week and month; never the last good one."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ispb_platform.backups.retention import Candidate, Kept, to_delete

START = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)


def _daily(days: int) -> list[Candidate]:
    return [Candidate(i, START - timedelta(days=i)) for i in range(days)]


def test_keeps_n_days_m_weeks_k_months():
    backups = _daily(120)
    doomed = set(to_delete(backups, Kept(daily=7, weekly=4, monthly=3)))
    kept = sorted(b.id for b in backups if b.id not in doomed)
    # days Dec 25-31; Sundays Dec 20 and 13 close the 3rd and 4th ISO weeks; Nov 30 and Oct 31 end the months
    assert kept == [0, 1, 2, 3, 4, 5, 6, 11, 18, 31, 61]


def test_the_newest_and_the_newest_verified_are_always_kept():
    backups = [Candidate(1, START, verified_ok=False), Candidate(2, START - timedelta(days=40), verified_ok=True)]
    assert to_delete(backups, Kept(daily=1, weekly=0, monthly=0)) == []


@given(st.integers(min_value=1, max_value=400), st.integers(1, 30), st.integers(0, 10), st.integers(0, 12))
def test_never_deletes_everything_and_deletes_nothing_retention_keeps(days: int, daily: int, weekly: int, monthly: int):
    backups = _daily(days)
    doomed = to_delete(backups, Kept(daily, weekly, monthly))
    assert 0 not in doomed
    assert len(backups) - len(doomed) >= min(days, daily)
