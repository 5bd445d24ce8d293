"""The worker on the real queues (PostgreSQL and Redis, one suite for both) and the schedule's fan-out."""

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
from saq import Queue, Worker

from ispb_platform.app import create_app
from ispb_platform.cli.common import configure_logging
from ispb_platform.jobs.job import Counts, JobContext, JobScope, ScheduledJob
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute, get_run, recent_runs
from ispb_platform.jobs.worker import RUN_JOB, build_worker, fan_out
from ispb_platform.runtime import Runtime
from ispb_platform.settings import parse_settings
from ispb_tenants import Database, active_tenant_refs

WAIT_S = 30


@pytest.fixture(name="queue", params=["postgres", "redis"])
async def fx_queue(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Queue]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    queue = make_queue(redis_url, database_url, name=f"test-{secrets.token_hex(4)}")
    await queue.connect()
    yield queue
    await queue.disconnect()


async def _running(worker: Worker) -> asyncio.Task[None]:
    task = asyncio.create_task(worker.start())
    await asyncio.sleep(0.2)
    return task


async def _stop(worker: Worker, task: asyncio.Task[None]) -> None:
    await worker.stop()
    await asyncio.wait_for(task, 10)


async def _wait_for(predicate, what: str) -> None:
    for _ in range(WAIT_S * 20):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_worker_schedules_and_runs_the_heartbeat_and_records_the_run(db: Database, queue: Queue):
    worker = build_worker(db, queue, embedded=True)
    task = await _running(worker)
    try:
        # the worker put the registry's cron tick on the queue under SAQ's cron key
        assert await queue.job("cron:cron.system.heartbeat") is not None
        job = await queue.enqueue(  # one attempt: the start-up sweep must leave it alone (see test_queue_sweep)
            "cron.system.heartbeat", key=f"now-{secrets.token_hex(4)}", timeout=60, retries=1
        )
        assert job is not None

        async def done() -> bool:
            await job.refresh()
            return bool(job.completed)

        await _wait_for(done, "the heartbeat job")
        assert job.error is None, job.error
        assert (job.status, job.attempts) == ("complete", 1)
        record = await get_run(db, job.result["run_id"])
        assert (record.job, record.status, record.trigger) == ("system.heartbeat", "succeeded", "schedule")
        assert record.counts["active_tenants"] == await db.fetchval(
            "SELECT count(*) FROM platform.tenant WHERE status = 'active'"
        )
        assert record.finished_at is not None and record.job_key.startswith("system.heartbeat:platform:")
    finally:
        await _stop(worker, task)


async def test_fan_out_is_keyed_per_tenant_and_period_so_a_second_tick_adds_nothing(
    db: Database, queue: Queue, make_tenant
):
    tenants = {(await make_tenant("fan")).slug for _ in range(3)}
    job = get_job("maintenance.purge_activity_logs")
    period = f"2026-11-25T21:30Z-{secrets.token_hex(2)}"
    active = len(await active_tenant_refs(db))  # ours, and any other test's left in the shared database
    first, second = await asyncio.gather(fan_out(db, queue, job, period), fan_out(db, queue, job, period))
    assert first + second == active  # two ticks at once: each tenant queued exactly once
    assert await fan_out(db, queue, job, period) == 0

    workers = [build_worker(db, queue, embedded=True) for _ in range(2)]  # two workers at once
    tasks = [await _running(w) for w in workers]
    try:

        async def all_ran() -> bool:
            runs = await recent_runs(db, job=job.name, limit=200)
            return {r.tenant_slug for r in runs if r.job_key.endswith(period)} >= tenants

        await _wait_for(all_ran, "one run per tenant")
        await asyncio.sleep(0.5)  # anything doubled would have run by now
    finally:
        for worker, task in zip(workers, tasks, strict=True):
            await _stop(worker, task)
    runs = [
        r
        for r in await recent_runs(db, job=job.name, limit=200)
        if r.job_key.endswith(period) and r.tenant_slug in tenants
    ]
    assert sorted(r.tenant_slug for r in runs) == sorted(tenants)
    assert {r.status for r in runs} == {"succeeded"}


