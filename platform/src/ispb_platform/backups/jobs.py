"""The backup jobs of the schedule (DESIGN 3): daily per-operator and full backups, retention, and the weekly
restore test that makes a backup count."""

from collections.abc import Collection
from pathlib import Path

from ispb_platform.backups.destinations import current_destination, destination_named, load_settings
from ispb_platform.backups.dump import take_backup
from ispb_platform.backups.leftovers import remove_leftovers
from ispb_platform.backups.queries import latest_good, record_verification
from ispb_platform.backups.restore import verify_backup
from ispb_platform.backups.retention import Candidate, Kept, to_delete
from ispb_platform.backups.storage import BackupStorageError
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.secrets_box import accepted_old_keys
from ispb_tenants import Database


def _keys(ctx: JobContext) -> tuple[str, ...]:
    return (ctx.secret_key, *accepted_old_keys())


async def customer_data(ctx: JobContext) -> Counts:
    """``backup.customer_data``: the operator's schema, once a day (a second run finds the day's backup)."""
    tenant = ctx.require_tenant()
    destination = await current_destination(ctx.db, data_dir=ctx.data_dir, secret_key=ctx.secret_key)
    taken = await take_backup(
        ctx.db, destination, secret_key=ctx.secret_key, tenant=tenant, trigger="schedule", period=ctx.today,
        now=ctx.now,
    )  # fmt: skip
    if taken is None:
        return {"already_taken": 1}
    return {"bytes": taken.size_bytes, "tables": taken.tables, "rows": taken.rows}


async def full(ctx: JobContext) -> Counts:
    """``backup.full``: the whole database (platform and every operator), once a day, off-peak."""
    destination = await current_destination(ctx.db, data_dir=ctx.data_dir, secret_key=ctx.secret_key)
    taken = await take_backup(
        ctx.db, destination, secret_key=ctx.secret_key, tenant=None, trigger="schedule", period=ctx.today, now=ctx.now
    )
    if taken is None:
        return {"already_taken": 1}
    return {"bytes": taken.size_bytes, "tables": taken.tables, "rows": taken.rows}


async def cleanup(ctx: JobContext) -> Counts:
    """``backup.cleanup``: remove the backups retention no longer keeps (each operator's own setting, the
    platform's for full backups); never the newest, nor the newest that passed its restore test. Also what
    killed restores and backups left behind (``leftovers.py``)."""
    settings = await load_settings(ctx.db)
    full_keep = Kept(settings.full_keep_daily, settings.full_keep_weekly, settings.full_keep_monthly)
    async with ctx.db.platform() as connection:
        rows = await connection.fetch(
            "SELECT b.id, b.kind, b.tenant_slug, b.started_at, b.verify_ok, b.destination, b.object_key,"
            " t.backup_keep_daily, t.backup_keep_weekly, t.backup_keep_monthly"
            " FROM backup b LEFT JOIN tenant t ON t.id = b.tenant_id WHERE b.status = 'succeeded'"
        )
    groups: dict[tuple[str, str], list[Candidate]] = {}
    keeps: dict[tuple[str, str], Kept] = {}
    where = {}
    for row in rows:
        group = (row["kind"], row["tenant_slug"] or "")
        groups.setdefault(group, []).append(Candidate(row["id"], row["started_at"], row["verify_ok"]))
        where[row["id"]] = (row["destination"], row["object_key"])
        keeps[group] = (
            full_keep
            if row["kind"] == "full" or row["backup_keep_daily"] is None  # a dropped operator: the platform's rule
            else Kept(row["backup_keep_daily"], row["backup_keep_weekly"], row["backup_keep_monthly"])
        )
    doomed = [backup_id for group, found in groups.items() for backup_id in to_delete(found, keeps[group])]
    removed = failed = 0
    for backup_id in doomed:
        destination_name, key = where[backup_id]
        try:
            destination = await destination_named(
                ctx.db, destination_name, data_dir=ctx.data_dir, secret_key=ctx.secret_key
            )
            await destination.delete(key)
        except (BackupStorageError, RuntimeError):
            failed += 1  # kept as succeeded: the next run tries again
            continue
        async with ctx.db.platform() as connection:
            await connection.execute(
                "UPDATE backup SET status = 'deleted' WHERE id = $1 AND status = 'succeeded'", backup_id
            )
        removed += 1
    backups_dir = ctx.data_dir / "backups" if ctx.data_dir is not None else None
    leftovers = await remove_leftovers(ctx.db, backups_dir=backups_dir, now=ctx.now)
    return {"removed": removed, "not_removed": failed, "kept": len(rows) - removed, **leftovers}


async def verify(ctx: JobContext) -> Counts:
    """``backup.verify``: restore the newest backup of every operator and the newest full backup into a scratch
    database and compare each table's rows and checksum with the figures taken at the dump. The outcome is
    recorded on the backup (the Backup Settings page shows it); a mismatch fails the run."""
    passed, problems = await verify_latest(ctx.db, data_dir=ctx.data_dir, keys=_keys(ctx))
    if problems:
        raise RuntimeError(f"{len(problems)} backup(s) did not restore as dumped: " + "; ".join(problems[:5]))
    return {"verified": passed}


async def verify_latest(
    db: Database, *, data_dir: Path | None, keys: tuple[str, ...], tenant_slugs: Collection[str] | None = None
) -> tuple[int, list[str]]:
    """The restore test of each newest good backup (only those of ``tenant_slugs`` when given: the demo tests
    its own operators' and no one else's); how many passed, and a line per failure. Each result is recorded."""
    passed = 0
    problems: list[str] = []
    for backup in await latest_good(db):
        if tenant_slugs is not None and backup.tenant_slug not in tenant_slugs:
            continue
        destination = await destination_named(db, backup.destination, data_dir=data_dir, secret_key=keys[0])
        try:
            result = await verify_backup(db, destination, backup.object_key, keys, backup.figures)
        except Exception as error:  # a file that does not open or restore is a failed test, recorded as such
            ok, detail = False, f"{type(error).__name__}: {error}"
        else:
            ok, detail = result.ok, result.detail
        await record_verification(db, backup.id, ok, detail)
        if ok:
            passed += 1
        else:
            problems.append(f"{backup.file_name}: {detail}")
    return passed, problems
