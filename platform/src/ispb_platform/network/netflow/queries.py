"""Reads for NetFlow: the exporters of every tenant (the collector), who held an address when (the search).

SQL, not Piccolo: the exporters are read from every tenant schema on one connection outside any tenant scope (as
``ispb radius config`` does), and the address history is a range query on the partitioned ``radacct`` that leans
on ``radacct_framed_start_idx`` (tenant migration 0015) and ``radacct_user_start_idx``.
"""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ispb_netsync.netflow import Address, AddressHolding
from ispb_tenants.slugs import quote_ident

AnyConnection = asyncpg.Connection | PoolConnectionProxy


@dataclass(frozen=True)
class RouterExporter:
    """A router of a tenant and the address its NetFlow comes from (None: no IP address known for it)."""

    tenant: str
    router_id: int
    router_name: str
    address: Address | None


def exporter_address(netflow_address: object, nas_address: object, host: str) -> Address | None:
    """The router's NetFlow source: its NetFlow address, else its NAS address, else its host when that is an IP.

    >>> exporter_address(None, None, "10.0.0.1"), exporter_address(None, None, "core.example.net")
    (IPv4Address('10.0.0.1'), None)
    """
    for candidate in (netflow_address, nas_address, host):
        if candidate is None or candidate == "":
            continue
        try:
            return ipaddress.ip_address(str(candidate).strip())
        except ValueError:
            continue
    return None


async def router_exporters(connection: AnyConnection) -> list[RouterExporter]:
    """Every router of every tenant migrated far enough (tenant migration 0015), by tenant and id."""
    tenants = await connection.fetch("SELECT slug, schema_name FROM platform.tenant ORDER BY id")
    found: list[RouterExporter] = []
    for tenant in tenants:
        schema = quote_ident(tenant["schema_name"])
        column = await connection.fetchval(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'router'"
            " AND column_name = 'netflow_address'",
            tenant["schema_name"],
        )
        if column is None:
            continue
        rows = await connection.fetch(
            f"SELECT id, name, host, nas_address, netflow_address FROM {schema}.router ORDER BY id"  # noqa: S608
        )
        found += [
            RouterExporter(
                tenant["slug"],
                row["id"],
                row["name"],
                exporter_address(row["netflow_address"], row["nas_address"], row["host"]),
            )
            for row in rows
        ]
    return found


@dataclass(frozen=True)
class CustomerRef:
    id: int
    code: str
    name: str
    pppoe_username: str | None
    ip_address: Address | None


async def find_customer(connection: AnyConnection, text: str) -> CustomerRef | None:
    """The customer whose id (code) or PPPoE user name is ``text`` (case-insensitive), in the open scope."""
    row = await connection.fetchrow(
        "SELECT id, code, name, pppoe_username, ip_address FROM customer"
        " WHERE lower(code) = lower($1) OR lower(pppoe_username) = lower($1) ORDER BY lower(code) = lower($1) DESC"
        " LIMIT 1",
        text,
    )
    if row is None:
        return None
    static = as_address(row["ip_address"]) if row["ip_address"] is not None else None
    return CustomerRef(row["id"], row["code"], row["name"], row["pppoe_username"], static)


# Sessions that held one of the addresses at some moment of the window (stop NULL: still open), with the customer
# behind the user name; then customers with one of them as a static address (no history: the whole window).
_HOLDINGS_OF_ADDRESSES = """
SELECT a.framedipaddress AS address, a.acctstarttime AS start, a.acctstoptime AS stop,
       c.id AS customer_id, coalesce(c.code, a.username, '') AS label
FROM radacct a
LEFT JOIN customer c ON c.pppoe_username = a.username
WHERE a.framedipaddress = ANY($1::inet[]) AND a.acctstarttime <= $3
  AND (a.acctstoptime IS NULL OR a.acctstoptime >= $2)
UNION ALL
SELECT c.ip_address, $2, NULL, c.id, c.code FROM customer c WHERE c.ip_address = ANY($1::inet[])
"""

_HOLDINGS_OF_CUSTOMER = """
SELECT a.framedipaddress AS address, a.acctstarttime AS start, a.acctstoptime AS stop,
       $4::int AS customer_id, $5::text AS label
FROM radacct a
WHERE a.username = $1 AND a.framedipaddress IS NOT NULL AND a.acctstarttime <= $3
  AND (a.acctstoptime IS NULL OR a.acctstoptime >= $2)
"""


def as_address(value: object) -> Address:
    """An inet value from asyncpg (an address, or an interface when stored with a mask) as an address."""
    return ipaddress.ip_address(str(value).split("/")[0])


def _holding(row: Any) -> AddressHolding:
    return AddressHolding(as_address(row["address"]), row["start"], row["stop"], row["customer_id"], row["label"])


async def holdings_of(
    connection: AnyConnection, addresses: Sequence[Address], start: datetime, end: datetime
) -> list[AddressHolding]:
    """Who held any of ``addresses`` at some time from ``start`` to ``end``."""
    if not addresses:
        return []
    rows = await connection.fetch(_HOLDINGS_OF_ADDRESSES, [str(a) for a in set(addresses)], start, end)
    return [_holding(row) for row in rows]


async def holdings_of_customer(
    connection: AnyConnection, customer: CustomerRef, start: datetime, end: datetime
) -> list[AddressHolding]:
    """The addresses ``customer`` held from ``start`` to ``end``: RADIUS sessions and the static address."""
    found: list[AddressHolding] = []
    if customer.pppoe_username:
        rows = await connection.fetch(
            _HOLDINGS_OF_CUSTOMER, customer.pppoe_username, start, end, customer.id, customer.code
        )
        found = [_holding(row) for row in rows]
    if customer.ip_address is not None:
        found.append(AddressHolding(as_address(customer.ip_address), start, None, customer.id, customer.code))
    return found
