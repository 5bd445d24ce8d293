"""Reads for the subscription pages (SQL on platform tables: they are on every scope's search path, so one query
serves the operator's panel, inside its tenant scope, and the admin console, in a platform transaction)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import asyncpg

from ispb_platform.subscriptions.plans import load_plans
from ispb_platform.subscriptions.pricing import Plan, sorted_tiers, tier_label


@dataclass(frozen=True)
class Subscription:
    tenant_id: int
    plan_id: int
    plan: Plan
    started_on: date
    trial_ends_on: date | None
    sms_billing: str
    locked_at: datetime | None

    @property
    def tier_labels(self) -> list[tuple[str, Decimal]]:
        return [(tier_label(self.plan, t), t.price) for t in sorted_tiers(self.plan.tiers)]


@dataclass(frozen=True)
class Bill:
    id: int
    tenant_id: int
    operator: str
    kind: str
    number: str | None
    status: str
    period_start: date
    period_end: date
    issue_date: date | None
    due_date: date | None
    lock_on: date | None
    currency: str
    total_minor: int
    paid_minor: int
    note: str

    @property
    def due_minor(self) -> int:
        return 0 if self.kind == "credit_note" else self.total_minor - self.paid_minor

    @property
    def title(self) -> str:
        return {"subscription": "Subscription", "sms": "SMS", "credit_note": "Credit note"}[self.kind]


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount_minor: int


@dataclass(frozen=True)
class Count:
    counted_on: date
    active: int
    suspended: int
    disabled: int


@dataclass(frozen=True)
class Settings:
    issuer_name: str
    issuer_address: str
    issuer_phone: str
    issuer_email: str
    currency: str
    due_day: int
    lock_day: int


_BILL_COLUMNS = (
    "b.id, b.tenant_id, t.name AS operator, b.kind, b.number, b.status, b.period_start, b.period_end, b.issue_date,"
    " b.due_date, b.lock_on, b.currency, b.total_minor, b.paid_minor, b.note"
)


def _bill(row: asyncpg.Record) -> Bill:
    return Bill(**dict(row))


async def settings(connection: asyncpg.Connection) -> Settings:
    row = await connection.fetchrow(
        "SELECT issuer_name, issuer_address, issuer_phone, issuer_email, currency, due_day, lock_day"
        " FROM platform.subscription_settings"
    )
    assert row is not None, "platform migration 0012 inserts the settings row"
    return Settings(**dict(row))


async def subscription_of(connection: asyncpg.Connection, tenant_id: int) -> Subscription | None:
    row = await connection.fetchrow(
        "SELECT tenant_id, plan_id, started_on, trial_ends_on, sms_billing, locked_at"
        " FROM platform.tenant_subscription WHERE tenant_id = $1",
        tenant_id,
    )
    if row is None:
        return None
    plan = (await load_plans(connection, [row["plan_id"]]))[row["plan_id"]]
    return Subscription(
        row["tenant_id"],
        row["plan_id"],
        plan,
        row["started_on"],
        row["trial_ends_on"],
        row["sms_billing"],
        row["locked_at"],
    )


async def latest_count(connection: asyncpg.Connection, tenant_id: int) -> Count | None:
    row = await connection.fetchrow(
        "SELECT counted_on, active, suspended, disabled FROM platform.customer_count WHERE tenant_id = $1"
        " ORDER BY counted_on DESC LIMIT 1",
        tenant_id,
    )
    return None if row is None else Count(**dict(row))


async def bills_of(connection: asyncpg.Connection, tenant_id: int, limit: int = 36) -> list[Bill]:
    rows = await connection.fetch(
        f"SELECT {_BILL_COLUMNS} FROM platform.subscription_bill b JOIN platform.tenant t ON t.id = b.tenant_id"  # noqa: S608 (constant columns)
        " WHERE b.tenant_id = $1 ORDER BY b.period_start DESC, b.id DESC LIMIT $2",
        tenant_id,
        limit,
    )
    return [_bill(r) for r in rows]


async def recent_bills(connection: asyncpg.Connection, limit: int = 50) -> list[Bill]:
    rows = await connection.fetch(
        f"SELECT {_BILL_COLUMNS} FROM platform.subscription_bill b JOIN platform.tenant t ON t.id = b.tenant_id"  # noqa: S608
        " WHERE b.status <> 'draft' ORDER BY b.issue_date DESC, b.id DESC LIMIT $1",
        limit,
    )
    return [_bill(r) for r in rows]


async def get_bill(connection: asyncpg.Connection, bill_id: int, tenant_id: int | None = None) -> Bill | None:
    row = await connection.fetchrow(
        f"SELECT {_BILL_COLUMNS} FROM platform.subscription_bill b JOIN platform.tenant t ON t.id = b.tenant_id"  # noqa: S608
        " WHERE b.id = $1 AND ($2::int IS NULL OR b.tenant_id = $2)",
        bill_id,
        tenant_id,
    )
    return None if row is None else _bill(row)


async def operator_slug(connection: asyncpg.Connection, tenant_id: int) -> str | None:
    """The slug of the operator a bill belongs to (None when the operator is gone)."""
    slug = await connection.fetchval("SELECT slug FROM tenant WHERE id = $1", tenant_id)
    return None if slug is None else str(slug)


async def bill_lines(connection: asyncpg.Connection, bill_id: int) -> list[Line]:
    rows = await connection.fetch(
        "SELECT description, quantity, unit_price, amount_minor FROM platform.subscription_bill_line"
        " WHERE bill_id = $1 ORDER BY id",
        bill_id,
    )
    return [Line(**dict(r)) for r in rows]


async def sms_segments_since(connection: asyncpg.Connection, tenant_id: int, since: date) -> int:
    value = await connection.fetchval(
        "SELECT coalesce(sum(segments), 0) FROM platform.sms_usage WHERE tenant_id = $1 AND sent_at >= $2",
        tenant_id,
        since,
    )
    return int(value)


@dataclass(frozen=True)
class PlanRow:
    id: int
    plan: Plan
    active: bool
    operators: int


async def plans(connection: asyncpg.Connection) -> list[PlanRow]:
    loaded = await load_plans(connection)
    rows = await connection.fetch(
        "SELECT p.id, p.active, count(s.id)::int AS operators FROM platform.subscription_plan p"
        " LEFT JOIN platform.tenant_subscription s ON s.plan_id = p.id GROUP BY p.id ORDER BY p.name"
    )
    return [PlanRow(r["id"], loaded[r["id"]], r["active"], r["operators"]) for r in rows]


@dataclass(frozen=True)
class OperatorRow:
    slug: str
    name: str
    status: str
    plan: str | None
    sms_billing: str | None
    locked: bool
    active_customers: int | None
    unpaid_minor: int
    overdue: bool


async def operators(connection: asyncpg.Connection, today: date) -> list[OperatorRow]:
    rows = await connection.fetch(
        """
        SELECT t.slug, t.name, t.status, p.name AS plan, s.sms_billing, s.locked_at IS NOT NULL AS locked,
               (SELECT c.active FROM platform.customer_count c WHERE c.tenant_id = t.id
                ORDER BY c.counted_on DESC LIMIT 1) AS active_customers,
               coalesce(u.unpaid_minor, 0)::bigint AS unpaid_minor, coalesce(u.overdue, false) AS overdue
        FROM platform.tenant t
        LEFT JOIN platform.tenant_subscription s ON s.tenant_id = t.id
        LEFT JOIN platform.subscription_plan p ON p.id = s.plan_id
        LEFT JOIN (SELECT tenant_id, sum(total_minor - paid_minor) AS unpaid_minor, bool_or(lock_on <= $1) AS overdue
                   FROM platform.subscription_bill WHERE status = 'open' GROUP BY tenant_id) u ON u.tenant_id = t.id
        ORDER BY t.name
        """,
        today,
    )
    return [OperatorRow(**dict(r)) for r in rows]


async def locked_since(connection: asyncpg.Connection, tenant_id: int) -> datetime | None:
    """When the operator's panel was locked for an unpaid bill (None: open, or no plan)."""
    value: datetime | None = await connection.fetchval(
        "SELECT locked_at FROM platform.tenant_subscription WHERE tenant_id = $1", tenant_id
    )
    return value
