"""Due-date and expiration reminders fire on the right day, once per key, however often the job runs."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_notify import (
    BillDue,
    DueDateRule,
    Expiring,
    ExpiryRule,
    due_date_messages,
    expiration_messages,
    has_amount_due,
)

RULES = [DueDateRule(-3), DueDateRule(0), DueDateRule(2, template_key="overdue")]


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def test_scripted_month_sends_each_reminder_once_on_its_day() -> None:
    bill = BillDue(bill_id=7, customer_id=42, due_date=date(2026, 5, 10), amount_due="৳1,050.00")
    sent: dict[str, date] = {}
    counts: Counter[str] = Counter()
    for today in days(date(2026, 4, 20), date(2026, 5, 31)):
        for _run in range(2):  # a rerun (or a second worker) the same day
            for message in due_date_messages([bill], RULES, today):
                counts[message.key] += 1
                sent.setdefault(message.key, today)
    assert sent == {"due:7:-3": date(2026, 5, 7), "due:7:0": date(2026, 5, 10), "due:7:2": date(2026, 5, 12)}
    assert set(counts.values()) == {2}  # same key each run: the outbox's unique key keeps one row


def test_message_carries_the_rule_and_the_customer() -> None:
    bill = BillDue(bill_id=7, customer_id=42, due_date=date(2026, 5, 10), amount_due="500")
    [message] = due_date_messages([bill], RULES, date(2026, 5, 12))
    assert (message.customer_id, message.bill_id, message.rule.template_key) == (42, 7, "overdue")


def test_paid_bill_gets_no_reminder() -> None:
    paid = BillDue(bill_id=8, customer_id=42, due_date=date(2026, 5, 10), amount_due="৳0.00")
    assert due_date_messages([paid], RULES, date(2026, 5, 10)) == []


def test_duplicate_rules_give_one_message() -> None:
    bill = BillDue(bill_id=7, customer_id=42, due_date=date(2026, 5, 10), amount_due="500")
    assert len(due_date_messages([bill], [DueDateRule(0), DueDateRule(0)], date(2026, 5, 10))) == 1


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("৳1,050.00", True),
        ("1050", True),
        ("500/-", True),
        ("৳৫০০", True),
        ("0.01", True),
        ("0", False),
        ("৳0.00", False),
        ("-20.00", False),
        ("-৳50", False),
        ("", False),
        ("n/a", False),
    ],
)
def test_amount_due_text_is_read(text: str, due: bool) -> None:
    assert has_amount_due(text) is due


@given(
    due_dates=st.lists(st.dates(date(2026, 1, 10), date(2026, 12, 20)), min_size=1, max_size=5),
    offsets=st.sets(st.integers(-9, 9), min_size=1, max_size=4),
)
def test_daily_runs_send_every_bill_and_rule_exactly_once(due_dates: list[date], offsets: set[int]) -> None:
    bills = [BillDue(n, 100 + n, due, "100") for n, due in enumerate(due_dates)]
    rules = [DueDateRule(offset) for offset in offsets]
    counts = Counter(
        m.key for today in days(date(2026, 1, 1), date(2026, 12, 31)) for m in due_date_messages(bills, rules, today)
    )
    assert counts == Counter({f"due:{bill.bill_id}:{offset}": 1 for bill in bills for offset in offsets})


# expiration

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
EXPIRY_RULES = [ExpiryRule(before_days=3), ExpiryRule(before_hours=6), ExpiryRule()]


def test_rule_labels_are_stable_names() -> None:
    assert [rule.label for rule in EXPIRY_RULES] == ["3d", "6h", "0h"]
    assert ExpiryRule(before_days=1, before_hours=12).label == "1d12h"
    with pytest.raises(ValueError, match="before"):
        ExpiryRule(before_days=-1)


def test_daily_job_warns_once_per_rule_even_for_odd_expiry_times() -> None:
    customers = [
        Expiring(1, datetime(2026, 5, 10, 0, 0, tzinfo=UTC)),
        Expiring(2, datetime(2026, 5, 10, 9, 0, tzinfo=UTC)),  # exactly at the job's hour
        Expiring(3, datetime(2026, 5, 10, 23, 59, tzinfo=UTC)),
    ]
    counts: Counter[str] = Counter()
    for day in range(20):
        now = START + timedelta(days=day)
        counts.update(message.key for message in expiration_messages(customers, EXPIRY_RULES, now))
    expected = {
        f"expiry:{c.customer_id}:{c.expires_at.isoformat()}:{rule.label}" for c in customers for rule in EXPIRY_RULES
    }
    assert set(counts) == expected
    assert set(counts.values()) == {1}


def test_warning_goes_out_in_the_run_after_its_moment() -> None:
    customer = Expiring(1, datetime(2026, 5, 10, 0, 0, tzinfo=UTC))
    rule = ExpiryRule(before_days=3)  # moment: 7 May 00:00
    assert expiration_messages([customer], [rule], datetime(2026, 5, 6, 9, 0, tzinfo=UTC)) == []
    [message] = expiration_messages([customer], [rule], datetime(2026, 5, 7, 9, 0, tzinfo=UTC))
    assert message.key == "expiry:1:2026-05-10T00:00:00+00:00:3d"
    assert expiration_messages([customer], [rule], datetime(2026, 5, 8, 9, 0, tzinfo=UTC)) == []


def test_rerun_gives_the_same_keys() -> None:
    customers = [Expiring(n, START + timedelta(hours=5 * n)) for n in range(1, 40)]
    first = expiration_messages(customers, EXPIRY_RULES, START + timedelta(days=2))
    again = expiration_messages(customers, EXPIRY_RULES, START + timedelta(days=2))
    assert first == again
    assert first


def test_catch_up_after_a_missed_run_with_a_longer_window() -> None:
    customer = Expiring(1, datetime(2026, 5, 10, 0, 0, tzinfo=UTC))
    now = datetime(2026, 5, 8, 9, 0, tzinfo=UTC)  # the 7 May run did not happen
    rule = ExpiryRule(before_days=3)
    assert expiration_messages([customer], [rule], now) == []
    assert len(expiration_messages([customer], [rule], now, window=timedelta(days=2))) == 1


def test_renewed_customer_is_warned_again_for_the_new_expiry() -> None:
    old = Expiring(1, datetime(2026, 5, 10, tzinfo=UTC))
    new = Expiring(1, datetime(2026, 6, 10, tzinfo=UTC))
    rule = ExpiryRule(before_days=1)
    [first] = expiration_messages([old], [rule], datetime(2026, 5, 9, 9, tzinfo=UTC))
    [second] = expiration_messages([new], [rule], datetime(2026, 6, 9, 9, tzinfo=UTC))
    assert first.key != second.key


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window"):
        expiration_messages([], EXPIRY_RULES, START, window=timedelta(0))


@given(
    expiries=st.lists(st.integers(0, 30 * 24 * 60), min_size=1, max_size=6),
    gaps=st.lists(st.integers(1, 36 * 60), min_size=1, max_size=60),
)
def test_runs_at_any_times_with_window_since_last_run_never_miss_or_repeat(
    expiries: list[int], gaps: list[int]
) -> None:
    """Runs at irregular times, each with window = time since the previous run: each warning exactly once."""
    customers = [Expiring(n, START + timedelta(days=4, minutes=m)) for n, m in enumerate(expiries)]
    counts: Counter[str] = Counter()
    previous = START
    for gap in [*gaps, 40 * 24 * 60]:
        now = previous + timedelta(minutes=gap)
        counts.update(m.key for m in expiration_messages(customers, EXPIRY_RULES, now, window=now - previous))
        previous = now
    assert set(counts.values()) == {1}
    assert len(counts) == len({(c.customer_id, r) for c in customers for r in EXPIRY_RULES})
