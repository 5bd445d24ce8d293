"""Who held an address when: attributing flows to customers.

An ISP hands addresses out for a time (a PPPoE session's Framed-IP-Address, a static address for as long as it
is assigned), so "who sent this flow" depends on when. `AddressHolding` is one such period; `attribute` pairs
each flow with the holders of its source and destination at the flow's time. Pure: the platform reads the
holdings (RADIUS accounting, static addresses) and the flows (nfdump), this decides.

    >>> import ipaddress
    >>> from datetime import UTC, datetime
    >>> at = lambda hour: datetime(2026, 12, 3, hour, tzinfo=UTC)
    >>> address = ipaddress.ip_address("100.64.0.7")
    >>> holdings = [AddressHolding(address, at(8), at(12), 1, "C-1"), AddressHolding(address, at(12), None, 2, "C-2")]
    >>> holder_at(holdings, address, at(9), at(9)).label, holder_at(holdings, address, at(13), at(13)).label
    ('C-1', 'C-2')
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ispb_netsync.netflow.query import Address
from ispb_netsync.netflow.records import FlowRecord


@dataclass(frozen=True)
class AddressHolding:
    """``holder`` (e.g. a customer id, shown as ``label``; None when only a label is known, such as a RADIUS user
    name of a deleted customer) had ``address`` from ``start`` until ``end`` (None: still has it)."""

    address: Address
    start: datetime
    end: datetime | None
    holder: int | None
    label: str

    def covers(self, first: datetime, last: datetime) -> bool:
        return self.start <= last and (self.end is None or self.end >= first)


@dataclass(frozen=True)
class AttributedFlow:
    """A flow with whoever held its source and its destination address at the time (None: nobody known)."""

    flow: FlowRecord
    source_holder: AddressHolding | None
    destination_holder: AddressHolding | None


def holder_at(
    holdings: Sequence[AddressHolding], address: Address, first: datetime, last: datetime
) -> AddressHolding | None:
    """The holding of ``address`` that covers ``first`` (the flow's start), else the latest one that overlaps
    ``first``..``last`` (an address handed over while the flow ran). ``holdings`` sorted by start."""
    mine = [holding for holding in holdings if holding.address == address]
    at_start = [holding for holding in mine if holding.covers(first, first)]
    if at_start:
        return at_start[-1]
    overlapping = [holding for holding in mine if holding.covers(first, last)]
    return overlapping[-1] if overlapping else None


def attribute(flows: Iterable[FlowRecord], holdings: Iterable[AddressHolding]) -> list[AttributedFlow]:
    """Each flow with the holders of its two addresses; holdings are indexed by address once."""
    by_address: dict[Address, list[AddressHolding]] = defaultdict(list)
    for holding in sorted(holdings, key=lambda holding: holding.start):
        by_address[holding.address].append(holding)

    def lookup(address: Address, flow: FlowRecord) -> AddressHolding | None:
        candidates = by_address.get(address)
        if not candidates:
            return None
        # only holdings that started by the flow's end can cover it
        upto = bisect_right([holding.start for holding in candidates], flow.last)
        return holder_at(candidates[:upto], address, flow.first, flow.last)

    return [AttributedFlow(flow, lookup(flow.source, flow), lookup(flow.destination, flow)) for flow in flows]
