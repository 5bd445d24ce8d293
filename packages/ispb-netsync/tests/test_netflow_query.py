"""Searches become nfdump filters only through typed values: bad input is refused with a clear message before
nfdump runs, and nothing a person types reaches the filter as text."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_netsync.netflow import InvalidFlowQuery, Protocol, TimeRange, flow_query, nfdump_filter

T0 = datetime(2026, 12, 3, 14, tzinfo=UTC)
HOUR = TimeRange(T0, T0 + timedelta(hours=1))


def test_addresses_networks_ports_and_protocol_make_one_filter() -> None:
    query = flow_query(
        HOUR, addresses=["100.64.0.7", "2001:db8::1"], networks=["10.1.2.3/24"], ports=[443, "80"], protocol="TCP"
    )
    assert nfdump_filter(query) == (
        "(ip 100.64.0.7 or ip 2001:db8::1 or net 10.1.2.0/24) and (port 443 or port 80) and proto tcp"
    )
    assert query.protocol is Protocol.TCP


def test_a_search_without_terms_is_any() -> None:
    assert nfdump_filter(flow_query(HOUR)) == "any"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"addresses": ["100.64.0.7 or any"]}, "is not an IP address"),
        ({"addresses": ["300.1.1.1"]}, "is not an IP address"),
        ({"addresses": ["fe80::1%1 or any"]}, "is not an IP address"),  # ipaddress keeps a zone's text as is
        ({"networks": ["10.0.0.0/33"]}, "is not a network"),
        ({"networks": ["fe80::%1 or any/64"]}, "is not a network"),
        ({"ports": ["65536"]}, "is not a port"),
        ({"ports": ["-1"]}, "is not a port"),
        ({"ports": ["８０"]}, "is not a port"),  # full-width digits: str.isdigit says yes, nfdump would not
        ({"protocol": "gre; rm"}, "Choose TCP, UDP or ICMP"),
        ({"limit": 0}, "Ask for 1 to"),
        ({"addresses": [f"10.0.{i // 250}.{i % 250}" for i in range(300)]}, "at most 256"),
    ],
)
def test_bad_input_is_refused_with_a_message(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidFlowQuery, match=message):
        flow_query(HOUR, **kwargs)  # type: ignore[arg-type]


def test_time_ranges_need_zones_order_and_a_bound() -> None:
    with pytest.raises(InvalidFlowQuery, match="time zone"):
        TimeRange(datetime(2026, 12, 3), datetime(2026, 12, 4))
    with pytest.raises(InvalidFlowQuery, match="after its start"):
        TimeRange(T0, T0)
    with pytest.raises(InvalidFlowQuery, match="31 days"):
        TimeRange(T0, T0 + timedelta(days=32))
    with pytest.raises(InvalidFlowQuery, match="from 1990 to 2999"):
        TimeRange(datetime(9999, 12, 31, 22, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    with pytest.raises(InvalidFlowQuery, match="from 1990 to 2999"):
        TimeRange(datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC))


def test_a_flow_overlapping_the_window_is_in_it() -> None:
    query = flow_query(HOUR)
    assert query.overlaps(T0 - timedelta(hours=2), T0 + timedelta(seconds=1))  # started before, still running
    assert query.overlaps(T0 + timedelta(minutes=59), T0 + timedelta(hours=3))
    assert not query.overlaps(T0 - timedelta(hours=2), T0 - timedelta(seconds=1))
    assert not query.overlaps(T0 + timedelta(hours=1, seconds=1), T0 + timedelta(hours=2))


@given(st.text(max_size=40))
def test_typed_text_is_an_address_or_refused_never_pasted(text: str) -> None:
    try:
        query = flow_query(HOUR, addresses=[text])
    except InvalidFlowQuery:
        return
    assert nfdump_filter(query) == f"(ip {query.addresses[0]})"


@given(st.text(max_size=40))
def test_typed_text_is_a_network_or_refused_never_pasted(text: str) -> None:
    try:
        query = flow_query(HOUR, networks=[text])
    except InvalidFlowQuery:
        return
    network = query.networks[0]
    assert nfdump_filter(query) == f"(net {network.network_address}/{network.prefixlen})"
