"""OLTs, ONUs and ONU settings: reads and single-row writes through Piccolo, in the caller's tenant scope.

The sync's set-based writes are SQL in ``writes.py``. Credentials arrive here sealed (``service.py``) and are
opened only by `address_of`, where a connection is made.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict, cast

import asyncpg
from piccolo.columns.combination import Where

from ispb_netsync.olt import OltAddress, SNMPv3User
from ispb_platform.secrets_box import Binding, Purpose, reveal
from ispb_tenants import TenantScope
from ispb_tenants.tables import Customer, Olt, Onu, OnuReading, OnuSettings

ONU_PAGE = 500
"""ONUs shown on one list page (problems first)."""
HISTORY = 2000
"""Readings drawn on an ONU's page (about 80 days at one an hour)."""


class OltRow(TypedDict):
    id: int
    name: str
    host: str
    snmp_port: int
    snmp_version: str
    community_sealed: str | None
    v3_username: str
    v3_auth_protocol: str
    v3_auth_key_sealed: str | None
    v3_priv_protocol: str
    v3_priv_key_sealed: str | None
    v3_context: str
    vendor: str
    site: str
    status: str
    sys_descr: str
    onu_count: int
    garbled: int
    failures: int
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime


class Settings(TypedDict):
    rx_threshold_dbm: Decimal
    match_onu_field: str
    match_customer_field: str


def _is_olt(olt_id: int) -> Where:
    return Olt._meta.primary_key == olt_id


async def all_olts() -> list[OltRow]:
    return cast(list[OltRow], await Olt.select().order_by(Olt.name))


async def get_olt(olt_id: int) -> OltRow | None:
    return cast(OltRow | None, await Olt.select().where(_is_olt(olt_id)).first())


async def settings() -> Settings:
    row = await OnuSettings.select(
        OnuSettings.rx_threshold_dbm, OnuSettings.match_onu_field, OnuSettings.match_customer_field
    ).first()
    if row is None:  # the migration inserts the row; a deleted one means the defaults
        return Settings(rx_threshold_dbm=Decimal(-27), match_onu_field="description", match_customer_field="code")
    return cast(Settings, row)


async def save_settings(values: Settings) -> None:
    await OnuSettings.update({getattr(OnuSettings, key): value for key, value in values.items()}).where(
        OnuSettings._meta.primary_key == 1
    )


class OltNameTaken(Exception):
    """Another OLT of the operator has this name (a unique index)."""


async def next_olt_id(db: TenantScope) -> int:
    """The next id from the sequence, so a new OLT's credentials are sealed for its row before the insert.
    SQL: Piccolo has no query for a column's sequence."""
    return int(await db.connection.fetchval("SELECT nextval(pg_get_serial_sequence('olt', 'id'))"))


async def insert_olt(db: TenantScope, values: Mapping[str, Any]) -> int:
    try:
        async with db.connection.transaction():  # a savepoint: the form can be shown again
            rows = await Olt.insert(Olt(**values)).returning(Olt._meta.primary_key)
    except asyncpg.UniqueViolationError:
        raise OltNameTaken(values["name"]) from None
    return int(rows[0]["id"])


async def update_olt(db: TenantScope, olt_id: int, values: Mapping[str, Any]) -> None:
    try:
        async with db.connection.transaction():
            await Olt.update({getattr(Olt, column): value for column, value in values.items()}).where(_is_olt(olt_id))
    except asyncpg.UniqueViolationError:
        raise OltNameTaken(values["name"]) from None


async def name_taken(name: str, except_id: int | None) -> bool:
    query = Olt.exists().where(Olt.name == name)
    if except_id is not None:
        query = query.where(Olt._meta.primary_key != except_id)
    return bool(await query)


async def record_description(olt_id: int, description: str) -> None:
    await Olt.update({Olt.sys_descr: description[:500]}).where(_is_olt(olt_id))


def address_of(olt: Mapping[str, Any], secret_key: str, tenant_id: int, *, timeout: float, retries: int) -> OltAddress:
    """How to reach an OLT's SNMP agent, with its credentials opened from the sealed columns."""

    def opened(column: str, purpose: Purpose) -> str:
        return reveal(secret_key, olt[column] or "", Binding(tenant_id, purpose, olt["id"]))

    common: dict[str, Any] = {"port": olt["snmp_port"], "timeout": timeout, "retries": retries}
    if olt["snmp_version"] == "v2c":
        return OltAddress(olt["host"], community=opened("community_sealed", Purpose.OLT_COMMUNITY), **common)
    user = SNMPv3User(
        olt["v3_username"],
        opened("v3_auth_key_sealed", Purpose.OLT_V3_AUTH_KEY),
        opened("v3_priv_key_sealed", Purpose.OLT_V3_PRIV_KEY),
        auth_protocol=olt["v3_auth_protocol"],
        priv_protocol=olt["v3_priv_protocol"],
    )
    return OltAddress(olt["host"], v3=user, context=olt["v3_context"], **common)


