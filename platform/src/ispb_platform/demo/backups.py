"""The demo's backups: each demo operator's data backed up once a day and the restore test run on them, so
Settings -> Backup Settings shows a last backup and a passed restore test from the start (issue 19)."""

from datetime import UTC, datetime
from pathlib import Path

from ispb_platform.backups.jobs import verify_latest
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.secrets_box import accepted_old_keys
from ispb_tenants import Database, TenantRef


async def prepare_backups(db: Database, tenants: list[TenantRef], *, secret_key: str, data_dir: Path) -> None:
    """Back up each operator (the scheduled job: once a day) and, when a backup has no restore test yet, run it."""
    now = datetime.now(UTC)
    for tenant in tenants:
        await execute(
            db, get_job("backup.customer_data"), tenant=tenant, trigger=Trigger.MANUAL, key="demo-backup",
            secret_key=secret_key, data_dir=data_dir, now=now,
        )  # fmt: skip
    untested = await db.fetchval(
        "SELECT count(*) FROM platform.backup WHERE status = 'succeeded' AND verified_at IS NULL"
        " AND tenant_id = ANY($1::int[])",
        [t.id for t in tenants],
    )
    if untested:  # the demo's own operators only: the database may hold others' backups (tests share one)
        _, problems = await verify_latest(
            db, data_dir=data_dir, keys=(secret_key, *accepted_old_keys()), tenant_slugs={t.slug for t in tenants}
        )
        if problems:
            raise RuntimeError("the demo's backups did not restore as dumped: " + "; ".join(problems))
