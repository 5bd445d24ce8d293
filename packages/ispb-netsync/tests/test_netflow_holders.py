"""Flows are attributed to whoever held their addresses at the flow's time, never to a later or earlier holder."""

import ipaddress
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ispb_netsync.netflow import AddressHolding, FlowRecord, attribute

A = ipaddress.ip_address("100.64.0.7")
B = ipaddress.ip_address("100.64.0.8")
OUT = ipaddress.ip_address("198.51.100.10")
T0 = datetime(2026, 12, 3, tzinfo=UTC)


def at(hour: float) -> datetime:
    return T0 + timedelta(hours=hour)


def flow(source: object, destination: object, first: float, last: float) -> FlowRecord:
    return FlowRecord(at(first), at(last), source, destination, 40000, 443, "TCP", 1, 100, None)  # type: ignore[arg-type]


HOLDINGS = [
    AddressHolding(A, at(8), at(12), 1, "C-1"),
    AddressHolding(A, at(12), None, 2, "C-2"),
    AddressHolding(B, at(0), at(24), 3, "C-3"),
]


def test_the_holder_at_the_flows_start_is_named_on_each_side() -> None:
    [morning, afternoon, inbound, before] = attribute(
        [flow(A, OUT, 9, 9.5), flow(A, OUT, 13, 13.1), flow(OUT, B, 5, 5.1), flow(A, OUT, 7, 7.5)], HOLDINGS
    )
    assert morning.source_holder is not None and morning.source_holder.label == "C-1"
    assert afternoon.source_holder is not None and afternoon.source_holder.label == "C-2"
    assert inbound.source_holder is None
    assert inbound.destination_holder is not None and inbound.destination_holder.label == "C-3"
    assert before.source_holder is None, "nobody held the address at 07:00"


def test_an_address_handed_over_during_a_flow_goes_to_the_one_who_held_it_at_the_start() -> None:
    [spanning] = attribute([flow(A, OUT, 11.5, 12.5)], HOLDINGS)
    assert spanning.source_holder is not None and spanning.source_holder.label == "C-1"
    [late_start] = attribute([flow(A, OUT, 7.5, 8.5)], HOLDINGS)
    assert late_start.source_holder is not None and late_start.source_holder.label == "C-1"


@given(st.floats(min_value=0, max_value=48), st.floats(min_value=0, max_value=2))
def test_a_named_holder_always_held_the_address_during_the_flow(start: float, length: float) -> None:
    [result] = attribute([flow(A, B, start, start + length)], HOLDINGS)
    for holding in (result.source_holder, result.destination_holder):
        if holding is not None:
            assert holding.covers(at(start), at(start + length))
