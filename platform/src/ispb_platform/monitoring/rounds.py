"""``monitor.status_checks`` (every minute): one round of every due check of every operator and the platform.

A round reads each schema's due checks (one query each), runs them all with at most `CONCURRENCY` in flight
(each bounded by its own timeout, so a dead host costs its timeout and nothing more), then, per schema, feeds
each result to ``ispb_monitor.uptime.advance`` and writes: every check's tracker and last result in one
statement, the incidents that opened (one insert) and closed (one update), and for an operator the messages to
its contact number (the outbox, keyed by incident: once per incident whatever runs twice).

Safe twice and concurrently: a round holds a session advisory lock for its whole run (a second round started
meanwhile returns at once); a check is due only when its last result is over 50 s old, so a second round in the
same minute finds nothing; the write is a compare-and-set on ``last_checked_at`` (a check written by anyone
else since it was read is left alone); and an incident opens at most once per check (a unique index).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from ispb_monitor import CheckResult, Status, Tracker, advance
from ispb_monitor.checks import run_check
from ispb_notify import Channel, HttpClient, OutboundPolicy
from ispb_platform.monitoring import queries
from ispb_platform.monitoring.checks import usable
from ispb_platform.notify.outbox import enqueue
from ispb_tenants import Connection, Database, TenantRef, list_tenants

log = logging.getLogger(__name__)

CONCURRENCY = 500
"""Checks in flight at once in one worker (each holds a socket; the process needs that many descriptors)."""
PLATFORM_TENANT_ID = 0
"""The tenant id platform-wide checks' secrets would be sealed for (they hold none: `PLATFORM_KINDS`)."""
_LOCK = "SELECT pg_try_advisory_lock(hashtext('monitor.status_checks'))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('monitor.status_checks'))"


@dataclass(frozen=True)
class _Schema:
    tenant: TenantRef | None  # None: the platform's own checks
    rows: list[asyncpg.Record]


def _tracker(row: Any) -> Tracker:
    return Tracker(
        shown=Status(row["shown"]) if row["shown"] else None,
        failures=int(row["failures"]),
        successes=int(row["successes"]),
        failing_since=row["failing_since"],
        recovering_since=row["recovering_since"],
        incident_open=row["shown"] == Status.DOWN.value,
    )


async def run_round(
    db: Database,
    *,
    secret_key: str,
    outbound: OutboundPolicy,
    now: datetime | None = None,
    tenants: Sequence[TenantRef] | None = None,
    include_platform: bool = True,
) -> dict[str, int]:
    """One round (module doc). ``tenants`` defaults to every active operator."""
    async with db.pool.acquire() as lock:
        if not await lock.fetchval(_LOCK):
            return {"skipped_busy": 1}
        try:
            return await _round(db, secret_key, outbound, now, tenants, include_platform)
        finally:
            await lock.fetchval(_UNLOCK)


async def _round(
    db: Database,
    secret_key: str,
    outbound: OutboundPolicy,
    now: datetime | None,
    tenants: Sequence[TenantRef] | None,
    include_platform: bool,
) -> dict[str, int]:
    started = now or datetime.now(UTC)
    if tenants is None:
        tenants = [info.ref for info in await list_tenants(db, active_only=True)]
    schemas: list[_Schema] = []
    if include_platform:
        try:
            async with db.platform() as connection:
                schemas.append(_Schema(None, await queries.due_checks(connection, started, platform=True)))
        except asyncpg.PostgresError as error:
            log.warning("monitoring: cannot read the platform's checks: %s", error)
    for tenant in tenants:
        try:
            async with db.tenant(tenant) as scope:
                schemas.append(_Schema(tenant, await queries.due_checks(scope.connection, started, platform=False)))
        except asyncpg.PostgresError as error:  # one operator's schema (mid-migration, say) never stops the rest
            log.warning("monitoring: cannot read %s's checks: %s", tenant.slug, error)

    gate = asyncio.Semaphore(CONCURRENCY)
    # one client for the round: as many connections per origin as checks in flight (a per-origin bound would make
    # the checks of one slow host wait for each other, inside their own timeouts), none reused (each check
    # opens its own connection: that is part of what it checks)
    async with HttpClient(max_connections=CONCURRENCY, keepalive_expiry=0, policy=outbound) as http:

        async def one(row: Any, tenant_id: int) -> tuple[CheckResult, datetime]:
            async with gate:
                at = datetime.now(UTC)
                check = usable(row, secret_key, tenant_id)
                if isinstance(check, str):
                    return CheckResult.down(check), at
                return await run_check(check, policy=outbound, http=http), at

        results = await asyncio.gather(
            *(one(row, s.tenant.id if s.tenant else PLATFORM_TENANT_ID) for s in schemas for row in s.rows)
        )
    counts = {"checked": len(results), "down": 0, "opened": 0, "closed": 0, "notified": 0, "written": 0}
    position = 0
    for schema in schemas:
        mine = results[position : position + len(schema.rows)]
        position += len(schema.rows)
        if not mine:
            continue
        counts["down"] += sum(r.status is Status.DOWN for r, _ in mine)
        written = await _write(db, schema, mine)
        for key, value in written.items():
            counts[key] += value
    return counts


