"""What every check answers: up, degraded or down, how long the answer took, and a sentence saying why."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from time import perf_counter

__all__ = ("CheckResult", "Status", "within")


class Status(StrEnum):
    UP = "up"
    """The service answered as expected."""
    DEGRADED = "degraded"
    """It answered, but not well: slow, some pings lost, a certificate about to expire."""
    DOWN = "down"
    """It did not answer, or answered wrongly (a 500, a missing word, a refused login)."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. ``latency_ms`` is None when nothing answered; ``message`` is for the operator."""

    status: Status
    latency_ms: float | None
    message: str

    @classmethod
    def up(cls, latency_ms: float | None, message: str) -> "CheckResult":
        return cls(Status.UP, latency_ms, message)

    @classmethod
    def degraded(cls, latency_ms: float | None, message: str) -> "CheckResult":
        return cls(Status.DEGRADED, latency_ms, message)

    @classmethod
    def down(cls, message: str, latency_ms: float | None = None) -> "CheckResult":
        return cls(Status.DOWN, latency_ms, message)

    def slower_than(self, slow_ms: float | None) -> "CheckResult":
        """This result, degraded when it is up but took longer than ``slow_ms`` (None: no threshold)."""
        if (
            self.status is Status.UP
            and slow_ms is not None
            and self.latency_ms is not None
            and self.latency_ms > slow_ms
        ):
            return CheckResult(Status.DEGRADED, self.latency_ms, f"{self.message}; slow ({self.latency_ms:.0f} ms)")
        return self


def milliseconds_since(start: float) -> float:
    return round((perf_counter() - start) * 1000, 1)


async def within(seconds: float, probe: Callable[[], Awaitable[CheckResult]], what: str) -> CheckResult:
    """Run ``probe`` under one deadline; a timeout is a down result naming ``what`` did not answer.

    Every check goes through here so no check can wait longer than its timeout, whatever the library under it
    does with its own timeouts."""
    try:
        async with asyncio.timeout(seconds):
            return await probe()
    except TimeoutError:
        return CheckResult.down(f"{what} did not answer within {seconds:g} s")