async def test_run_job_task_retries_a_failing_tenant_and_records_each_attempt(db: Database, queue: Queue, make_tenant):
    tenant = await make_tenant("retry")
    async with db.pool.acquire() as conn:  # break the tenant: its activity_log is gone
        await conn.execute(f'ALTER TABLE "{tenant.schema}".activity_log RENAME TO activity_log_gone')
    key = f"maintenance.purge_activity_logs:{tenant.slug}:retry-{secrets.token_hex(2)}"
    job = await queue.enqueue(
        RUN_JOB,
        key=key,
        job_name="maintenance.purge_activity_logs",
        tenant=tenant.slug,
        retries=2,
        retry_delay=0.1,
        timeout=30,
    )
    worker = build_worker(db, queue, embedded=True)
    task = await _running(worker)
    try:

        async def finished() -> bool:
            await job.refresh()
            return job.status.value in ("failed", "complete")

        await _wait_for(finished, "the failing job to give up")
    finally:
        await _stop(worker, task)
    runs = [r for r in await recent_runs(db, job="maintenance.purge_activity_logs") if r.job_key == key]
    assert [r.status for r in runs] == ["failed", "failed"]
    assert all("activity_log" in (r.error or "") for r in runs)


async def test_purge_activity_logs_keeps_the_retention_window_and_is_idempotent(db: Database, make_tenant):
    tenant = await make_tenant("purge")
    async with db.tenant(tenant) as scope:  # 400 back-dated entries in one set-based statement (no factory)
        await scope.connection.execute(
            "INSERT INTO activity_log (at, actor, action) SELECT now() - make_interval(days => d), 'test', 'x'"
            " FROM generate_series(0, 399) AS d"
        )
    job = get_job("maintenance.purge_activity_logs")
    today = date.today()
    first = await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="purge-1", today=today)
    second = await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="purge-2", today=today)
    async with db.tenant(tenant) as scope:
        left = await scope.connection.fetchval("SELECT count(*) FROM activity_log")
    assert first.counts["purged"] + left == 400
    assert 360 <= left <= 367  # 365 days kept, give or take the time zone edge of "today"
    assert second.counts == {"purged": 0, "retention_days": 365}


async def test_a_tenant_job_without_a_tenant_is_refused(db: Database):
    with pytest.raises(ValueError, match="a tenant is required"):
        await execute(db, get_job("maintenance.purge_activity_logs"), tenant=None, trigger=Trigger.MANUAL, key="x")


async def test_postgres_queues_with_different_names_keep_separate_keys(database_url: str):
    queues = [make_queue(None, database_url, name=f"sep-{secrets.token_hex(3)}") for _ in range(2)]
    for queue in queues:
        await queue.connect()
    try:
        jobs = [await queue.enqueue("cron.system.heartbeat", key="cron:cron.system.heartbeat") for queue in queues]
        assert all(job is not None for job in jobs)  # the same key on two queues: two jobs
        assert await queues[0].enqueue("cron.system.heartbeat", key="cron:cron.system.heartbeat") is None
    finally:
        for queue in queues:
            await queue.disconnect()


