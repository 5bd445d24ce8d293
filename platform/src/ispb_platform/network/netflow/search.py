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
    EARLIEST_YEAR,
    LATEST_YEAR,
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
from ispb_platform.web.forms import text_errors
from ispb_tenants import Database, TenantRef

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
    errors = text_errors(values, FIELDS)  # control characters, NULs (PostgreSQL text cannot hold them)
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
    if len(text["customer"]) > 100 and "customer" not in errors:
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
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:  # before "24 hours earlier" could overflow
        errors[name] = f"Enter a time from {EARLIEST_YEAR} to {LATEST_YEAR}."
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
    db: Database, tenant: TenantRef, data_dir: Path, request: FlowSearchRequest, nfdump: Nfdump | None = None
) -> FlowSearchResult:
    """Run ``request`` over the tenant's capture files. The address history is read in short tenant scopes
    before and after nfdump runs: no transaction stays open while it reads files (seconds for a month)."""
    window = request.window
    customer: CustomerRef | None = None
    if request.customer is not None:
        async with db.tenant(tenant) as scope:
            customer = await queries.find_customer(scope.connection, request.customer)
            held = [] if customer is None else await queries.holdings_of_customer(
                scope.connection, customer, window.start, window.end
            )  # fmt: skip
        if customer is None:
            return _nothing(f"No customer has the id or PPPoE user name {request.customer!r}.")
        mine = _customer_addresses(held, request)
        if not mine:
            return _nothing(f"{customer.code} held no address in this time range.", customer)
        query = FlowQuery(window, addresses=mine, ports=request.ports, limit=PAGE_LIMIT)
    else:
        query = FlowQuery(
            window, addresses=request.addresses, networks=request.networks, ports=request.ports, limit=PAGE_LIMIT
        )
    directories = await asyncio.to_thread(router_dirs, data_dir, tenant.slug)
    try:
        found = await (nfdump or Nfdump()).search(directories, query)
    except NetFlowError as error:
        return _nothing(f"The search could not run: {error.message}", customer)
    async with db.tenant(tenant) as scope:
        ours = _searched_addresses(found.flows, query)
        holdings = await queries.holdings_of(scope.connection, ours, window.start, window.end)
    attributed = attribute(found.flows, holdings)
    if customer is not None:
        attributed = [row for row in attributed if _held_by(row, customer.id)]
    held_addresses = query.addresses if customer else ()
    return FlowSearchResult(attributed, found.truncated, found.files, customer, held_addresses, found.warnings)


def _nothing(problem: str, customer: CustomerRef | None = None) -> FlowSearchResult:
    return FlowSearchResult([], False, 0, customer, problem=problem)


def _customer_addresses(held: Sequence[AddressHolding], request: FlowSearchRequest) -> tuple[Address, ...]:
    """The addresses the customer held, narrowed to the typed address or network when one was given too."""
    mine = sorted({holding.address for holding in held}, key=lambda address: (address.version, int(address)))
    if request.addresses:
        mine = [address for address in mine if address in request.addresses]
    if request.networks:
        mine = [address for address in mine if any(address in network for network in request.networks)]
    return tuple(mine)


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