_ONU_COLUMNS = (
    Onu.id,
    Onu.olt_id,
    Onu.serial,
    Onu.port,
    Onu.onu_index,
    Onu.status,
    Onu.rx_dbm,
    Onu.tx_dbm,
    Onu.distance_m,
    Onu.description,
    Onu.last_change_at,
    Onu.first_seen_at,
    Onu.last_seen_at,
    Onu.online_at,
    Onu.missing_since,
    Onu.customer_id,
    Onu.mapping,
)


def problems_first(rows: list[dict[str, Any]], threshold: Decimal) -> list[dict[str, Any]]:
    """Down ONUs first, then weak ones (Rx below ``threshold``, weakest first), then the rest by place; each
    row gets ``problem``: ``down``, ``weak`` or ``""``."""
    for row in rows:
        down = row["status"] in {"offline", "los", "dying_gasp"} or row["missing_since"] is not None
        weak = row["rx_dbm"] is not None and row["rx_dbm"] < threshold
        row["problem"] = "down" if down else "weak" if weak else ""
    rank = {"down": 0, "weak": 1, "": 2}
    return sorted(rows, key=lambda r: (rank[r["problem"]], r["rx_dbm"] or 0, r["port"], r["onu_index"]))


async def list_onus(*, olt_id: int | None = None, problems_only: bool = False) -> list[dict[str, Any]]:
    """ONUs with their OLT's and customer's names, problems first (sorted in Python: one OLT has at most a few
    thousand ONUs, and "problem" depends on the operator's threshold)."""
    query = Onu.select(*_ONU_COLUMNS)
    if olt_id is not None:
        query = query.where(Onu.olt_id == olt_id)
    rows = await query
    threshold = (await settings())["rx_threshold_dbm"]
    olts = {row["id"]: row["name"] for row in await Olt.select(Olt._meta.primary_key, Olt.name)}
    customer_ids = list({row["customer_id"] for row in rows if row["customer_id"] is not None})
    customers = await _customers(customer_ids)
    for row in rows:
        row["olt_name"] = olts.get(row["olt_id"], "")
        row["customer"] = customers.get(row["customer_id"])
    ordered = problems_first(rows, threshold)
    if problems_only:
        ordered = [row for row in ordered if row["problem"]]
    return ordered


async def _customers(ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await Customer.select(Customer._meta.primary_key, Customer.code, Customer.name).where(
        Customer._meta.primary_key.is_in(ids)
    )
    return {row["id"]: row for row in rows}


async def count_problems() -> int:
    """ONUs that are down or gone from their OLT, or below the Rx threshold: one count in the database (the
    OLT list shows it; the lists themselves sort in Python, see `list_onus`)."""
    threshold = (await settings())["rx_threshold_dbm"]
    down = ["offline", "los", "dying_gasp"]
    return int(
        await Onu.count().where(Onu.status.is_in(down) | Onu.missing_since.is_not_null() | (Onu.rx_dbm < threshold))
    )


async def get_onu(onu_id: int) -> dict[str, Any] | None:
    row = await Onu.select(*_ONU_COLUMNS).where(Onu._meta.primary_key == onu_id).first()
    if row is None:
        return None
    row["olt_name"] = (await get_olt(row["olt_id"]) or {"name": ""})["name"]
    row["customer"] = (await _customers([row["customer_id"]])).get(row["customer_id"]) if row["customer_id"] else None
    return problems_first([row], (await settings())["rx_threshold_dbm"])[0]


async def onus_of_customer(customer_id: int) -> list[dict[str, Any]]:
    rows = await Onu.select(*_ONU_COLUMNS).where(Onu.customer_id == customer_id).order_by(Onu.last_seen_at)
    return problems_first(rows, (await settings())["rx_threshold_dbm"])


async def readings(onu_id: int) -> list[dict[str, Any]]:
    """The ONU's kept readings, oldest first (the latest ``HISTORY``)."""
    rows = (
        await OnuReading.select(OnuReading.at, OnuReading.status, OnuReading.rx_dbm, OnuReading.tx_dbm)
        .where(OnuReading.onu_id == onu_id)
        .order_by(OnuReading.at, ascending=False)
        .limit(HISTORY)
    )
    return list(reversed(rows))


async def set_mapping(onu_id: int, customer_id: int | None, mapping: str) -> None:
    await Onu.update({Onu.customer_id: customer_id, Onu.mapping: mapping}).where(Onu._meta.primary_key == onu_id)


async def customer_by_code(code: str) -> dict[str, Any] | None:
    row = (
        await Customer.select(Customer._meta.primary_key, Customer.code, Customer.name)
        .where(Customer.code == code)
        .first()
    )
    return row
