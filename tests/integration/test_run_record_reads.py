"""The reads of run records that walk the history each take one probe of ``job_run_tenant_job_started_idx``
(platform migration 0014) per job: the Automation page, the roll-up of a quiet run, the pruning's "keep each
job's latest". Their cost then stays flat however long the history (figures: tests/bench/run_records.py)."""

import json
from datetime import date
from typing import Any

from ispb_platform.jobs.job import JobScope
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import _LAST_FOR_TENANT, _LATEST_OTHER, last_runs_for
from ispb_platform.maintenance.jobs import _PRUNE_RUN_RECORDS
from ispb_tenants import Database

INDEX = "job_run_tenant_job_started_idx"


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def _plan(db: Database, sql: str, *args: object) -> list[dict[str, Any]]:
    """The plan's nodes, with sequential scans the planner's last resort: the shared test database's job_run is
    small, where reading it whole is cheapest; the question is whether the index answers the query."""
    async with db.platform() as connection:
        await connection.execute("SET LOCAL enable_seqscan = off")
        return _nodes(json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))[0]["Plan"])


async def _runs(db: Database, tenant_id: int, rows: list[tuple[str, str]]) -> list[int]:
    async with db.platform() as connection:
        return [
            await connection.fetchval(
                "INSERT INTO job_run (job, tenant_id, job_key, today, trigger, status, started_at, counts)"
                " VALUES ($1, $2, $1 || ':' || $3, current_date, 'schedule', 'succeeded', now() - $3::interval,"
                " '{\"sent\": 1}') RETURNING id",
                job,
                tenant_id,
                ago,
            )
            for job, ago in rows
        ]


async def test_the_automation_page_reads_each_jobs_newest_run_of_the_operator_by_one_index_probe(
    db: Database, make_tenant
):
    tenant, other = await make_tenant("runs"), await make_tenant("runs")
    newest_outbox, _, newest_bills, _ = await _runs(
        db,
        tenant.id,
        [
            ("notify.send_outbox", "1 minute"),
            ("notify.send_outbox", "2 hours"),
            ("billing.generate_bills", "3 hours"),
            ("billing.generate_bills", "1 day"),
        ],
    )
    await _runs(db, other.id, [("notify.send_outbox", "10 seconds")])  # another operator's newer run

    last = await last_runs_for(db, tenant.id)

    assert last["notify.send_outbox"].id == newest_outbox
    assert last["billing.generate_bills"].id == newest_bills
    assert "netsync.olt_sync" not in last
    tenant_jobs = [job.name for job in SCHEDULE if job.scope is JobScope.TENANT]
    platform_jobs = [job.name for job in SCHEDULE if job.scope is JobScope.PLATFORM]
    nodes = await _plan(db, _LAST_FOR_TENANT, tenant_jobs, tenant.id, platform_jobs)
    assert INDEX in {node.get("Index Name") for node in nodes}
    assert not [node for node in nodes if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "job_run"]


async def test_the_roll_up_of_a_quiet_run_and_the_pruning_find_the_latest_run_by_the_index(db: Database, make_tenant):
    tenant = await make_tenant("runs")
    [run_id] = await _runs(db, tenant.id, [("netsync.usage_rollup", "1 minute")])

    for sql, args in ((_LATEST_OTHER, (run_id,)), (_PRUNE_RUN_RECORDS, (date(2026, 12, 1), 7, 90))):
        nodes = await _plan(db, sql, *args)
        assert INDEX in {node.get("Index Name") for node in nodes}, sql
