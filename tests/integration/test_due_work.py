"""Every due-work test (``ScheduledJob.due_work``, ``jobs/due.py``) finds the operator that has work for its job and
not the one that has none, and is answered by an index.

A due test that is false while work waits loses that work silently (the job is never queued for the operator),
so each is tried both ways here: for each way the job can have work, an operator set up that way is found; a
quiet operator, and one with a near miss (rows that look like work but are not), are not.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from factories import make_bill, make_customer, make_olt, make_package, make_router
from ispb_platform.jobs import due
from ispb_platform.jobs.due import tenants_with_due_work
from ispb_platform.jobs.registry import SCHEDULE, get_job
from ispb_tenants import Database
from ispb_tenants import TenantScope as Scope
from ispb_tenants.slugs import quote_ident

Setup = Callable[[Scope], Awaitable[Any]]


async def _session(
    scope: Scope, *, updated_ago: str | None = "1 minute", stopped: bool = False, moved: bool = False
) -> None:
    """An accounting row as FreeRADIUS writes it: open or stopped, last updated ``updated_ago``, its counters
    counted by the usage rollup or not (``moved``)."""
    await scope.connection.execute(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,"
        " acctstoptime, acctinputoctets, acctoutputoctets, rolledinputoctets, rolledoutputoctets)"
        " VALUES (md5(random()::text), md5(random()::text), 'rahim', '10.0.0.1', now() - interval '2 hours',"
        " now() - $1::text::interval, CASE WHEN $2 THEN now() - interval '1 minute' END, 1000, 2000,"
        " CASE WHEN $3 THEN 0 ELSE 1000 END, 2000)",
        updated_ago,
        stopped,
        moved,
    )


async def _open_session_never_updated(scope: Scope) -> None:
    """An open session whose NAS sent no Interim-Update for 2 hours (it started 2 hours ago)."""
    await _session(scope, updated_ago=None)


async def _traffic_total(scope: Scope) -> None:
    customer_id = await make_customer(scope)
    await scope.connection.execute(
        "INSERT INTO customer_traffic_total (customer_id, download_octets, upload_octets) VALUES ($1, 10, 20)",
        customer_id,
    )


async def _fup_package(scope: Scope) -> None:
    await scope.connection.execute(
        "UPDATE package SET fup_download_kbps = 1000, fup_upload_kbps = 1000 WHERE id = $1",
        await make_package(scope, data_allowance_mb=100_000),
    )


async def _reduced_customer(scope: Scope) -> None:
    await scope.connection.execute(
        "UPDATE customer SET fup_until = current_date + 3 WHERE id = $1", await make_customer(scope)
    )


async def _zabbix(scope: Scope, token: str | None) -> None:
    await scope.connection.execute(
        "INSERT INTO monitor_settings (id, zabbix_url, zabbix_token_sealed) VALUES (1, 'https://zabbix.isp.test', $1)"
        " ON CONFLICT (id) DO UPDATE SET zabbix_url = excluded.zabbix_url,"
        " zabbix_token_sealed = excluded.zabbix_token_sealed",
        token,
    )


async def _pending_checkout(scope: Scope, status: str = "pending") -> None:
    customer_id = await make_customer(scope)
    await scope.connection.execute(
        "INSERT INTO online_payment (customer_id, provider, amount_minor, currency, merchant_ref, origin, status,"
        " closed_at) VALUES ($1, 'bkash', 50000, 'BDT', md5(random()::text), 'portal', $2,"
        " CASE WHEN $2 <> 'pending' THEN now() END)",
        customer_id,
        status,
    )


async def _open_bill(scope: Scope) -> None:
    await make_bill(scope, customer_id=await make_customer(scope))


async def _paid_bill(scope: Scope) -> None:
    bill = await make_bill(scope, customer_id=await make_customer(scope))
    await scope.connection.execute("UPDATE bill SET status = 'paid', paid_minor = total_minor WHERE id = $1", bill.id)


async def _rule(scope: Scope, kind: str, *, enabled: bool = True) -> None:
    await scope.connection.execute(
        "INSERT INTO notify_rule (kind, offset_days, enabled) VALUES ($1, -1, $2)", kind, enabled
    )


def _all(*setups: Setup) -> Setup:
    async def run(scope: Scope) -> None:
        for setup in setups:
            await setup(scope)

    return run


async def _package_customer(scope: Scope, status: str) -> None:
    await make_customer(scope, package_id=await make_package(scope), status=status)


async def _command(scope: Scope, next_attempt: str) -> None:
    await scope.connection.execute(
        "INSERT INTO router_command (router_id, action, status, next_attempt_at)"
        f" VALUES ($1, 'disconnect', 'pending', {next_attempt})",
        await make_router(scope),
    )


# For each job with a due test: the ways it can have work (each must be found), and near misses (none may be).
async def _statement_import(scope: Scope, status: str) -> None:
    """An uploaded statement import in ``status``: 'preview' (nobody asked to record it), 'confirming' (asked,
    not yet all recorded) or 'confirmed'."""
    requested = "now()" if status != "preview" else "NULL"
    confirmed = "now()" if status == "confirmed" else "NULL"
    await scope.connection.execute(
        "INSERT INTO payment_import (file_name, file_sha256, default_method, default_date, currency, status,"
        " uploaded_by, confirm_requested_at, confirmed_at)"
        f" VALUES ('bank.csv', repeat('a', 64), 'bank', current_date, 'BDT', $1, 'test', {requested}, {confirmed})",
        status,
    )


CASES: dict[str, tuple[list[Setup], list[Setup]]] = {
    "netsync.usage_rollup": (
        [lambda s: _session(s, moved=True), lambda s: _session(s, moved=True, stopped=True)],
        [lambda s: _session(s), lambda s: _session(s, stopped=True)],
    ),
    "netsync.stale_sessions": (
        [lambda s: _session(s, updated_ago="20 minutes"), _open_session_never_updated],
        [lambda s: _session(s, updated_ago="5 minutes"), lambda s: _session(s, updated_ago="20 minutes", stopped=True)],
    ),
    "netsync.rrd_update": (
        [make_router, _traffic_total, lambda s: _session(s, moved=True)],
        [
            lambda s: make_router(s, mode="radius", radius_secret="s3cret", nas_address="10.0.0.1"),
            lambda s: _session(s),
        ],
    ),
    "billing.fup_enforce": (
        [_fup_package, _reduced_customer],
        [lambda s: make_package(s, data_allowance_mb=100_000), make_customer],
    ),
    "netsync.olt_sync": ([make_olt], [make_router]),
    "netsync.router_status": (
        [make_router],
        [lambda s: make_router(s, mode="radius", radius_secret="s3cret", nas_address="10.0.0.1")],
    ),
    "monitor.zabbix_sync": (
        [lambda s: _zabbix(s, "sealed-token")],
        [lambda s: _zabbix(s, None)],
    ),
    "payments.recheck_pending": ([_pending_checkout], [lambda s: _pending_checkout(s, "failed")]),
    "billing.generate_bills": (
        [lambda s: _package_customer(s, "active"), lambda s: _package_customer(s, "suspended")],
        [make_customer, lambda s: _package_customer(s, "disabled")],
    ),
    "billing.auto_suspend": ([_open_bill], [_paid_bill]),
    "billing.advance_debit": ([_open_bill], [_paid_bill, make_customer]),
    "notify.due_date": (
        [_all(lambda s: _rule(s, "due_date"), _open_bill)],
        [
            _all(lambda s: _rule(s, "due_date", enabled=False), _open_bill),
            _all(lambda s: _rule(s, "due_date"), _paid_bill),
        ],
    ),
    "notify.expiration": (
        [_all(lambda s: _rule(s, "expiration"), make_customer)],
        [
            _all(lambda s: _rule(s, "expiration", enabled=False), make_customer),
            _all(lambda s: _rule(s, "expiration"), lambda s: make_customer(s, status="suspended")),
        ],
    ),
    "notify.send_outbox": (
        [lambda s: s.connection.execute("INSERT INTO domain_event (name) VALUES ('payment.recorded')")],
        [
            lambda s: s.connection.execute(
                "INSERT INTO domain_event (name, notified_at) VALUES ('payment.recorded', now())"
            )
        ],
    ),
    "payments.confirm_imports": (
        [lambda s: _statement_import(s, "confirming")],
        [lambda s: _statement_import(s, "preview"), lambda s: _statement_import(s, "confirmed")],
    ),
    "netsync.router_commands": (
        [lambda s: _command(s, "now() - interval '1 second'")],
        [lambda s: _command(s, "now() + interval '1 hour'")],
    ),
}


DUE_JOBS = [job.name for job in SCHEDULE if job.due_work is not None]


def test_every_due_test_is_tried_both_ways():
    assert sorted(CASES) == sorted(DUE_JOBS)


@pytest.mark.parametrize("name", DUE_JOBS)
async def test_an_operator_with_work_is_due_and_one_without_is_not(db: Database, make_tenant, name: str):
    due_work = get_job(name).due_work
    assert due_work is not None
    work, near_misses = CASES[name]
    quiet = await make_tenant("quiet")
    with_work, without = [], [quiet]
    for setups, into in ((work, with_work), (near_misses, without)):
        for setup in setups:
            tenant = await make_tenant("due")
            async with db.tenant(tenant) as scope:
                await setup(scope)
            into.append(tenant)

    found = await tenants_with_due_work(db, due_work, [*without, *with_work])

    assert {t.slug for t in found} == {t.slug for t in with_work}


def _scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(node type, relation) of every node of the plan that reads a table."""
    own = [(plan["Node Type"], plan["Relation Name"])] if "Relation Name" in plan else []
    return own + [scan for child in plan.get("Plans", []) for scan in _scans(child)]


