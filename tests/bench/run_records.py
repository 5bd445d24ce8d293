"""Benchmark: run records at 1,000 operators with a day, then a month, of history (issue 19, docs/scale-out.md).

Run:  uv run python tests/bench/run_records.py [--operators 1000] [--days 30]

On a scratch database (see ``common.py``) with ``--operators`` operators (platform rows only: run records live in
``platform.job_run``), run records are generated as the scale drill does (``scale_drill.DAY_OF_WORK``: the
records one ISP with customers online leaves in a day once quiet runs are rolled up and operators without work
are not queued), first one day, then up to ``--days``. At each size it times the two reads that walk the history:

1. ``ispb jobs list``: the newest run of every job (``jobs/runs.py`` ``last_runs``);
2. the Automation page: an operator's newest run of every job (``last_runs_for``), for operators picked at random;

and, with the full history, what keeping it costs: the records' size on disk and the weekly pruning
(``maintenance.clear_app_logs``) of one day's records past retention, against dropping one partition of a table
partitioned by day (timed on a copy of the oldest day's records). The decision it informs (partition or not) is in
docs/scale-out.md.
"""

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from common import Figure, report, scratch_database
from scale_drill import DAY_OF_WORK

from ispb_platform.jobs.job import JobScope
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import _LAST_FOR_TENANT, last_runs, last_runs_for
from ispb_platform.maintenance.jobs import _PRUNE_RUN_RECORDS
from ispb_tenants import Database, migrate_platform

SAMPLES = 50
ONE_DAY = timedelta(days=1)

_OPERATORS = """
INSERT INTO platform.tenant (slug, name, schema_name)
SELECT 'rr-' || n, 'Operator ' || n, 'tenant_rr_' || n FROM generate_series(1, $1) AS n
"""
# One day (``$3`` days ago) of every operator's records, set-based: DAY_OF_WORK runs per job, spread over the day.
_DAY = """
INSERT INTO platform.job_run (job, tenant_id, job_key, today, trigger, status, started_at, finished_at, counts, worker)
SELECT j.job, t.id, j.job || ':' || t.slug || ':' || $3 || ':' || n, at::date, 'schedule', 'succeeded', at,
       at + interval '1 s', '{"done": 1}'::jsonb, 'bench:1'
FROM platform.tenant t
CROSS JOIN unnest($1::text[], $2::int[]) AS j(job, per_day)
CROSS JOIN LATERAL generate_series(1, j.per_day) AS n
CROSS JOIN LATERAL (SELECT now() - make_interval(days => $3, mins => n * 1440 / j.per_day) AS at) w
WHERE t.slug LIKE 'rr-%'
"""


async def main(operators: int, days: int) -> None:
    async with scratch_database(label="scale") as url:
        db = await Database.connect(url, min_size=2, max_size=4)
        try:
            await migrate_platform(db)
            await db.pool.execute(_OPERATORS, operators)
            tenant_ids = [r["id"] for r in await db.pool.fetch("SELECT id FROM platform.tenant WHERE slug LIKE 'rr-%'")]
            for day in range(days):
                started = time.perf_counter()
                await db.pool.execute(_DAY, list(DAY_OF_WORK), list(DAY_OF_WORK.values()), day)
                print(f"day {day + 1}: {time.perf_counter() - started:.0f} s", flush=True)
                if day + 1 in (1, days):
                    await db.pool.execute("VACUUM ANALYZE platform.job_run")
                    await _reads(db, operators, day + 1, tenant_ids)
            await _keeping(db, operators, days)
        finally:
            await db.close()


