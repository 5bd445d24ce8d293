"""Factories for test data inside a tenant: packages, billing profiles, customers, routers, discounts, bills, payments.

Plain async functions: pass the open tenant scope (or a connection whose search_path is the tenant's schema) and
only the fields the test is about; everything else gets a working default. Each returns the new row's id, or a
small frozen dataclass where a test needs more (a bill's number). They write the columns the app writes, through
the app's own code where a row has bookkeeping around it (a payment's allocation, a bill's number and balance)::

    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, price_minor=80000, vat_rate_bp=500)
        customer_id = await make_customer(scope, package_id=package_id, connection_date=date(2026, 1, 1))
        bill = await make_bill(scope, customer_id=customer_id, period_start=date(2026, 11, 1))
        await make_payment(scope, customer_id=customer_id, amount_minor=bill.total_minor)

Tests that insert something the database must refuse keep their raw SQL: a factory only builds valid rows.
"""

import base64
import calendar
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ispb_billing import Money
from ispb_platform.billing.numbers import INVOICE, take_numbers
from ispb_platform.payments.queries import move_balance
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Connection, TenantScope, current_tenant

__all__ = (
    "TEST_SECRET_KEY",
    "Line",
    "MadeBill",
    "make_bill",
    "make_billing_profile",
    "make_customer",
    "make_discount",
    "make_package",
    "make_payment",
    "legacy_seal",
    "make_router",
)

TEST_SECRET_KEY = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY: what the factories seal router passwords with

Scope = TenantScope | Connection


def _connection(db: Scope) -> Connection:
    return db.connection if isinstance(db, TenantScope) else db


async def _insert(db: Scope, table: str, values: dict[str, Any]) -> int:
    """One INSERT of ``values`` (column -> value); columns left out take the migration's default."""
    columns = ", ".join(values)
    placeholders = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id"
    return int(await _connection(db).fetchval(sql, *values.values()))


def _sealed(db: Scope, secret_key: str, plain: str, purpose: Purpose, row: int) -> str:
    """``plain`` sealed as the app seals it: for the scope's tenant, the purpose and the row."""
    tenant = db.tenant if isinstance(db, TenantScope) else current_tenant()
    assert tenant is not None, "factories run inside a tenant scope"
    return seal(secret_key, plain, Binding(tenant.id, purpose, row))


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


async def make_package(
    db: Scope,
    *,
    name: str | None = None,
    price_minor: int = 50000,
    download_kbps: int = 10000,
    upload_kbps: int = 10000,
    vat_rate_bp: int = 0,
    validity_days: int = 30,
    service_type: str = "pppoe",
    data_allowance_mb: int | None = None,
) -> int:
    """A package (unique name unless given); 500.00 a month, 10 Mbps, no VAT, no data allowance."""
    return await _insert(
        db,
        "package",
        {
            "name": name or _unique("Package"),
            "price_minor": price_minor,
            "download_kbps": download_kbps,
            "upload_kbps": upload_kbps,
            "vat_rate_bp": vat_rate_bp,
            "validity_days": validity_days,
            "service_type": service_type,
            "data_allowance_mb": data_allowance_mb,
        },
    )


async def make_billing_profile(
    db: Scope,
    *,
    name: str | None = None,
    cycle: str = "monthly",
    billing_day: int = 1,
    due_days: int = 7,
    grace_days: int = 3,
    auto_suspend: bool = True,
    auto_activate: bool = True,
) -> int:
    """A billing profile that is not the default (every tenant starts with its default, "Standard monthly")."""
    return await _insert(
        db,
        "billing_profile",
        {
            "name": name or _unique("Profile"),
            "cycle": cycle,
            "billing_day": billing_day,
            "due_days": due_days,
            "grace_days": grace_days,
            "auto_suspend": auto_suspend,
            "auto_activate": auto_activate,
        },
    )