async def _write(db: Database, schema: _Schema, results: Sequence[tuple[CheckResult, datetime]]) -> dict[str, int]:
    rows: list[queries.RoundRow] = []
    opened: list[tuple[int, datetime, str]] = []
    closed: list[tuple[int, datetime]] = []
    for row, (result, at) in zip(schema.rows, results, strict=True):
        step = advance(
            _tracker(row), result.status, at, confirm=int(row["confirm_count"]), in_maintenance=row["in_maintenance"]
        )
        t = step.tracker
        rows.append(
            queries.RoundRow(
                int(row["id"]),
                t.shown.value if t.shown else None,
                t.failures,
                t.successes,
                t.failing_since,
                t.recovering_since,
                result.status.value,
                result.latency_ms,
                result.message,
                at,
                row["last_checked_at"],
            )
        )
        if step.opened_at is not None:
            opened.append((int(row["id"]), step.opened_at, result.message))
        if step.closed_at is not None:
            closed.append((int(row["id"]), step.closed_at))
    try:
        if schema.tenant is None:
            async with db.platform() as connection:
                return await _store(connection, None, rows, opened, closed)
        async with db.tenant(schema.tenant) as scope:
            return await _store(scope.connection, schema.tenant, rows, opened, closed)
    except asyncpg.PostgresError as error:
        log.warning(
            "monitoring: cannot store %s's results: %s", schema.tenant.slug if schema.tenant else "platform", error
        )
        return {}


async def _store(
    connection: Connection,
    tenant: TenantRef | None,
    rows: Sequence[queries.RoundRow],
    opened: Sequence[tuple[int, datetime, str]],
    closed: Sequence[tuple[int, datetime]],
) -> dict[str, int]:
    written = await queries.write_results(connection, rows)
    new = await queries.open_incidents(connection, [o for o in opened if o[0] in written])
    ended = await queries.close_incidents(connection, [c for c in closed if c[0] in written])
    notified = 0
    if tenant is not None and (new or ended):
        notified = await _tell_staff(connection, tenant, new, ended)
    return {"written": len(written), "opened": len(new), "closed": len(ended), "notified": notified}


async def _tell_staff(
    connection: Connection,
    tenant: TenantRef,
    new: Sequence[tuple[int, int, str]],
    ended: Sequence[tuple[int, int, str, datetime]],
) -> int:
    """An SMS to the operator's contact number per incident opened and per incident ended, keyed by incident
    (``monitor:down:<id>``, ``monitor:up:<id>``): once per incident, whatever runs twice. The panel's
    dashboard shows open incidents from the table itself."""
    phone = await connection.fetchval("SELECT phone FROM platform.tenant WHERE id = $1", tenant.id)
    if not phone:
        return 0
    sent = 0
    for incident_id, _, name in new:
        body = f"ISPB: {name} is DOWN (confirmed). Monitoring will tell you when it is back."
        added = await enqueue(
            connection, key=f"monitor:down:{incident_id}", customer_id=None, channel=Channel.SMS, to=str(phone),
            body=body, cause="monitor.down",
        )  # fmt: skip
        sent += added is not None
    for incident_id, _, name, started_at in ended:
        minutes = max(1, int((datetime.now(UTC) - started_at).total_seconds() // 60))
        body = f"ISPB: {name} is back UP after about {minutes} min."
        added = await enqueue(
            connection, key=f"monitor:up:{incident_id}", customer_id=None, channel=Channel.SMS, to=str(phone),
            body=body, cause="monitor.up",
        )  # fmt: skip
        sent += added is not None
    return sent