async def test_clear_app_logs_prunes_old_run_records_but_keeps_each_jobs_latest(db: Database, make_tenant):
    tenant = await make_tenant("runs")
    job = get_job("maintenance.clear_app_logs")
    async with db.platform() as conn:  # back-dated run records, set-based (no factory)
        await conn.execute(
            "INSERT INTO job_run (job, tenant_id, job_key, today, trigger, status, started_at) SELECT $1, $2,"
            " 'k' || d, current_date, 'schedule', 'succeeded', now() - make_interval(days => d)"
            " FROM generate_series(200, 100, -10) AS d",
            "test.old_tenant_job",
            tenant.id,
        )
        await conn.execute(
            "INSERT INTO job_run (job, job_key, today, trigger, status, started_at) SELECT 'system.heartbeat',"
            " 'hb' || d, current_date, 'schedule', 'succeeded', now() - make_interval(days => d)"
            " FROM generate_series(6, 10) AS d"
        )
    first = await execute(db, job, tenant=None, trigger=Trigger.MANUAL, key="clear-1")
    second = await execute(db, job, tenant=None, trigger=Trigger.MANUAL, key="clear-2")
    async with db.platform() as conn:
        kept = await conn.fetch("SELECT job_key FROM job_run WHERE job = 'test.old_tenant_job'")
        heartbeats = await conn.fetch("SELECT job_key FROM job_run WHERE job_key LIKE 'hb%' ORDER BY job_key")
    assert [r["job_key"] for r in kept] == ["k100"]  # all past 90 days, but the latest survives
    assert [r["job_key"] for r in heartbeats] == ["hb6", "hb7"]  # before today: 7 whole days of heartbeats
    assert first.counts["run_records_deleted"] >= 13  # 10 tenant-job runs and 3 heartbeats
    assert second.counts == {"run_records_deleted": 0, "log_files_deleted": 0}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, below: int = logging.WARNING) -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records if r.levelno < below]


async def _did(ctx: JobContext) -> Counts:
    return {"messages_sent": 2, "failed": 0}


async def _broke(ctx: JobContext) -> Counts:
    raise RuntimeError("gateway down")


@pytest.fixture(name="log_setup", params=["ispb worker", "ispb demo"])
def fx_log_setup(request: pytest.FixtureRequest, database_url: str, db: Database) -> Iterator[_Collect]:
    """Logging at the default level as each command sets it up, with a handler that collects every record."""
    root, saq_logger = logging.getLogger(), logging.getLogger("saq")
    saved = (root.level, list(root.handlers), saq_logger.level)
    if request.param == "ispb worker":
        configure_logging("info")
    else:  # the demo's web app (with its worker) configures logging through Litestar
        config = parse_settings({"ISPB_DATABASE_URL": database_url, "ISPB_SECRET_KEY": "k" * 40})
        create_app(config, runtime=Runtime(config, database_url, db, make_queue(None, database_url)))
    collect = _Collect()
    root.addHandler(collect)
    yield collect
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    saq_logger.setLevel(saved[2])


async def test_at_info_a_quiet_minute_logs_nothing_and_a_run_that_did_something_one_line(
    db: Database, queue: Queue, log_setup: _Collect
):
    worker = build_worker(db, queue, embedded=True)
    task = await _running(worker)
    try:
        job = await queue.enqueue("cron.system.heartbeat", key=f"quiet-{secrets.token_hex(4)}", timeout=60)
        assert job is not None

        async def done() -> bool:
            await job.refresh()
            return bool(job.completed)

        await _wait_for(done, "the heartbeat job")
    finally:
        await _stop(worker, task)
    assert job.error is None, job.error
    assert log_setup.lines() == []  # before: SAQ's "Worker starting", "Enqueuing", "Processing", "Finished", ...

    work = ScheduledJob("test.work", "* * * * *", JobScope.PLATFORM, _did, "sends messages")
    await execute(db, work, tenant=None, trigger=Trigger.MANUAL, key=f"work-{secrets.token_hex(4)}")
    assert log_setup.lines() == ["INFO ispb_platform.jobs.runs: test.work: messages_sent 2, failed 0"]

    broken = ScheduledJob("test.broken", "* * * * *", JobScope.PLATFORM, _broke, "fails")
    with pytest.raises(RuntimeError):
        await execute(db, broken, tenant=None, trigger=Trigger.MANUAL, key=f"broken-{secrets.token_hex(4)}")
    runs = [line for line in log_setup.lines(below=logging.CRITICAL) if " ispb_platform.jobs.runs: " in line]
    assert len(runs) == 2 and runs[1].startswith("WARNING ispb_platform.jobs.runs: test.broken failed (run ")
    assert runs[1].endswith("): RuntimeError: gateway down")
