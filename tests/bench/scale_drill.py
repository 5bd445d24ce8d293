"""Benchmark: the scale drill, many operators on one PostgreSQL (issue 19, docs/scale-out.md).

Run:  uv run python tests/bench/scale_drill.py [--operators 1000] [--history-days 1] [--keep NAME]

``--keep NAME`` uses (and keeps) the database NAME: a second run resumes the creations where the first stopped
and measures everything again on the same operators (after a change, say); drop it by hand afterwards.

On a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) it times:

1. creating ``--operators`` operators one after the other (``ispb tenants create``'s work: schema, every tenant
   migration), the mean and the mean of the last tenth (flat or growing);
2. ``ispb tenants migrate`` over all of them with nothing pending (what each upgrade's check costs);
3. the catalog: relations per operator and the database's size per operator;
4. each tick's question "which operators have work for this job" (``jobs/due.py``), for every job with a due
   test, with one operator in 50 having a due outbox message;
5. with a day of run records for every operator (``--history-days``; a worst case: a record per run that did
   work, quiet streaks rolled up, as before runs that did work were added into one record a day), ``ispb jobs
   list``'s query and the p95 of the Automation page and of the Customers page of one operator, through the
   whole app in-process, signed in.
"""

import argparse
import asyncio
import logging
import os
import re
import statistics
import time

import httpx
from common import Figure, report, scratch_database

from ispb_platform.app import create_app
from ispb_platform.auth.passwords import hash_password
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.due import tenants_with_due_work
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import last_runs
from ispb_platform.runtime import Runtime
from ispb_platform.settings import parse_settings
from ispb_tenants import Database, TenantRef, active_tenant_refs, create_tenant, migrate_platform, migrate_tenants

PASSWORD = "benchmark password"
REQUESTS = 200
# a day of one operator's runs that did work, by job: the five-minute jobs of an ISP with customers online
# work every time; messages and router commands come in bursts; quiet streaks are one record per job.
DAY_OF_WORK = {
    "netsync.usage_rollup": 288,
    "netsync.rrd_update": 288,
    "netsync.stale_sessions": 100,
    "notify.send_outbox": 60,
    "netsync.router_commands": 20,
    "billing.auto_suspend": 5,
    "billing.generate_bills": 1,
    "notify.due_date": 2,
}


async def main(operators: int, history_days: int, keep: str | None) -> None:
    async with scratch_database(keep, label="scale") as url:
        db = await Database.connect(url, min_size=2, max_size=10)
        try:
            await _drill(db, url, operators, history_days)
        finally:
            await db.close()


