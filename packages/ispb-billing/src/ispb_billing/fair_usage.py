"""Fair usage: a customer who used more than the package's data allowance in a billing cycle gets the package's
reduced (FUP) speed until that cycle ends; full speed comes back with the next cycle, or sooner when the
allowance no longer applies (the operator raised it, removed it, or moved the customer to another package).

Pure: the caller supplies what was used this cycle and the customer's current state; the answer says what to
change, so a job deciding for 100,000 customers and a test deciding for one use the same rule.

>>> from datetime import date
>>> policy = FairUsage(allowance_octets=10 * 1024**3)
>>> policy.decide(used_octets=11 * 1024**3, reduced_until=None, cycle_last_day=date(2026, 12, 31),
...               today=date(2026, 12, 20), active=True)
Verdict(action=<FupAction.APPLY: 'apply'>, reduced_until=datetime.date(2026, 12, 31))
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class FupAction(StrEnum):
    APPLY = "apply"  # over the allowance: reduce the speed until the cycle ends
    LIFT = "lift"  # a new cycle, or the allowance no longer applies: full speed again
    KEEP = "keep"  # nothing changes


@dataclass(frozen=True)
class Verdict:
    action: FupAction
    reduced_until: date | None
    """The customer's state after the verdict: the last day of reduced speed, or None for full speed."""


@dataclass(frozen=True)
class FairUsage:
    """A package's fair-usage policy: ``allowance_octets`` per cycle (None: unlimited, or no FUP speed set)."""

    allowance_octets: int | None

    def __post_init__(self) -> None:
        if self.allowance_octets is not None and (type(self.allowance_octets) is not int or self.allowance_octets <= 0):
            raise ValueError(f"a data allowance is a positive number of octets, not {self.allowance_octets!r}")

    def decide(
        self, *, used_octets: int, reduced_until: date | None, cycle_last_day: date, today: date, active: bool
    ) -> Verdict:
        """What to do with one customer today.

        Reduced customers come back to full speed once ``today`` is past ``reduced_until`` (a new cycle) or when
        the allowance no longer applies to what they used; an active customer at full speed who used MORE than
        the allowance is reduced until ``cycle_last_day``. Using exactly the allowance is within it.
        """
        if used_octets < 0:
            raise ValueError(f"used octets are never negative, got {used_octets}")
        over = self.allowance_octets is not None and used_octets > self.allowance_octets
        if reduced_until is not None:
            if today > reduced_until or not over:
                return Verdict(FupAction.LIFT, None)
            return Verdict(FupAction.KEEP, reduced_until)
        if over and active:
            return Verdict(FupAction.APPLY, cycle_last_day)
        return Verdict(FupAction.KEEP, None)
