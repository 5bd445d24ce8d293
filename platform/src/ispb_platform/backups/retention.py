"""Which backups to keep: the newest of each of the last N days, M ISO weeks and K months, and always the
newest good one (grandfather-father-son). Pure, so the rule is tested without a database."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Kept:
    daily: int
    weekly: int
    monthly: int


@dataclass(frozen=True)
class Candidate:
    id: int
    started_at: datetime
    verified_ok: bool | None = None


def to_delete(backups: Iterable[Candidate], keep: Kept) -> list[int]:
    """Ids of the successful backups that retention no longer keeps.

    The newest backup is never deleted, nor the newest one whose restore test passed: a broken newest
    backup must not take the last restorable one with it.
    """
    ordered = sorted(backups, key=lambda b: (b.started_at, b.id), reverse=True)
    if not ordered:
        return []
    kept = {ordered[0].id}
    verified = next((b for b in ordered if b.verified_ok), None)
    if verified is not None:
        kept.add(verified.id)
    for limit, period in (
        (keep.daily, lambda b: b.started_at.date()),
        (keep.weekly, lambda b: b.started_at.isocalendar()[:2]),
        (keep.monthly, lambda b: (b.started_at.year, b.started_at.month)),
    ):
        seen: list[object] = []
        for backup in ordered:
            mark = period(backup)
            if mark in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(mark)
            kept.add(backup.id)
    return [b.id for b in ordered if b.id not in kept]
