"""A flow search as typed values, and the nfdump filter it becomes.

The filter is built only from parsed values (``ipaddress`` objects, whole port numbers, a protocol from a fixed
list), never from the text a person typed, so a search cannot smuggle ``or any`` into nfdump's filter language.
Time is not part of the filter: nfdump's ``-t`` keeps only flows wholly inside the window, while a regulator's
question ("who used 100.64.0.7 at 14:05?") needs every flow that overlaps it; `FlowQuery.overlaps` decides.

    >>> from datetime import UTC, datetime
    >>> query = flow_query(
    ...     TimeRange(datetime(2026, 12, 3, 14, tzinfo=UTC), datetime(2026, 12, 3, 15, tzinfo=UTC)),
    ...     addresses=["100.64.0.7"], networks=["10.20.0.0/24"], ports=["443"],
    ... )
    >>> nfdump_filter(query)
    '(ip 100.64.0.7 or net 10.20.0.0/24) and (port 443)'
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ispb_netsync.netflow.errors import InvalidFlowQuery

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_TERMS = 256
"""Addresses plus networks plus ports in one search: nfdump compiles the filter into a tree, and a customer with
a year of dynamic addresses is still far below this."""
MAX_WINDOW = timedelta(days=31)
MAX_LIMIT = 100_000
EARLIEST_YEAR, LATEST_YEAR = 1990, 2999


class Protocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"


@dataclass(frozen=True)
class TimeRange:
    """From ``start`` up to ``end``, both with a time zone."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidFlowQuery("Times need a time zone.")
        if self.start.year < EARLIEST_YEAR or self.end.year > LATEST_YEAR:
            # flows are no older than NetFlow; and the file selection adds hours, which would overflow at year 9999
            raise InvalidFlowQuery(f"Search times from {EARLIEST_YEAR} to {LATEST_YEAR}.")
        if self.end <= self.start:
            raise InvalidFlowQuery("The end of the time range must be after its start.")
        if self.end - self.start > MAX_WINDOW:
            raise InvalidFlowQuery("Search at most 31 days at a time.")


@dataclass(frozen=True)
class FlowQuery:
    """Flows that overlap ``window`` and touch any of ``addresses`` or ``networks`` (as source or destination),
    on any of ``ports`` when given, of ``protocol`` when given; at most ``limit`` of them."""

    window: TimeRange
    addresses: tuple[Address, ...] = ()
    networks: tuple[Network, ...] = ()
    ports: tuple[int, ...] = ()
    protocol: Protocol | None = None
    limit: int = 1000

    def overlaps(self, first: datetime, last: datetime) -> bool:
        return first <= self.window.end and last >= self.window.start


def flow_query(
    window: TimeRange,
    *,
    addresses: Iterable[str] = (),
    networks: Iterable[str] = (),
    ports: Iterable[str | int] = (),
    protocol: str | None = None,
    limit: int = 1000,
) -> FlowQuery:
    """Parse a search typed by a person into a `FlowQuery`, or raise `InvalidFlowQuery` naming the bad part."""
    query = FlowQuery(
        window=window,
        addresses=tuple(parse_address(text) for text in addresses),
        networks=tuple(parse_network(text) for text in networks),
        ports=tuple(parse_port(port) for port in ports),
        protocol=parse_protocol(protocol),
        limit=limit,
    )
    if len(query.addresses) + len(query.networks) + len(query.ports) > MAX_TERMS:
        raise InvalidFlowQuery(f"Search at most {MAX_TERMS} addresses, networks and ports at once.")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidFlowQuery(f"Ask for 1 to {MAX_LIMIT:,} flows.")
    return query


def parse_address(text: str) -> Address:
    """An IPv4 or IPv6 address. An IPv6 zone (``fe80::1%eth0``) is refused: ``ipaddress`` keeps any text after
    the ``%`` (``fe80::1%1 or any`` parses) and nfdump has no use for it."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        address = None
    if address is None or (isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None):
        raise InvalidFlowQuery(f"{text.strip()[:60]!r} is not an IP address (such as 100.64.0.7).")
    return address


def parse_network(text: str) -> Network:
    """A network in CIDR notation; host bits are cleared (``10.1.2.3/24`` is ``10.1.2.0/24``). A zone is
    refused, as in `parse_address`."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        network = None
    if network is None or "%" in str(network):
        raise InvalidFlowQuery(f"{text.strip()[:60]!r} is not a network (such as 100.64.0.0/24).")
    return network


def parse_port(value: str | int) -> int:
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 65535:
        raise InvalidFlowQuery(f"{text[:20]!r} is not a port (a whole number from 0 to 65535).")
    return int(text)


def parse_protocol(text: str | None) -> Protocol | None:
    if text is None or not text.strip():
        return None
    try:
        return Protocol(text.strip().lower())
    except ValueError:
        raise InvalidFlowQuery("Choose TCP, UDP or ICMP as the protocol, or none.") from None


def nfdump_filter(query: FlowQuery) -> str:
    """nfdump's filter expression for ``query``; ``any`` when it names no address, network, port or protocol."""
    parts: list[str] = []
    hosts = [f"ip {address}" for address in query.addresses] + [f"net {network}" for network in query.networks]
    if hosts:
        parts.append("(" + " or ".join(hosts) + ")")
    if query.ports:
        parts.append("(" + " or ".join(f"port {port}" for port in query.ports) + ")")
    if query.protocol is not None:
        parts.append(f"proto {query.protocol.value}")
    return " and ".join(parts) or "any"
