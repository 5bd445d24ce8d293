"""A worker SIGKILLed again and again during a bill run: every customer billed once, nothing lost or left running.

Ten operators of 200 customers (2,000 in all) get their ``billing.generate_bills`` job queued on a Redis queue
of this test's own, as the hourly tick queues them. A bill run of 200 customers takes a tenth of a second, so
the worker runs one job at a time and is killed the moment it starts one: an ``ispb worker`` process is started
and SIGKILLed 20 times, restarted each time, killed as soon as it writes a bill run's record (else after
``STARTUP_S``: the jobs left are waiting for their retry). Each job is one transaction, so a kill loses the attempt.
Then the last worker is left running. The
heartbeat is 2 s here (``ISPB_JOB_HEARTBEAT_S``; 60 s in production), so a killed worker's jobs are swept back
within seconds, and jobs killed more often than their attempts allow are queued again by
``system.close_dead_runs``, which the test runs beside the worker (as a second worker would).

Then: no customer has two bills of the period, invoice numbers run 1..n without a gap, a further run bills
nobody (everyone due was billed), every operator's job ended ``succeeded``, and no run record says ``running``.
"""

import asyncio
import random
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ispb_platform.billing.jobs import generate_bills
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.reaper import close_dead_runs
from ispb_platform.jobs.registry import SCHEDULE, get_job
from ispb_platform.jobs.runs import job_key, local_today
from ispb_platform.jobs.worker import RUN_JOB, job_options
from ispb_tenants import Database, TenantRef
from processes import QUEUE_NAME, ispb_environment, start_ispb, stop_ispb

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
"""About 1.5 minutes on an idle 2-core machine; each of the 21 worker starts costs its imports (2 s idle, up to
15 s on a machine shared by several test runs), hence the bound above pytest's 300 s default."""

OPERATORS = 10
CUSTOMERS_EACH = 200
KILLS = 20
MID_RUN_KILLS = 5
"""At least this many kills must land in a running bill run (the others hit a worker between attempts)."""
HEARTBEAT_S = 2
TIMEOUTS = {job.name: job.timeout_s for job in SCHEDULE}
STARTUP_S = 20
"""How long a started worker may take to start a bill run (its imports alone take 2-10 s on a busy machine)."""


async def _operators(db: Database, make_tenant) -> list[TenantRef]:
    tenants = []
    for _ in range(OPERATORS):
        tenant = await make_tenant("kill")
        async with db.tenant(tenant) as scope:
            await ensure_packages(scope)
            await seed_customers(scope, CUSTOMERS_EACH, seed=7)
        tenants.append(tenant)
    return tenants


async def _running_here(db: Database, pid: int) -> bool:
    """Whether the worker ``pid`` is in the middle of a bill run."""
    async with db.platform() as connection:
        return bool(
            await connection.fetchval(
                "SELECT EXISTS (SELECT FROM job_run WHERE job = 'billing.generate_bills' AND status = 'running'"
                " AND worker LIKE $1)",
                f"%:{pid}",
            )
        )


async def _bills(db: Database, tenant: TenantRef) -> list[dict]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT customer_id, number FROM bill ORDER BY number")
    return [dict(row) for row in rows]


async def _settled(db: Database, tenants: list[TenantRef]) -> bool:
    """Every operator has a succeeded bill run and no bill-run record is still running."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            "SELECT count(DISTINCT tenant_id) FILTER (WHERE status = 'succeeded') AS done,"
            " count(*) FILTER (WHERE status = 'running') AS running"
            " FROM job_run WHERE job = 'billing.generate_bills' AND tenant_id = ANY($1::int[])",
            [t.id for t in tenants],
        )
    return row["done"] == len(tenants) and row["running"] == 0


async def test_a_worker_killed_20_times_mid_bill_run_bills_everyone_once(
    db: Database, database_url: str, redis_url: str, make_tenant, tmp_path: Path
):
    tenants = await _operators(db, make_tenant)
    queue_name = f"{QUEUE_NAME}-kill"
    queue = make_queue(redis_url, database_url, name=queue_name)
    await queue.connect()
    job = get_job("billing.generate_bills")
    for tenant in tenants:
        await queue.enqueue(
            RUN_JOB,
            key=job_key(job, tenant, "kill-drill"),
            job_name=job.name,
            tenant=tenant.slug,
            **job_options(job, heartbeat_s=HEARTBEAT_S),
        )
    environment = ispb_environment(
        database_url,
        ISPB_SECRET_KEY="k" * 40,
        ISPB_REDIS_URL=redis_url,
        ISPB_QUEUE_NAME=queue_name,
        ISPB_JOB_HEARTBEAT_S=str(HEARTBEAT_S),
        ISPB_WORKER_CONCURRENCY="1",
    )
    rng = random.Random(19)
    mid_run_kills = 0
    log = tmp_path / "worker.log"
    worker: subprocess.Popen[bytes] | None = None

    def start() -> subprocess.Popen[bytes]:
        return start_ispb("worker", environment, log)

    async def reap() -> None:
        now = datetime.now(UTC)
        await close_dead_runs(JobContext(db=db, today=now.date(), now=now, queue=queue), TIMEOUTS)

    try:
        for _ in range(KILLS):
            worker = start()
            deadline = time.monotonic() + STARTUP_S
            while time.monotonic() < deadline and not await _running_here(db, worker.pid):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await asyncio.sleep(rng.uniform(0.0, 0.03))
            mid_run_kills += await _running_here(db, worker.pid)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            await reap()
        assert mid_run_kills >= MID_RUN_KILLS, f"only {mid_run_kills} of {KILLS} kills landed during a bill run"

        worker = start()
        deadline = time.monotonic() + 120
        while not await _settled(db, tenants):
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the bill runs did not all end after the kills"
            await reap()
            await asyncio.sleep(1)
    finally:
        if worker is not None:
            stop_ispb(worker)
        await queue.disconnect()

    billed = 0
    for tenant in tenants:
        bills = await _bills(db, tenant)
        assert len({b["customer_id"] for b in bills}) == len(bills) > 0, f"{tenant.slug}: a customer billed twice"
        year = local_today(datetime.now(UTC), tenant).year
        assert [b["number"] for b in bills] == [f"INV-{year}-{n:06d}" for n in range(1, len(bills) + 1)]
        now = datetime.now(UTC)
        again = await generate_bills(JobContext(db=db, today=local_today(now, tenant), now=now, tenant=tenant))
        assert again["billed"] == 0, f"{tenant.slug}: customers were left unbilled"
        billed += len(bills)
    assert billed >= OPERATORS * CUSTOMERS_EACH * 0.9  # nearly everyone is due on their first run
