"""A worker SIGKILLed again and again while it records a statement import: every line recorded once, nothing lost.

One operator with 5,000 billed customers uploads a statement of 40,000 lines (8 chunks of the job), and clicks
"Record" the way the page does (``request_confirmation`` with the real queue: ``ispb.run_soon``, then
``payments.confirm_imports`` on an ``ispb worker``). The worker is SIGKILLed as soon as a chunk has committed and
the import is still being recorded, ``KILLS`` times, restarted each time; then the last one is left running. A
killed run is picked up again by SAQ's retry (its heartbeat is 2 s here), by the job's minute tick (its
``due_work`` sees the import waiting), or by ``system.close_dead_runs``, which the test runs beside the worker as
in ``test_killed_worker.py``; each goes on from the import's mark.

Then: the import is confirmed with every line recorded, each payment once (the references are unique and
counted), the money adds up (payments, allocations against the bills' paid amounts, the balance cache against
the ledger), one ``payment.received`` event per payment, and no run record says ``running``.
"""

import asyncio
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ispb_platform.auth.roles import Principal, Role, SessionKind
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.reaper import close_dead_runs
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.imports.service import CHUNK, preview_statement, request_confirmation
from ispb_platform.payments.queries import PaymentMethod
from ispb_tenants import Database, TenantRef
from processes import QUEUE_NAME, ispb_environment, start_ispb, stop_ispb

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CUSTOMERS = 5_000
LINES = 8 * CHUNK
KILLS = 3
HEARTBEAT_S = 2
STARTUP_S = 60
"""How long a started worker may take to record a chunk (its imports alone take 2-10 s on a busy machine, and a
killed run waits for the sweep or the minute tick)."""
TIMEOUTS = {job.name: job.timeout_s for job in SCHEDULE}


async def _statement(db: Database, tenant: TenantRef) -> tuple[bytes, int]:
    """Billed customers, each paying several times (their bill, then credit): the CSV and its total."""
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, CUSTOMERS, seed=11)
    now = datetime.now(UTC)
    await generate_bills(JobContext(db=db, today=local_today(now, tenant), now=now, tenant=tenant))
    async with db.tenant(tenant) as scope:
        codes = [r["code"] for r in await scope.connection.fetch("SELECT code FROM customer ORDER BY id")]
    rows = [f"KILL{n:07d},{codes[n % len(codes)]},{100 + n % 900}.{n % 100:02d}" for n in range(LINES)]
    total = sum((100 + n % 900) * 100 + n % 100 for n in range(LINES))
    return ("TrxID,Customer ID,Amount\n" + "\n".join(rows) + "\n").encode(), total


async def _state(db: Database, tenant: TenantRef, import_id: int) -> tuple[str, int]:
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            "SELECT status, recorded_through FROM payment_import WHERE id = $1", import_id
        )
    return row["status"], row["recorded_through"]


async def test_a_worker_killed_mid_import_records_every_line_once(
    db: Database, database_url: str, redis_url: str, make_tenant, tmp_path: Path
):
    tenant = await make_tenant("ikill")
    content, total = await _statement(db, tenant)
    today = local_today(datetime.now(UTC), tenant)
    operator = Principal("kill", SessionKind.STAFF, 0, Role.OPERATOR_ADMIN, "Kill Drill", "kill@isp.test", tenant)
    async with db.tenant(tenant) as scope:
        import_id = await preview_statement(
            scope,
            operator,
            file_name="drill.csv",
            content=content,
            default_method=PaymentMethod.MOBILE_MONEY,
            default_date=today,
            today=today,
        )
    queue_name = f"{QUEUE_NAME}-import-kill"
    queue = make_queue(redis_url, database_url, name=queue_name)
    await queue.connect()
    environment = ispb_environment(
        database_url,
        ISPB_SECRET_KEY="k" * 40,
        ISPB_REDIS_URL=redis_url,
        ISPB_QUEUE_NAME=queue_name,
        ISPB_JOB_HEARTBEAT_S=str(HEARTBEAT_S),
        ISPB_WORKER_CONCURRENCY="2",
    )
    log = tmp_path / "worker.log"
    worker: subprocess.Popen[bytes] | None = None

    def start() -> subprocess.Popen[bytes]:
        return start_ispb("worker", environment, log)

    async def reap() -> None:
        now = datetime.now(UTC)
        await close_dead_runs(JobContext(db=db, today=now.date(), now=now, queue=queue), TIMEOUTS)

    try:
        async with db.tenant(tenant) as scope:  # the "Record" button: marked, then queued after commit
            await request_confirmation(scope, operator, import_id, queue=queue, ip="")
        mid_run_kills, mark = 0, 0
        for _ in range(KILLS):
            worker = start()
            deadline = time.monotonic() + STARTUP_S
            status, through = await _state(db, tenant, import_id)
            while status == "confirming" and through == mark and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                status, through = await _state(db, tenant, import_id)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            mid_run_kills += status == "confirming" and through > mark
            mark = through
            await reap()
        assert mid_run_kills >= 1, f"no kill landed between two chunks ({log.read_text()[-2000:]})"
        assert (await _state(db, tenant, import_id))[0] == "confirming"

        worker = start()
        deadline = time.monotonic() + 180
        # done: the import confirmed and the run that did it recorded (stopping the worker between the two would
        # leave a record for the reaper, which this test checks is not needed)
        while (await _state(db, tenant, import_id))[0] != "confirmed" or await _running(db, tenant):
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"the import was not finished after the kills ({mark=})"
            await reap()
            await asyncio.sleep(1)
    finally:
        if worker is not None:
            stop_ispb(worker)
        await queue.disconnect()

    async with db.tenant(tenant) as scope:
        c = scope.connection
        summary = await c.fetchrow(
            "SELECT recorded, recorded_minor, ready FROM payment_import WHERE id = $1", import_id
        )
        assert tuple(summary) == (LINES, total, LINES)
        payments = await c.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT reference) AS refs, sum(amount_minor) AS total FROM payment"
            " WHERE reference LIKE 'KILL%'"
        )
        assert tuple(payments) == (LINES, LINES, total)
        allocated = await c.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM payment_allocation")
        assert allocated == await c.fetchval("SELECT coalesce(sum(paid_minor), 0) FROM bill") > 0
        drift = await c.fetchval(
            "SELECT count(*) FROM customer_account a LEFT JOIN (SELECT customer_id, sum(CASE WHEN kind = 'debit'"
            " THEN amount_minor ELSE -amount_minor END) AS s FROM ledger_entry GROUP BY customer_id) l"
            " ON l.customer_id = a.customer_id WHERE a.balance_minor <> coalesce(l.s, 0)"
        )
        assert drift == 0
        assert await c.fetchval("SELECT count(*) FROM domain_event WHERE name = 'payment.received'") == LINES
        assert await c.fetchval("SELECT count(*) FROM activity_log WHERE action = 'payments.imported'") == 1
    assert await _running(db, tenant) == 0


async def _running(db: Database, tenant: TenantRef) -> int:
    async with db.platform() as connection:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM job_run WHERE job = 'payments.confirm_imports' AND tenant_id = $1"
                " AND status = 'running'",
                tenant.id,
            )
        )