async def _drill(db: Database, url: str, operators: int, history_days: int) -> None:
    await migrate_platform(db)
    existing = int(await db.pool.fetchval("SELECT count(*) FROM platform.tenant WHERE slug LIKE 'op-%'"))
    times = []
    for n in range(existing, operators):
        started = time.perf_counter()
        await create_tenant(db, f"op-{n:05d}", f"Operator {n}")
        times.append(time.perf_counter() - started)
        if (n + 1) % 100 == 0:
            last = times[-min(100, len(times)) :]
            print(
                f"{n + 1} operators, last {len(last)} took {sum(last):.0f} s ({statistics.mean(last):.2f} s each),"
                f" {os.getloadavg()[0]:.1f} load",
                flush=True,
            )
    size = f"{operators:,} operators"
    if times:
        report(Figure("operator creation, mean", size, statistics.mean(times), "s", goal_below=2))
        tenth = max(1, len(times) // 10)
        report(Figure("operator creation, last tenth", size, statistics.mean(times[-tenth:]), "s", goal_below=2))

    for _ in range(2):  # a resumed run may find migrations added since its operators were made: then twice
        started = time.perf_counter()
        results = await migrate_tenants(db)
        elapsed = time.perf_counter() - started
        assert all(r.error is None for r in results), [r.error for r in results if r.error]
        applied = sum(len(r.applied) for r in results)
        if not applied:
            report(Figure("tenants migrate, nothing pending", size, elapsed, "s", goal_below=120))
            break
        touched = sum(1 for r in results if r.applied)
        report(Figure(f"tenants migrate, {applied} migrations in {touched} operators", size, elapsed, "s"))

    await db.pool.execute("VACUUM ANALYZE")
    row = await db.pool.fetchrow(_CATALOG)
    report(Figure("catalog relations per operator", size, row["relations"] / operators, "relations"))
    report(Figure("database size per empty operator", size, row["bytes"] / operators / 1e6, "MB"))
    relations = await db.pool.fetchval("SELECT count(*) FROM pg_class")
    report(Figure("catalog relations in all", size, relations, "relations"))
    report(Figure("database size", size, await db.pool.fetchval(_DATABASE_SIZE) / 1e9, "GB"))

    tenants = [t for t in await active_tenant_refs(db) if t.slug.startswith("op-")]
    with_outbox = tenants[::50]
    await _some_due_work(db, with_outbox)
    seeded = {tenants[len(tenants) // 2].slug}  # the operator with customers (a run before this one seeded it)
    for job in (job for job in SCHEDULE if job.due_work is not None):
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            due = await tenants_with_due_work(db, job.due_work, tenants)  # type: ignore[arg-type]
            samples.append((time.perf_counter() - started) * 1000)
        expected = {t.slug for t in with_outbox} if job.name == "notify.send_outbox" else set()
        unexpected = {t.slug for t in due} - expected - seeded
        assert expected <= {t.slug for t in due} and not unexpected, f"{job.name}: {unexpected or 'missing'}"
        goal = 600 * _minutes_between_ticks(job.cron)  # 1% of the time to the job's next tick
        report(Figure(f"tick: operators due for {job.name}", size, statistics.median(samples), "ms", goal_below=goal))

    _load("after the ticks")
    rows = await _history(db, history_days)
    history = f"{size}, {rows:,} run records"
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        await last_runs(db)
        samples.append((time.perf_counter() - started) * 1000)
    report(Figure("ispb jobs list query", history, statistics.median(samples), "ms", goal_below=100))

    one = tenants[len(tenants) // 2]
    async with db.tenant(one) as scope:
        await ensure_packages(scope)
        if not await scope.connection.fetchval("SELECT count(*) FROM customer"):
            await seed_customers(scope, 1000)
    await db.pool.execute(
        "INSERT INTO platform.platform_user (email, name, password_hash, role, tenant_id)"
        " VALUES ('bench@isp.test', 'Bench', $1, 'operator_admin', $2) ON CONFLICT DO NOTHING",
        hash_password(PASSWORD),
        one.id,
    )
    settings = parse_settings({"ISPB_DATABASE_URL": url, "ISPB_SECRET_KEY": "b" * 40})
    app = create_app(settings, runtime=Runtime(settings, url, db, make_queue(None, url)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://isp.test") as client:
        token = re.search(r'name="csrf-token" content="([^"]+)"', (await client.get("/login")).text)[1]  # type: ignore[index]
        await client.post("/login", data={"email": "bench@isp.test", "password": PASSWORD, "_csrf_token": token})
        for page, goal in (("/panel/automation", 50), ("/panel/customers", 50)):
            p95 = await _p95(client, page)
            report(Figure(f"panel {page} p95", history, p95, "ms", goal_below=goal))
            _load(f"after {page}")


def _minutes_between_ticks(cron: str) -> int:
    """Every minute (``*``), every N minutes (``*/N``), else at most hourly: 60.

    >>> _minutes_between_ticks("* * * * *"), _minutes_between_ticks("*/5 * * * *"), _minutes_between_ticks("5 * * * *")
    (1, 5, 60)
    """
    minute = cron.split()[0]
    if minute == "*":
        return 1
    return int(minute.removeprefix("*/")) if minute.startswith("*/") else 60


def _load(when: str) -> None:
    """The machine's load average, printed beside the figures (other people's tests share the machine)."""
    one, five, fifteen = os.getloadavg()
    print(f"load average {when}: {one:.1f}, {five:.1f}, {fifteen:.1f}", flush=True)


# The operators' own relations (tables, indexes, sequences, views, partitions) with their TOAST tables and the
# TOAST tables' indexes, and their size on disk: measured from the catalog, so a resumed run counts them too.
_CATALOG = """
WITH own AS (
    SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN (SELECT schema_name FROM platform.tenant WHERE slug LIKE 'op-%')
)
SELECT count(*) + 2 * count(*) FILTER (WHERE reltoastrelid <> 0) AS relations,
       coalesce(sum(pg_relation_size(oid, 'main') + pg_relation_size(oid, 'fsm') + pg_relation_size(oid, 'vm')
                    + CASE WHEN reltoastrelid <> 0 THEN pg_total_relation_size(reltoastrelid) ELSE 0 END), 0)::bigint
           AS bytes
FROM own
"""
_DATABASE_SIZE = "SELECT pg_database_size(current_database())"


async def _some_due_work(db: Database, tenants: list[TenantRef]) -> None:
    for tenant in tenants:
        async with db.tenant(tenant) as scope:
            await scope.connection.execute(
                "INSERT INTO outbox (key, channel, to_address, body, segments, cause, status, next_attempt_at)"
                " VALUES ('bench', 'sms', '+8801711000001', 'Bench', 1, 'bench', 'queued', now() - interval '1 s')"
                " ON CONFLICT (key) DO NOTHING"
            )


async def _history(db: Database, days: int) -> int:
    """``days`` of run records for every operator, set-based: DAY_OF_WORK runs per job per day, and one rolled
    record per quiet job. Returns the rows in ``job_run``."""
    jobs = list(DAY_OF_WORK)
    per_day = list(DAY_OF_WORK.values())
    await db.pool.execute("DELETE FROM platform.job_run WHERE worker = 'bench:1'")  # a resumed run starts afresh
    await db.pool.execute(
        """
        INSERT INTO platform.job_run (job, tenant_id, job_key, today, trigger, status, started_at, finished_at,
                                      counts, worker)
        SELECT j.job, t.id, j.job || ':' || t.slug || ':' || n, at::date, 'schedule', 'succeeded', at,
               at + interval '1 s', '{"done": 1}'::jsonb, 'bench:1'
        FROM platform.tenant t
        CROSS JOIN unnest($1::text[], $2::int[]) AS j(job, per_day)
        CROSS JOIN LATERAL generate_series(1, j.per_day * $3) AS n
        CROSS JOIN LATERAL (SELECT now() - make_interval(mins => n * 1440 / j.per_day) AS at) w
        """,
        jobs,
        per_day,
        days,
    )
    await db.pool.execute("ANALYZE platform.job_run")
    return int(await db.pool.fetchval("SELECT count(*) FROM platform.job_run"))


async def _p95(client: httpx.AsyncClient, page: str) -> float:
    assert (await client.get(page)).status_code == 200
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await client.get(page)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.quantiles(samples, n=20)[18]


if __name__ == "__main__":
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operators", type=int, default=1000)
    parser.add_argument("--history-days", type=int, default=1)
    parser.add_argument("--keep", metavar="NAME", help="use and keep this database (resume, measure again)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.operators, arguments.history_days, arguments.keep))