async def make_customer(
    db: Scope,
    *,
    code: str | None = None,
    name: str = "Rahim Uddin",
    phone: str = "+8801711000001",
    area: str = "",
    package_id: int | None = None,
    connection_date: date | None = None,
    billing_profile_id: int | None = None,
    password_hash: str | None = None,
    router_id: int | None = None,
    pppoe_username: str | None = None,
    pppoe_password: str | None = None,
    pppoe_password_sealed: str | None = None,
    status: str = "active",
    secret_key: str = TEST_SECRET_KEY,
) -> int:
    """An active customer (unique code unless given); ``connection_date`` defaults to the database's today.

    Its customer_account row comes from the migration's trigger, as for every customer the app adds.
    ``pppoe_password`` is sealed with ``secret_key`` for the new row (as the app does, after the insert);
    ``pppoe_password_sealed`` stores a value as given.
    """
    values: dict[str, Any] = {
        "code": code or _unique("C"),
        "name": name,
        "phone": phone,
        "area": area,
        "package_id": package_id,
        "billing_profile_id": billing_profile_id,
        "password_hash": password_hash,
        "router_id": router_id,
        "pppoe_username": pppoe_username,
        "pppoe_password_sealed": pppoe_password_sealed,
        "status": status,
    }
    if connection_date is not None:
        values["connection_date"] = connection_date
    customer_id = await _insert(db, "customer", values)
    if pppoe_password is not None:
        sealed = _sealed(db, secret_key, pppoe_password, Purpose.CUSTOMER_PPPOE_PASSWORD, customer_id)
        await _connection(db).execute(
            "UPDATE customer SET pppoe_password_sealed = $2 WHERE id = $1", customer_id, sealed
        )
    return customer_id


async def make_router(
    db: Scope,
    *,
    name: str | None = None,
    host: str = "127.0.0.1",
    api_port: int = 8728,
    username: str = "ispb",
    password: str = "router-pass",
    password_sealed: str | None = None,
    mode: str = "api",
    radius_secret: str | None = None,
    radius_secret_sealed: str | None = None,
    nas_address: str | None = None,
    coa_port: int = 3799,
    secret_key: str = TEST_SECRET_KEY,
) -> int:
    """An API-managed router whose API password ``password`` is sealed with ``secret_key`` for its row (its id is
    taken from the sequence first, as the app does); ``password_sealed`` stores a value as given instead.

    A RADIUS router (``mode="radius"``) needs ``radius_secret`` (or ``radius_secret_sealed``, as given) and
    ``nas_address`` (the table's check).
    """
    router_id = int(await _connection(db).fetchval("SELECT nextval(pg_get_serial_sequence('router', 'id'))"))
    if password_sealed is None:
        password_sealed = _sealed(db, secret_key, password, Purpose.ROUTER_API_PASSWORD, router_id)
    if radius_secret is not None:
        radius_secret_sealed = _sealed(db, secret_key, radius_secret, Purpose.ROUTER_RADIUS_SECRET, router_id)
    return await _insert(
        db,
        "router",
        {
            "id": router_id,
            "name": name or _unique("Router"),
            "host": host,
            "api_port": api_port,
            "username": username,
            "password_sealed": password_sealed,
            "mode": mode,
            "radius_secret_sealed": radius_secret_sealed,
            "nas_address": nas_address,
            "coa_port": coa_port,
        },
    )


async def make_olt(
    db: Scope,
    *,
    name: str | None = None,
    host: str = "127.0.0.1",
    snmp_port: int = 161,
    community: str = "public",
    community_sealed: str | None = None,
    vendor: str = "huawei_gpon",
    secret_key: str = TEST_SECRET_KEY,
) -> int:
    """An SNMPv2c OLT whose community is sealed for its row (``community_sealed`` stores a value as given)."""
    olt_id = int(await _connection(db).fetchval("SELECT nextval(pg_get_serial_sequence('olt', 'id'))"))
    if community_sealed is None:
        community_sealed = _sealed(db, secret_key, community, Purpose.OLT_COMMUNITY, olt_id)
    values = {"id": olt_id, "name": name or _unique("OLT"), "host": host, "snmp_port": snmp_port}
    return await _insert(db, "olt", values | {"community_sealed": community_sealed, "vendor": vendor})


async def make_onu(
    db: Scope, *, olt_id: int, serial: str, port: str = "0/1/0", index: int = 1, status: str = "online"
) -> int:
    """An ONU row as a sync would have written it."""
    values = {"olt_id": olt_id, "serial": serial, "port": port, "onu_index": index, "status": status}
    return await _insert(db, "onu", values)


