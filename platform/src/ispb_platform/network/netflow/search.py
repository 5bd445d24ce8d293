"""Logs → NetFlow: a search by customer, address or network and time range, answered from the tenant's capture
files (nfdump) and attributed to the customers who held the addresses then (RADIUS accounting, static addresses).

A customer search looks up every address the customer held in the range, asks nfdump for flows of those
addresses, and keeps only the flows from the times the customer held them: an address that went to another
customer at noon does not bring that customer's afternoon into the answer.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ispb_netsync.netflow import (
    Address,
    AddressHolding,
    AttributedFlow,
    FlowQuery,
    FlowRecord,
    InvalidFlowQuery,
    NetFlowError,
    Network,
    Nfdump,
    TimeRange,
    attribute,
    netflow_dir,
    parse_address,
    parse_network,
    parse_port,
)
from ispb_platform.network.netflow import queries
from ispb_platform.network.netflow.queries import CustomerRef
from ispb_tenants import TenantScope

PAGE_LIMIT = 500
DEFAULT_HOURS = 24
FIELDS = ("customer", "address", "start", "end", "port")


@dataclass(frozen=True)
class FlowSearchRequest:
    """A checked search: a customer (id or PPPoE user name) or addresses/networks, a time range, a port."""

    window: TimeRange
    customer: str | None = None
    addresses: tuple[Address, ...] = ()
    networks: tuple[Network, ...] = ()
    ports: tuple[int, ...] = ()


def parse_search(
    values: Mapping[str, str], time_zone: str, now: datetime
) -> tuple[FlowSearchRequest | None, dict[str, str]]:
    """The form's values (times in the operator's zone) as a request, or the message for each bad field."""
    errors: dict[str, str] = {}
    text = {name: (values.get(name) or "").strip() for name in FIELDS}
    zone = ZoneInfo(time_zone)
    end = _local_time(text["end"], zone, "end", errors) or now
    start = _local_time(text["start"], zone, "start", errors) or end - timedelta(hours=DEFAULT_HOURS)
    addresses: tuple[Address, ...] = ()
    networks: tuple[Network, ...] = ()
    ports: tuple[int, ...] = ()
    try:
        if text["address"]:
            if "/" in text["address"]:
                networks = (parse_network(text["address"]),)
            else:
                addresses = (parse_address(text["address"]),)
    except InvalidFlowQuery as error:
        errors["address"] = error.message
    try:
        ports = (parse_port(text["port"]),) if text["port"] else ()
    except InvalidFlowQuery as error:
        errors["port"] = error.message
    if len(text["customer"]) > 100:
        errors["customer"] = "Enter a customer id or PPPoE user name (up to 100 characters)."
    if not text["customer"] and not text["address"] and not errors:
        errors["customer"] = "Enter a customer or an IP address to search for."
    window = None
    if "start" not in errors and "end" not in errors:
        try:
            window = TimeRange(start, end)
        except InvalidFlowQuery as error:
            errors["end"] = error.message
    if errors or window is None:
        return None, errors
    return FlowSearchRequest(window, text["customer"] or None, addresses, networks, ports), {}


def _local_time(text: str, zone: ZoneInfo, name: str, errors: dict[str, str]) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = "Enter a date and time such as 2026-12-03 14:05."
        return None
    if moment.tzinfo is not None:
        errors[name] = "Enter the time in the operator's time zone, without an offset."
        return None
    return moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class FlowSearchResult:
    flows: list[AttributedFlow]
    truncated: bool
    files: int
    customer: CustomerRef | None = None
    held: tuple[Address, ...] = ()
    """The addresses the searched customer held in the range."""
    warnings: tuple[str, ...] = field(default=())
    problem: str = ""
    """Why nothing could be searched (an unknown customer, no nfdump); empty when the search ran."""


async def search_flows(
    scope: TenantScope, data_dir: Path, request: FlowSearchRequest, nfdump: Nfdump | None = None
) -> FlowSearchResult:
    """Run ``request`` over the tenant's capture files; the scope is only used for the address history."""
    nfdump = nfdump or Nfdump()
    window = request.window
    customer: CustomerRef | None = None
    addresses = request.addresses
    if request.customer is not None:
        customer = await queries.find_customer(scope.connection, request.customer)
        if customer is None:
            return FlowSearchResult(
                [], False, 0, problem=f"No customer has the id or PPPoE user name {request.customer!r}."
            )
        held = await queries.holdings_of_customer(scope.connection, customer, window.start, window.end)
        mine = tuple(sorted({holding.address for holding in held}, key=str))
        if addresses:
            mine = tuple(address for address in mine if address in addresses)
        if request.networks:
            mine = tuple(address for address in mine if any(address in network for network in request.networks))
        if not mine:
            return FlowSearchResult(
                [], False, 0, customer, problem=f"{customer.code} held no address in this time range."
            )
        query = FlowQuery(window, addresses=mine, ports=request.ports, limit=PAGE_LIMIT)
    else:
        query = FlowQuery(window, addresses=addresses, networks=request.networks, ports=request.ports, limit=PAGE_LIMIT)
    directories = await asyncio.to_thread(router_dirs, data_dir, scope.tenant.slug)
    try:
        found = await nfdump.search(directories, query)
    except NetFlowError as error:
        return FlowSearchResult([], False, 0, customer, problem=f"The search could not run: {error.message}")
    ours = _searched_addresses(found.flows, query)
    holdings = await queries.holdings_of(scope.connection, ours, window.start, window.end)
    attributed = attribute(found.flows, holdings)
    if customer is not None:
        attributed = [row for row in attributed if _held_by(row, customer.id)]
    return FlowSearchResult(
        attributed, found.truncated, found.files, customer, query.addresses if customer else (), found.warnings
    )


def router_dirs(data_dir: Path, tenant: str) -> list[Path]:
    """Every exporter directory of the tenant, also of routers deleted since (their flows stay searchable until
    the retention removes them)."""
    root = netflow_dir(data_dir, tenant)
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and path.name.startswith("router-"))


def _searched_addresses(flows: Sequence[FlowRecord], query: FlowQuery) -> list[Address]:
    """The addresses of the found flows that the search was about (ours), for the holder look-up."""
    seen: set[Address] = set()
    for flow in flows:
        for address in (flow.source, flow.destination):
            if address in query.addresses or any(address in network for network in query.networks):
                seen.add(address)
    return sorted(seen, key=lambda address: (address.version, int(address)))


def _held_by(row: AttributedFlow, customer_id: int) -> bool:
    return any(h is not None and h.holder == customer_id for h in (row.source_holder, row.destination_holder))


def holder_label(holding: AddressHolding | None) -> str:
    return holding.label if holding is not None else ""