async def _timed(samples: int, work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


async def _reads(db: Database, operators: int, days: int, tenant_ids: list[int]) -> None:
    rows = int(await db.pool.fetchval("SELECT count(*) FROM platform.job_run"))
    size = f"{operators:,} operators, {days} day{'s' if days > 1 else ''}, {rows:,} records"
    median, p95 = await _timed(SAMPLES, lambda: last_runs(db))
    report(Figure("ispb jobs list query, median", size, median, "ms", goal_below=50))
    report(Figure("ispb jobs list query, p95", size, p95, "ms", goal_below=100))
    found = await last_runs_for(db, tenant_ids[0])
    assert set(DAY_OF_WORK) <= set(found), f"an operator's newest runs are missing: {set(DAY_OF_WORK) - set(found)}"
    median, p95 = await _timed(SAMPLES, lambda: last_runs_for(db, random.choice(tenant_ids)))
    report(Figure("Automation page query, median", size, median, "ms", goal_below=50))
    report(Figure("Automation page query, p95", size, p95, "ms", goal_below=100))
    # the same without the index of platform migration 0014 (dropped in a transaction that is rolled back): the
    # walk of the operator's runs newest first that the page did before
    async with db.pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("DROP INDEX platform.job_run_tenant_job_started_idx")
        await connection.execute("SET LOCAL search_path = platform")
        tenant_jobs, platform_jobs = _scopes()
        median, p95 = await _timed(
            SAMPLES,
            lambda: connection.fetch(_LAST_FOR_TENANT, tenant_jobs, random.choice(tenant_ids), platform_jobs),
        )
        await transaction.rollback()
    report(Figure("Automation page query without the 0014 index, median", size, median, "ms"))
    report(Figure("Automation page query without the 0014 index, p95", size, p95, "ms"))


def _scopes() -> tuple[list[str], list[str]]:
    tenant = [job.name for job in SCHEDULE if job.scope is JobScope.TENANT]
    return tenant, [job.name for job in SCHEDULE if job.scope is JobScope.PLATFORM]


async def _keeping(db: Database, operators: int, days: int) -> None:
    size = f"{operators:,} operators, {days} days"
    total = await db.pool.fetchval("SELECT pg_total_relation_size('platform.job_run')")
    report(Figure("run records on disk (table and indexes)", size, total / 1e9, "GB"))
    oldest = await db.pool.fetchval("SELECT min(started_at)::date FROM platform.job_run")
    deleted = 0
    async with db.pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SET LOCAL search_path = platform")
        started = time.perf_counter()
        # the weekly pruning's statement, its cutoff the day after the oldest: that day's records go (but each
        # operator's latest run of each job), in one statement, rolled back to keep the data
        status = await connection.execute(_PRUNE_RUN_RECORDS, oldest + ONE_DAY, 0, 0)
        elapsed = time.perf_counter() - started
        deleted = int(status.split()[-1])
        await transaction.rollback()
    assert deleted > 0, "the pruning found nothing past retention"
    report(Figure(f"prune one day's records ({deleted:,} rows), DELETE", size, elapsed, "s", goal_below=60))

    await db.pool.execute(
        "CREATE TABLE bench_job_run (LIKE platform.job_run INCLUDING DEFAULTS) PARTITION BY RANGE (started_at)"
    )
    await db.pool.execute(
        f"CREATE TABLE bench_job_run_oldest PARTITION OF bench_job_run FOR VALUES FROM ('{oldest}') TO"
        f" ('{oldest + ONE_DAY}')"
    )
    await db.pool.execute("CREATE INDEX ON bench_job_run (tenant_id, job, started_at DESC, id DESC)")
    await db.pool.execute(
        "INSERT INTO bench_job_run SELECT * FROM platform.job_run WHERE started_at >= $1::date"
        " AND started_at < $1::date + 1",
        oldest,
    )
    started = time.perf_counter()
    await db.pool.execute("ALTER TABLE bench_job_run DETACH PARTITION bench_job_run_oldest")
    await db.pool.execute("DROP TABLE bench_job_run_oldest")
    report(Figure("prune one day's records, DROP PARTITION", size, time.perf_counter() - started, "s", goal_below=60))
    await db.pool.execute("DROP TABLE bench_job_run")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operators", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.operators, arguments.days))
