from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import FairUsage, FupAction

GB = 1024**3
LAST = date(2026, 12, 31)


def test_over_the_allowance_reduces_until_the_cycle_ends_and_a_new_cycle_lifts_it() -> None:
    policy = FairUsage(10 * GB)
    applied = policy.decide(used_octets=10 * GB + 1, reduced_until=None, cycle_last_day=LAST, today=LAST, active=True)
    assert (applied.action, applied.reduced_until) == (FupAction.APPLY, LAST)
    kept = policy.decide(used_octets=12 * GB, reduced_until=LAST, cycle_last_day=LAST, today=LAST, active=True)
    assert kept.action is FupAction.KEEP
    next_cycle = date(2027, 1, 1)
    lifted = policy.decide(used_octets=0, reduced_until=LAST, cycle_last_day=date(2027, 1, 31), today=next_cycle,
                           active=True)  # fmt: skip
    assert (lifted.action, lifted.reduced_until) == (FupAction.LIFT, None)


def test_exactly_the_allowance_is_within_it_and_a_raised_or_removed_allowance_lifts() -> None:
    assert FairUsage(GB).decide(used_octets=GB, reduced_until=None, cycle_last_day=LAST, today=LAST,
                                active=True).action is FupAction.KEEP  # fmt: skip
    for policy in (FairUsage(20 * GB), FairUsage(None)):
        verdict = policy.decide(used_octets=15 * GB, reduced_until=LAST, cycle_last_day=LAST, today=LAST, active=True)
        assert verdict.action is FupAction.LIFT


def test_a_suspended_customer_is_not_reduced_and_bad_values_are_refused() -> None:
    assert FairUsage(GB).decide(used_octets=2 * GB, reduced_until=None, cycle_last_day=LAST, today=LAST,
                                active=False).action is FupAction.KEEP  # fmt: skip
    with pytest.raises(ValueError):
        FairUsage(0)
    with pytest.raises(ValueError):
        FairUsage(GB).decide(used_octets=-1, reduced_until=None, cycle_last_day=LAST, today=LAST, active=True)


@given(st.integers(0, 50 * GB), st.one_of(st.none(), st.integers(1, 40 * GB)), st.booleans(), st.integers(-5, 5))
def test_reduced_means_over_the_allowance_within_the_cycle(used: int, allowance: int | None, reduced: bool,
                                                           shift: int) -> None:  # fmt: skip
    today = LAST + timedelta(days=shift)
    verdict = FairUsage(allowance).decide(
        used_octets=used,
        reduced_until=LAST if reduced else None,
        cycle_last_day=max(LAST, today),
        today=today,
        active=True,
    )
    if verdict.reduced_until is not None:
        assert allowance is not None and used > allowance and today <= verdict.reduced_until
    if allowance is None or used <= allowance:
        assert verdict.reduced_until is None
