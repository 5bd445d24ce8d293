"""Routers and their command history: reads and writes through Piccolo, in the caller's tenant scope.

Every function runs inside ``db.tenant(...)`` (a handler's ``@in_tenant_scope`` or a job's scope): the tables
carry no schema and the open transaction's ``search_path`` picks the operator's. Passwords and RADIUS secrets
arrive here already sealed (``service.py``). The command queue's own work (claiming, running, recording a run)
is set-based SQL in ``commands.py``.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, TypedDict, cast

import asyncpg
from piccolo.columns.combination import Where
from piccolo.query.functions.aggregate import Count

from ispb_netsync.routeros import RouterAddress
from ispb_platform.secrets_box import Binding, Purpose, reveal
from ispb_tenants import TenantScope
from ispb_tenants.tables import Customer, Router, RouterCommand

COMMAND_HISTORY = 50
"""Commands shown on a router's or a customer's page, newest first."""


class RouterRow(TypedDict):
    """A ``router`` row with its sealed secrets (never shown; opened only to connect)."""

    id: int
    name: str
    host: str
    api_port: int
    use_tls: bool
    username: str
    password_sealed: str
    radius_secret_sealed: str | None
    mode: str
    nas_address: Any  # inet: ipaddress.IPv4Address / IPv6Address, or None
    coa_port: int
    netflow_address: Any  # inet, or None
    status: str
    identity: str
    version: str
    last_checked_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime


class RouterListRow(TypedDict):
    """A router on the Routers page: its row (without secrets) and how many customers and pending commands."""

    id: int
    name: str
    host: str
    api_port: int
    use_tls: bool
    mode: str
    status: str
    identity: str
    version: str
    last_checked_at: datetime | None
    last_error: str
    customers: int
    pending: int


class CommandRow(TypedDict):
    """A router command with its customer and router names and the result its run recorded (if any)."""

    id: int
    router_id: int
    router_name: str
    customer_id: int | None
    code: str | None
    name: str | None
    action: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    done_at: datetime | None
    result: Any


_ROUTER_ID = Router._meta.primary_key  # ``Router.id``: added at class creation, unseen by type checkers


def _is_router(router_id: int) -> Where:
    return Router._meta.primary_key == router_id


async def get_router(router_id: int) -> RouterRow | None:
    row = await Router.select().where(_is_router(router_id)).first()
    return cast(RouterRow | None, row)


async def list_routers() -> list[RouterListRow]:
    """Every router by name, with its customer count and pending commands."""
    routers = await Router.select(exclude_secrets=True).order_by(Router.name)
    customers = await Customer.select(Customer.router_id, Count()).group_by(Customer.router_id)
    pending = (
        await RouterCommand.select(RouterCommand.router.as_alias("router_id"), Count())
        .where(RouterCommand.status == "pending")
        .group_by(RouterCommand.router)
    )
    per_router = {row["router_id"]: row["count"] for row in customers}
    pending_per_router = {row["router_id"]: row["count"] for row in pending}
    return [
        cast(
            RouterListRow,
            row | {"customers": per_router.get(row["id"], 0), "pending": pending_per_router.get(row["id"], 0)},
        )
        for row in routers
    ]


async def api_router_ids() -> list[int]:
    """The API-managed routers (the ones ``netsync.router_status`` checks), in id order."""
    rows = await Router.select(_ROUTER_ID).where(Router.mode == "api").order_by(_ROUTER_ID)
    return [row["id"] for row in rows]


async def api_routers() -> list[RouterRow]:
    """The API-managed routers with their sealed credentials, in id order (the traffic poll reads them all)."""
    rows = await Router.select().where(Router.mode == "api").order_by(_ROUTER_ID)
    return cast(list[RouterRow], rows)


async def name_taken(name: str, except_id: int | None) -> bool:
    """Whether another router (not ``except_id``) has this name: checked with the form's other fields, so one
    answer lists every problem; the unique index still catches a concurrent clash (`RouterNameTaken`)."""
    query = Router.exists().where(Router.name == name)
    if except_id is not None:
        query = query.where(Router._meta.primary_key != except_id)
    return bool(await query)


class RouterNameTaken(Exception):
    """Another router of the operator has this name (a unique index)."""


async def next_router_id(db: TenantScope) -> int:
    """Take the next router id from the table's sequence, so a new router's secrets are sealed for its row
    before the insert. SQL: Piccolo has no query for a column's sequence."""
    return int(await db.connection.fetchval("SELECT nextval(pg_get_serial_sequence('router', 'id'))"))


