"""The per-minute fan-out queues only operators with due work, idle runs roll up, dead runs are closed and rerun."""

import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from saq import Queue

from factories import make_router
from ispb_platform.jobs.job import Counts, JobContext, JobScope, ScheduledJob
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.reaper import DEAD_RUN_ERROR, close_dead_runs
from ispb_platform.jobs.registry import SCHEDULE, get_job
from ispb_platform.jobs.runs import Trigger, execute, job_key
from ispb_platform.jobs.worker import RUN_JOB, fan_out, job_options
from ispb_tenants import Database, TenantRef

TIMEOUTS = {job.name: job.timeout_s for job in SCHEDULE}


@pytest.fixture(name="queue", params=["postgres", "redis"])
async def fx_queue(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Queue]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    queue = make_queue(redis_url, database_url, name=f"test-{secrets.token_hex(4)}")
    await queue.connect()
    yield queue
    await queue.disconnect()


async def _queued_tenants(queue: Queue, job_name: str, period: str, tenants: list[TenantRef]) -> set[str]:
    job = get_job(job_name)
    found = await queue.jobs([job_key(job, tenant, period) for tenant in tenants])
    return {tenant.slug for tenant, queued in zip(tenants, found, strict=True) if queued is not None}


async def test_the_minute_tick_queues_outbox_and_router_jobs_only_for_operators_with_due_work(
    db: Database, queue: Queue, make_tenant
):
    quiet, with_event, with_message, with_command = [await make_tenant("due") for _ in range(4)]
    async with db.tenant(with_event) as scope:
        await scope.connection.execute("INSERT INTO domain_event (name) VALUES ('payment.recorded')")
    async with db.tenant(with_message) as scope:
        await scope.connection.execute(
            "INSERT INTO outbox (key, channel, to_address, body, segments, cause, status, next_attempt_at) VALUES"
            " ('m1', 'sms', '+8801711000001', 'Paid, thank you', 1, 'test', 'queued', now() - interval '1 second')"
        )
    async with db.tenant(with_command) as scope:
        router_id = await make_router(scope)
        await scope.connection.execute(
            "INSERT INTO router_command (router_id, action, status, next_attempt_at)"
            " VALUES ($1, 'disconnect', 'pending', now() - interval '1 second')",
            router_id,
        )
    tenants = [quiet, with_event, with_message, with_command]
    period = f"due-{secrets.token_hex(3)}"

    await fan_out(db, queue, get_job("notify.send_outbox"), period)
    await fan_out(db, queue, get_job("netsync.router_commands"), period)
    await fan_out(db, queue, get_job("netsync.radacct_partitions"), period)  # no due test: every active operator

    assert await _queued_tenants(queue, "notify.send_outbox", period, tenants) == {with_event.slug, with_message.slug}
    assert await _queued_tenants(queue, "netsync.router_commands", period, tenants) == {with_command.slug}
    assert await _queued_tenants(queue, "netsync.radacct_partitions", period, tenants) == {t.slug for t in tenants}


async def _nothing(ctx: JobContext) -> Counts:
    return {"sent": 0, "checked": 3}


async def _something(ctx: JobContext) -> Counts:
    return {"sent": 2, "checked": 3}


async def _runs(db: Database, name: str, tenant: TenantRef) -> list[dict]:
    async with db.platform() as connection:
        rows = await connection.fetch(
            "SELECT job_key, status, counts::text AS counts FROM job_run WHERE job = $1 AND tenant_id = $2 ORDER BY id",
            name,
            tenant.id,
        )
    return [dict(row) for row in rows]


async def test_scheduled_runs_that_find_nothing_roll_up_into_one_record_per_quiet_streak_or_day_of_work(
    db: Database, make_tenant
):
    tenant = await make_tenant("idle")
    quiet = ScheduledJob("test.quiet", "* * * * *", JobScope.TENANT, _nothing, "q", observed_counts={"checked"})
    busy = ScheduledJob("test.quiet", "* * * * *", JobScope.TENANT, _something, "q", observed_counts={"checked"})
    for n in range(3):
        await execute(db, quiet, tenant=tenant, trigger=Trigger.SCHEDULE, key=f"idle-{n}")
    await execute(db, busy, tenant=tenant, trigger=Trigger.SCHEDULE, key="work")
    for n in range(3, 5):
        last = await execute(db, quiet, tenant=tenant, trigger=Trigger.SCHEDULE, key=f"idle-{n}")
    await execute(db, quiet, tenant=tenant, trigger=Trigger.MANUAL, key="by-hand")  # a person's run stays its own

    runs = await _runs(db, "test.quiet", tenant)
    assert [(r["job_key"], r["status"]) for r in runs] == [
        ("idle-2", "succeeded"),  # three quiet ticks: one record, at the latest
        ("idle-4", "succeeded"),  # the day's run that did work, and the quiet ticks after it: one record
        ("by-hand", "succeeded"),  # a person's run stays its own
    ]
    assert [json.loads(r["counts"]) for r in runs] == [
        {"sent": 0, "checked": 3, "idle_runs": 3},
        {"sent": 2, "checked": 3, "runs": 1, "idle_runs": 2},
        {"sent": 0, "checked": 3},
    ]
    assert last.job_key == "idle-4" and last.counts["idle_runs"] == 2


