"""The NetFlow search form (a GET anyone signed in can type into): any text in any field is a search or a message
beside a field, never an exception (a 500)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ispb_platform.network.netflow.search import FIELDS, parse_search

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "9999-12-31T23:59", "0001-01-01T00:00", "2026-12-03", "2026-12-03T14:05+06:00", "1e9",
                     "100.64.0.7", "10.0.0.0/8", "::1", "fe80::1%eth0", "65536", "٣", "C000001"]),
)  # fmt: skip


@settings(max_examples=300)
@given(st.fixed_dictionaries({name: ANY_TEXT for name in FIELDS}))
def test_any_input_is_a_search_or_field_messages(values: dict[str, str]) -> None:
    search, errors = parse_search(values, "Asia/Dhaka", NOW)
    assert (search is None) == bool(errors)
    assert set(errors) <= set(FIELDS)
    if search is not None:
        assert search.window.start < search.window.end
        assert search.customer or search.addresses or search.networks


def test_times_are_the_operators_and_the_default_is_the_last_day() -> None:
    search, errors = parse_search({"customer": "C000001"}, "Asia/Dhaka", NOW)
    assert not errors and search is not None
    assert (search.window.start, search.window.end) == (NOW - timedelta(hours=24), NOW)
    typed, _ = parse_search(
        {"address": "100.64.0.7", "start": "2026-12-03T14:00", "end": "2026-12-03T15:00"}, "Asia/Dhaka", NOW
    )
    assert typed is not None and typed.window.start == datetime(2026, 12, 3, 14, tzinfo=ZoneInfo("Asia/Dhaka"))
    assert typed.window.start.astimezone(UTC) == datetime(2026, 12, 3, 8, tzinfo=UTC)