async def make_discount(
    db: Scope,
    *,
    customer_id: int,
    label: str = "Loyal",
    percent_bp: int | None = None,
    amount_minor: int | None = None,
    starts: date | None = None,
    ends: date | None = None,
) -> int:
    """A customer discount on every period: 10 % unless a percentage or an amount is given."""
    if percent_bp is None and amount_minor is None:
        percent_bp = 1000
    return await _insert(
        db,
        "customer_discount",
        {
            "customer_id": customer_id,
            "label": label,
            "percent_bp": percent_bp,
            "amount_minor": amount_minor,
            "starts": starts,
            "ends": ends,
        },
    )


@dataclass(frozen=True)
class Line:
    """A bill line as the bill job writes it; ``vat_minor`` is given, not computed (tests state their numbers)."""

    description: str = "Home 10 Mbps"
    net_minor: int = 50000
    kind: str = "package"
    vat_rate_bp: int = 0
    vat_minor: int = 0


@dataclass(frozen=True)
class MadeBill:
    id: int
    number: str
    total_minor: int


async def make_bill(
    db: Scope,
    *,
    customer_id: int,
    period_start: date | None = None,
    period_end: date | None = None,
    issue_date: date | None = None,
    due_days: int = 7,
    lines: Sequence[Line] = (Line(),),
    currency: str = "BDT",
    package_id: int | None = None,
    package_name: str = "",
    created_by: str = "test",
) -> MadeBill:
    """An issued invoice with its lines for one period (this month unless given), numbered from the tenant's
    gap-free counter; it moves the customer's billing cursor and balance cache as the bill job does."""
    start = period_start or date.today().replace(day=1)
    end = period_end or start.replace(day=calendar.monthrange(start.year, start.month)[1])
    issued = issue_date or start
    net, vat = sum(line.net_minor for line in lines), sum(line.vat_minor for line in lines)
    connection = _connection(db)
    [number] = await take_numbers(connection, INVOICE, issued.year, 1)
    bill_id = await connection.fetchval(
        "INSERT INTO bill (customer_id, number, period_start, period_end, issue_date, due_date, currency, net_minor,"
        " vat_minor, total_minor, paid_minor, status, package_id, package_name, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $13, $14) RETURNING id",
        customer_id,
        number,
        start,
        end,
        issued,
        issued + timedelta(days=due_days),
        currency,
        net,
        vat,
        net + vat,
        "paid" if net + vat == 0 else "open",
        package_id,
        package_name,
        created_by,
    )
    await connection.executemany(
        "INSERT INTO bill_line (bill_id, position, kind, description, net_minor, vat_rate_bp, vat_minor)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (bill_id, position, line.kind, line.description, line.net_minor, line.vat_rate_bp, line.vat_minor)
            for position, line in enumerate(lines, 1)
        ],
    )
    await connection.execute("UPDATE customer_account SET billed_through = $2 WHERE customer_id = $1", customer_id, end)
    await move_balance(connection, customer_id, net + vat)
    return MadeBill(int(bill_id), number, net + vat)


async def make_payment(
    db: Scope,
    *,
    customer_id: int,
    amount_minor: int = 50000,
    currency: str = "BDT",
    method: PaymentMethod = PaymentMethod.CASH,
    reference: str = "",
    received_on: date | None = None,
    received_by: str = "test",
) -> int:
    """A payment recorded as the panel records it (`record_payment`): allocated to open bills oldest first,
    the rest kept as advance credit, the balance and the ``payment.received`` event written."""
    recorded = await record_payment(
        _connection(db),
        customer_id=customer_id,
        amount=Money(amount_minor, currency),
        method=method,
        reference=reference,
        received_on=received_on or date.today(),
        received_by=received_by,
    )
    return recorded.payment_id


def legacy_seal(secret_key: str, plaintext: str) -> str:
    """The first scheme's seal, as released before v2 (HMAC-SHA256 counter mode + HMAC tag), kept verbatim here
    so the tests prove that values stored by it still open."""

    def key(purpose: str) -> bytes:
        return hmac.new(secret_key.encode(), f"ispb:secrets_box:{purpose}".encode(), hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    nonce = secrets.token_bytes(16)
    data = plaintext.encode()
    blocks = (
        hmac.new(key("enc"), nonce + n.to_bytes(8, "big"), hashlib.sha256).digest() for n in range(len(data) // 32 + 1)
    )
    cipher = bytes(a ^ b for a, b in zip(data, b"".join(blocks)[: len(data)], strict=True))
    tag = hmac.new(key("mac"), b"v1" + nonce + cipher, hashlib.sha256).digest()
    return ".".join(("v1", b64(nonce), b64(cipher), b64(tag)))