@pytest.mark.parametrize("name", DUE_JOBS)
async def test_each_due_test_is_answered_by_an_index(db: Database, make_tenant, name: str):
    """With sequential scans made the planner's last resort, no table of the test is read whole: an index answers
    every part. (On an operator's nearly empty tables the planner may rightly prefer reading the one page; what
    must never happen is a condition no index can answer, read row by row in every schema every few minutes.)"""
    tenant = await make_tenant("plan")
    condition = get_job(name).due_work.format(schema=quote_ident(tenant.schema))  # type: ignore[union-attr]
    async with db.pool.acquire() as connection, connection.transaction():
        await connection.execute("SET LOCAL enable_seqscan = off")
        plan = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) SELECT 1 WHERE {condition}"))

    scans = _scans(plan[0]["Plan"])
    assert scans, plan
    assert [scan for scan in scans if scan[0] == "Seq Scan"] == [], plan


async def test_the_statements_are_sized_to_the_locks_they_take(db: Database, make_tenant, monkeypatch):
    """A statement holds a lock on every table, partition and index it plans over until it ends; a test over
    radacct in 250 schemas needed ~12,000 of the 6,400 lock slots PostgreSQL has by default ("out of shared
    memory"). The batch is sized from one schema's locks: with a small budget, one schema per statement, and the
    answer is the same."""
    due_work = get_job("netsync.usage_rollup").due_work
    assert due_work is not None
    tenants = [await make_tenant("locks") for _ in range(3)]
    async with db.tenant(tenants[1]) as scope:
        await _session(scope, moved=True)
    async with db.pool.acquire() as connection:
        per_schema = await due._locks_per_schema(connection, due_work, tenants[0])
    assert per_schema > 5  # radacct, its partitions and their indexes
    monkeypatch.setattr(due, "LOCK_BUDGET", 2 * per_schema)  # one schema per statement

    found = await tenants_with_due_work(db, due_work, tenants)

    assert [t.slug for t in found] == [tenants[1].slug]
