"""``billing.fair_usage`` (the job ``billing.fup_enforce``): customers over their package's data allowance get
the package's FUP speed until their billing cycle ends, and full speed back with the next cycle.

Every 5 minutes, right after the usage rollup (this job runs the rollup first: safe beside its own job), for
every customer whose package has an allowance and an FUP speed, or who is reduced now: this cycle's usage
(the invoice period covering today, else the calendar month; ``network/radius/usage.py``) against the
allowance, decided by ``ispb_billing.FairUsage`` in Python on rows read in one query. What changes is written
set-based: ``customer.fup_until``, the RADIUS rows (``sync_customers``: the FUP rate limit), an ``apply_rate``
router command per customer (a CoA to the live RADIUS session; the FUP PPP profile on an API router), and a
``customer.fup_applied`` event (its SMS says the speed and the day full speed returns). A package edit that
raises the allowance, or a move to another package, lifts the reduction on the next run.

Safe twice and concurrently: the run holds a per-tenant transaction-level advisory lock, and decides on
``fup_until`` read under it, so a second run finds nothing to change. The router commands run right after the
commit (``netsync.router_commands`` is the backstop), as after a suspension.

Why SQL: one read of every candidate's cycle and usage (a lateral join per customer over two indexes) instead
of two queries per customer; the writes are one statement each.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta

from ispb_billing import FairUsage, FupAction
from ispb_platform.jobs.job import Counts
from ispb_platform.network.radius import usage
from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.network.routers.commands import enqueue_commands, run_due
from ispb_tenants import Connection, Database, TenantRef

MB = 1024 * 1024

_CANDIDATES = """
SELECT c.id, c.status, c.fup_until, p.data_allowance_mb, p.fup_download_kbps, p.fup_upload_kbps,
       coalesce(b.period_start, date_trunc('month', $1::date)::date) AS first_day,
       coalesce(b.period_end, (date_trunc('month', $1::date) + interval '1 month - 1 day')::date) AS last_day,
       coalesce((SELECT sum(u.download_octets + u.upload_octets) FROM customer_usage_daily u
                 WHERE u.customer_id = c.id
                   AND u.day BETWEEN coalesce(b.period_start, date_trunc('month', $1::date)::date)
                                 AND coalesce(b.period_end, $1::date)), 0)::bigint AS used
FROM customer c
LEFT JOIN package p ON p.id = c.package_id
LEFT JOIN LATERAL (
    SELECT period_start, period_end FROM bill
    WHERE customer_id = c.id AND kind = 'invoice' AND status <> 'void' AND period_start <= $1 AND period_end >= $1
    ORDER BY id DESC LIMIT 1
) b ON true
WHERE (p.data_allowance_mb IS NOT NULL AND p.fup_download_kbps IS NOT NULL) OR c.fup_until IS NOT NULL
"""

_WRITE = """
UPDATE customer c SET fup_until = u.until, updated_at = now()
FROM unnest($1::int[], $2::date[]) AS u(id, until)
WHERE c.id = u.id AND c.id = ANY($1::int[])
"""

_EVENTS = """
INSERT INTO domain_event (name, customer_id, payload)
SELECT 'customer.fup_applied', u.id, u.payload::jsonb FROM unnest($1::int[], $2::text[]) AS u(id, payload)
"""


@dataclass(frozen=True)
class _Change:
    customer_id: int
    reduced_until: date | None
    fup_speed: str


def speed_text(kbps: int) -> str:
    """A speed as a customer reads it.

    >>> speed_text(2000), speed_text(1500), speed_text(512)
    ('2 Mbps', '1.5 Mbps', '512 kbps')
    """
    if kbps < 1000:
        return f"{kbps} kbps"
    whole, rest = divmod(kbps, 1000)
    return (f"{whole}.{rest:03d}".rstrip("0").rstrip(".") if rest else str(whole)) + " Mbps"


def _speed(download_kbps: int | None, upload_kbps: int | None) -> str:
    """ "2 Mbps down, 1 Mbps up" for the customer's SMS."""
    if not download_kbps:
        return ""
    return f"{speed_text(download_kbps)} down, {speed_text(upload_kbps or download_kbps)} up"


async def _decide(connection: Connection, today: date) -> list[_Change]:
    changes = []
    for r in await connection.fetch(_CANDIDATES, today):
        has_policy = r["data_allowance_mb"] is not None and r["fup_download_kbps"] is not None
        policy = FairUsage(int(r["data_allowance_mb"]) * MB if has_policy else None)
        verdict = policy.decide(
            used_octets=int(r["used"]),
            reduced_until=r["fup_until"],
            cycle_last_day=r["last_day"],
            today=today,
            active=r["status"] == "active",
        )
        if verdict.action is not FupAction.KEEP:
            speed = _speed(r["fup_download_kbps"], r["fup_upload_kbps"])
            changes.append(_Change(int(r["id"]), verdict.reduced_until, speed))
    return changes


async def enforce(db: Database, tenant: TenantRef, today: date, secret_key: str) -> Counts:
    """Roll the accounting up, then reduce or restore every customer whose fair usage changed (module doc)."""
    await usage.rollup(db, tenant)
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext('billing.fup_enforce'), hashtext($1))", tenant.schema
        )
        changes = await _decide(connection, today)
        ids = [c.customer_id for c in changes]
        if changes:
            await connection.execute(_WRITE, ids, [c.reduced_until for c in changes])
            await sync_customers(connection, secret_key, ids)
            applied = [c for c in changes if c.reduced_until is not None]
            payloads = [
                json.dumps({"fup_speed": c.fup_speed, "reset_date": (c.reduced_until + timedelta(days=1)).isoformat()})
                for c in applied
                if c.reduced_until is not None
            ]
            await connection.execute(_EVENTS, [c.customer_id for c in applied], payloads)
            commands = await enqueue_commands(connection, ids, "apply_rate", {"fair_usage": True})
    counts = {
        "reduced": sum(c.reduced_until is not None for c in changes),
        "restored": sum(c.reduced_until is None for c in changes),
    }
    if changes and commands:
        router = await run_due(db, tenant, secret_key)
        counts |= {f"router_{k}": v for k, v in router.items()}
    return counts
