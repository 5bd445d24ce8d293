"""``ispb jobs list`` and ``ispb jobs run NAME [--tenant SLUG] [--today YYYY-MM-DD]`` (DESIGN 3)."""

from datetime import UTC, date, datetime

import click
from croniter import croniter
from rich.table import Table

from ispb_platform.cli.common import Failed, console, database, run, settings
from ispb_platform.jobs.job import JobScope, ScheduledJob
from ispb_platform.jobs.registry import SCHEDULE, UnknownJob, get_job
from ispb_platform.jobs.runs import RunRecord, Trigger, execute, job_key, last_runs
from ispb_platform.settings import Settings
from ispb_tenants import Database, TenantRef, get_tenant, list_tenants


@click.group()
def jobs() -> None:
    """The schedule and its run records."""


@jobs.command(name="list")
def list_() -> None:
    """Show every scheduled job with its last and next run."""
    config = settings()

    async def main() -> dict[str, RunRecord]:
        async with database(config) as db:
            return await last_runs(db)

    last = run(main)
    now = datetime.now(UTC)
    table = Table("job", "when (UTC cron)", "scope", "last run", "outcome", "next run")
    for job in SCHEDULE:
        record = last.get(job.name)
        next_run = croniter(job.cron, now).get_next(datetime)
        table.add_row(
            job.name,
            job.cron,
            job.scope.value,
            record.started_at.strftime("%Y-%m-%d %H:%M:%S") if record else "never",
            _outcome(record) if record else "",
            next_run.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


def _outcome(record: RunRecord) -> str:
    if record.status == "failed":
        return f"failed: {record.error or ''}"[:60]
    counts = ", ".join(f"{k}={v}" for k, v in record.counts.items())
    return f"{record.status} {counts}".strip()


@jobs.command(name="run")
@click.argument("name")
@click.option("--tenant", "slug", help="Run for this tenant only (tenant jobs run for every tenant without it).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Run as if today were this date.")
def run_(name: str, slug: str | None, today: datetime | None) -> None:
    """Run one job now, as the worker would, and print its run record(s)."""
    try:
        job = get_job(name)
    except UnknownJob as error:
        raise Failed(str(error)) from None
    if job.scope is JobScope.PLATFORM and slug:
        raise Failed(f"{job.name} is a platform job: --tenant does not apply")
    config = settings()
    day = today.date() if today else None

    async def main() -> list[RunRecord | str]:
        async with database(config) as db:
            targets = await _targets(db, job, slug)
            return [await _run_one(db, job, tenant, day, config) for tenant in targets]

    outcomes = run(main)
    for outcome in outcomes:
        console.print(_describe(outcome) if isinstance(outcome, RunRecord) else f"[red]{outcome}[/]")
    if not outcomes:
        console.print("no active tenants: nothing to run")
    if any(not isinstance(o, RunRecord) for o in outcomes):
        raise SystemExit(1)


async def _targets(db: Database, job: ScheduledJob, slug: str | None) -> list[TenantRef | None]:
    if job.scope is JobScope.PLATFORM:
        return [None]
    if slug:
        return [await get_tenant(db, slug)]
    return [info.ref for info in await list_tenants(db, active_only=True)]


async def _run_one(
    db: Database, job: ScheduledJob, tenant: TenantRef | None, day: date | None, config: Settings
) -> RunRecord | str:
    """Run for one target; a failure is reported and the other tenants still run."""
    period = f"manual-{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}"
    try:
        return await execute(
            db,
            job,
            tenant=tenant,
            trigger=Trigger.MANUAL,
            key=job_key(job, tenant, period),
            today=day,
            secret_key=config.secret_key or "",
            outbound=config.outbound,
            public_ipv4=config.public_ipv4,
            data_dir=config.data_dir,
        )
    except Exception as error:  # recorded as a failed run by execute(); shown, and the next tenant runs
        return f"{job.name} failed for {tenant.slug if tenant else 'platform'}: {type(error).__name__}: {error}"


def _describe(record: RunRecord) -> str:
    took = (record.finished_at - record.started_at).total_seconds() * 1000 if record.finished_at else 0
    counts = ", ".join(f"{k}={v}" for k, v in record.counts.items()) or "-"
    return (
        f"run #{record.id} {record.job} tenant={record.tenant_slug or 'platform'} today={record.today} "
        f"status={record.status} counts: {counts} ({took:.0f} ms) key={record.job_key}"
    )
