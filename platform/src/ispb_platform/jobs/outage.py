"""Riding out a job-queue outage: back off instead of spinning, say so once, catch up the missed cron ticks.

With Redis away, SAQ's worker spun a core at 100 % (its dequeue loop starts again at once after each refused
connection) and logged a traceback a second from its upkeep tasks (80 "Upkeep task failed" in two minutes).
Every queue call of the worker now goes through one `QueueOutage`: a failure to reach the queue waits 0.5 s,
then twice as long each time up to 30 s, logs one warning when the outage begins and one line when it ends.

Cron ticks that fell inside the outage never reached the queue (SAQ enqueues each tick a moment before it is
due, and Redis may come back empty). When the queue answers again, each cron job with a missed tick runs once
for the latest one it missed (`missed_tick`), under a key of that tick so several workers catch up only once;
it is skipped when the queue still holds the job's own tick for that time (the queue kept its data: SAQ runs it).
Work is never lost with the queue: every job reads what is due from the database, so one catch-up run, or the
next tick, does everything the missed ticks would have done.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import redis.exceptions
from croniter import croniter

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0


class QueueOutage:
    """Shared by a worker's dequeue loop and upkeep tasks: one back-off, one warning, one catch-up."""

    def __init__(self) -> None:
        self.since: float | None = None
        """When the current outage began (epoch seconds), None while the queue answers."""
        self.failures = 0
        self.on_recovered: Callable[[float], Awaitable[None]] | None = None
        """Called once when the queue answers again, with the time the outage began (the worker's catch-up)."""

    def failed(self, error: BaseException) -> float:
        """Count a failure to reach the queue; return how long to wait before trying again."""
        if self.since is None:
            self.since = time.time()
            log.warning("the job queue cannot be reached (%s: %s); retrying with back-off", type(error).__name__, error)
        self.failures += 1
        return float(min(FIRST_DELAY_S * 2 ** (self.failures - 1), MAX_DELAY_S))

    async def recovered(self) -> None:
        """The queue answered: end the outage (once) and run the catch-up."""
        since = self.since
        if since is None:
            return
        self.since, self.failures = None, 0
        log.warning("the job queue answers again after %.0f s", time.time() - since)
        if self.on_recovered is not None:
            await self.on_recovered(since)


def missed_tick(cron: str, since: float, now: float) -> datetime | None:
    """The latest tick of ``cron`` (UTC) after ``since`` and not after ``now``, or None if none fell between."""
    ticks = croniter(cron, datetime.fromtimestamp(since, UTC))
    last = None
    while (tick := ticks.get_next(datetime)).timestamp() <= now:
        last = tick
    return last


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the queue's store cannot be reached (rather than a bug in a job or in SAQ)."""
    return isinstance(error, _UNREACHABLE)


_UNREACHABLE = (OSError, TimeoutError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
"""OSError covers the refused and reset connections (ConnectionError)."""