async def _failing(ctx: JobContext) -> Counts:
    raise RuntimeError("router away")


async def test_scheduled_runs_that_did_work_add_up_into_one_record_per_day(db: Database, make_tenant):
    tenant = await make_tenant("work")
    busy = ScheduledJob("test.busy", "*/5 * * * *", JobScope.TENANT, _something, "b", observed_counts={"checked"})
    failing = ScheduledJob("test.busy", "*/5 * * * *", JobScope.TENANT, _failing, "b")
    monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
    for n in range(3):
        await execute(db, busy, tenant=tenant, trigger=Trigger.SCHEDULE, key=f"mon-{n}", today=monday)
    with pytest.raises(RuntimeError):
        await execute(db, failing, tenant=tenant, trigger=Trigger.SCHEDULE, key="mon-failed", today=monday)
    await execute(db, busy, tenant=tenant, trigger=Trigger.SCHEDULE, key="mon-after", today=monday)
    for n in range(2):
        last = await execute(db, busy, tenant=tenant, trigger=Trigger.SCHEDULE, key=f"tue-{n}", today=tuesday)

    runs = await _runs(db, "test.busy", tenant)
    assert [(r["job_key"], r["status"]) for r in runs] == [
        ("mon-2", "succeeded"),  # three runs that each sent 2: one record, at the latest, the day's sum
        ("mon-failed", "failed"),  # a failure keeps its own record and breaks the day's record
        ("mon-after", "succeeded"),
        ("tue-1", "succeeded"),  # a new day, a new record
    ]
    assert [json.loads(r["counts"]) for r in runs] == [
        {"sent": 6, "checked": 3, "runs": 3},  # "checked" describes (observed): the latest value, not a sum
        {},
        {"sent": 2, "checked": 3, "runs": 1},
        {"sent": 4, "checked": 3, "runs": 2},
    ]
    assert last.job_key == "tue-1" and last.counts == {"sent": 4, "checked": 3, "runs": 2}


async def _running_record(db: Database, tenant: TenantRef, key: str, started: datetime) -> int:
    async with db.platform() as connection:
        return int(
            await connection.fetchval(
                "INSERT INTO job_run (job, tenant_id, job_key, today, trigger, started_at, worker)"
                " VALUES ('billing.generate_bills', $1, $2, $3, 'schedule', $4, 'gone:1') RETURNING id",
                tenant.id,
                key,
                started.date(),
                started,
            )
        )


async def test_dead_workers_run_records_are_closed_and_lost_jobs_run_again_once(
    db: Database, queue: Queue, make_tenant
):
    tenant = await make_tenant("reap")
    job = get_job("billing.generate_bills")
    now = datetime.now(UTC)
    minute_ago = now - timedelta(minutes=1)
    # the job Redis lost (or that ended aborted): its record says running, the queue has nothing
    lost = await _running_record(db, tenant, f"{job.name}:{tenant.slug}:lost-{secrets.token_hex(3)}", minute_ago)
    # an earlier attempt of a job the sweep put back in the queue: closed, not rerun (the queue runs it)
    retried_key = f"{job.name}:{tenant.slug}:retried-{secrets.token_hex(3)}"
    await queue.enqueue(RUN_JOB, key=retried_key, job_name=job.name, tenant=tenant.slug, **job_options(job))
    retried = await _running_record(db, tenant, retried_key, minute_ago)
    # a run that just started: left alone
    fresh = await _running_record(db, tenant, f"{job.name}:{tenant.slug}:fresh", now)

    ctx = JobContext(db=db, today=now.date(), now=now, queue=queue)
    first = await close_dead_runs(ctx, TIMEOUTS)
    second = await close_dead_runs(ctx, TIMEOUTS)  # a second worker's reaper, or the next minute: nothing more

    assert first == {"closed": 2, "rerun": 1}
    assert second == {"closed": 0, "rerun": 0}
    async with db.platform() as connection:
        found = await connection.fetch(
            "SELECT id, status, error FROM job_run WHERE id = ANY($1)", [lost, retried, fresh]
        )
    rows = {r["id"]: (r["status"], r["error"]) for r in found}
    assert rows == {lost: ("failed", DEAD_RUN_ERROR), retried: ("failed", DEAD_RUN_ERROR), fresh: ("running", None)}
    queued = [j async for j in queue.iter_jobs() if j.key.startswith(f"soon:{job.name}:{tenant.slug}:rerun:")]
    assert len(queued) == 1 and queued[0].kwargs == {"job_name": job.name, "tenant": tenant.slug}