async def insert_router(db: TenantScope, values: Mapping[str, Any]) -> int:
    """Insert a router from column values; raises `RouterNameTaken` from a savepoint, so the request's
    transaction stays usable for the form shown again."""
    try:
        async with db.connection.transaction():  # a savepoint
            rows = await Router.insert(Router(**values)).returning(_ROUTER_ID)
    except asyncpg.UniqueViolationError:
        raise RouterNameTaken(values["name"]) from None
    return int(rows[0]["id"])


async def update_router(db: TenantScope, router_id: int, values: Mapping[str, Any]) -> None:
    """Set the given columns; raises `RouterNameTaken` from a savepoint, as `insert_router`."""
    try:
        async with db.connection.transaction():  # a savepoint
            await Router.update({getattr(Router, column): value for column, value in values.items()}).where(
                _is_router(router_id)
            )
    except asyncpg.UniqueViolationError:
        raise RouterNameTaken(values["name"]) from None


async def record_check(
    router_id: int, *, ok: bool, identity: str, version: str, error: str, checked_at: datetime
) -> None:
    """Store what a check found; identity and version only when the router told them (else keep the last)."""
    values: dict[Any, Any] = {
        Router.status: "up" if ok else "down",
        Router.last_error: error,
        Router.last_checked_at: checked_at,
    }
    if identity:
        values[Router.identity] = identity
    if version:
        values[Router.version] = version
    await Router.update(values).where(_is_router(router_id))


async def recent_commands(*, router_id: int | None = None, customer_id: int | None = None) -> list[CommandRow]:
    """The latest router commands of a router or a customer (or of all), with each one's recorded result."""
    query = RouterCommand.select(
        RouterCommand.id,
        RouterCommand.router.as_alias("router_id"),
        RouterCommand.router.name.as_alias("router_name"),
        RouterCommand.customer.as_alias("customer_id"),
        RouterCommand.customer.code.as_alias("code"),
        RouterCommand.customer.name.as_alias("name"),
        RouterCommand.action,
        RouterCommand.status,
        RouterCommand.attempts,
        RouterCommand.next_attempt_at,
        RouterCommand.last_error,
        RouterCommand.created_at,
        RouterCommand.done_at,
        RouterCommand.payload,
    )
    if router_id is not None:
        query = query.where(RouterCommand.router == router_id)
    if customer_id is not None:
        query = query.where(RouterCommand.customer == customer_id)
    rows = await query.order_by(RouterCommand.id, ascending=False).limit(COMMAND_HISTORY).output(load_json=True)
    commands = []
    for row in rows:
        payload = row.pop("payload") or {}
        commands.append(cast(CommandRow, row | {"result": payload.get("result")}))
    return commands


class _Fields(Protocol):
    def __getitem__(self, key: str) -> Any: ...


def address_of(
    router: _Fields, secret_key: str, tenant_id: int, router_id: int, *, timeout: float = 10.0
) -> RouterAddress:
    """How to reach a router's API, with its password opened from the sealed column."""
    binding = Binding(tenant_id, Purpose.ROUTER_API_PASSWORD, router_id)
    return RouterAddress(
        host=router["host"],
        username=router["username"],
        password=reveal(secret_key, router["password_sealed"], binding),
        port=router["api_port"],
        tls=router["use_tls"],
        timeout=timeout,
    )
