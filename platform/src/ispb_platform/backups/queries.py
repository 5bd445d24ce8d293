"""Reading backup rows: lists for the CLI and the Backup Settings page, the latest good ones for the restore
test, the candidates of retention."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ispb_platform.backups.retention import Kept
from ispb_tenants import Database


@dataclass(frozen=True)
class BackupRow:
    id: int
    kind: str
    tenant_id: int | None
    tenant_slug: str | None
    period: date
    trigger: str
    destination: str
    object_key: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    size_bytes: int | None
    error: str | None
    verified_at: datetime | None
    verify_ok: bool | None
    verify_detail: str | None
    figures: dict[str, Any]

    @property
    def file_name(self) -> str:
        return self.object_key.rsplit("/", 1)[-1]


_COLUMNS = (
    "id, kind, tenant_id, tenant_slug, period, trigger, destination, object_key, status, started_at, finished_at,"
    " size_bytes, error, verified_at, verify_ok, verify_detail, figures"
)


def _row(record: Any) -> BackupRow:
    values = dict(record)
    if isinstance(values["figures"], str):
        values["figures"] = json.loads(values["figures"])
    return BackupRow(**values)


async def list_backups(
    db: Database, *, tenant_id: int | None = None, kind: str | None = None, limit: int = 100
) -> list[BackupRow]:
    """Newest first; of one operator (``tenant_id``) or all; removed ones left out."""
    async with db.platform() as connection:
        rows = await connection.fetch(
            f"SELECT {_COLUMNS} FROM backup WHERE status <> 'deleted'"  # noqa: S608 (constants)
            " AND ($1::int IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR kind = $2)"
            " ORDER BY started_at DESC, id DESC LIMIT $3",
            tenant_id, kind, limit,
        )  # fmt: skip
    return [_row(r) for r in rows]


async def get_backup(db: Database, backup_id: int) -> BackupRow | None:
    async with db.platform() as connection:
        row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM backup WHERE id = $1", backup_id)  # noqa: S608
    return _row(row) if row else None


async def find_by_file(db: Database, name: str) -> BackupRow | None:
    """A backup by its file name or object key (what ``ispb backup list`` prints)."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            f"SELECT {_COLUMNS} FROM backup WHERE (object_key = $1 OR object_key LIKE '%/' || $1)"  # noqa: S608
            " AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
            name,
        )
    return _row(row) if row else None


async def latest_good(db: Database) -> list[BackupRow]:
    """The newest succeeded backup of every operator and the newest full one: what the restore test takes."""
    async with db.platform() as connection:
        rows = await connection.fetch(
            f"SELECT DISTINCT ON (kind, coalesce(tenant_slug, '')) {_COLUMNS} FROM backup"  # noqa: S608
            " WHERE status = 'succeeded' ORDER BY kind, coalesce(tenant_slug, ''), started_at DESC, id DESC"
        )
    return [_row(r) for r in rows]


async def record_verification(db: Database, backup_id: int, ok: bool, detail: str) -> None:
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE backup SET verified_at = clock_timestamp(), verify_ok = $2, verify_detail = $3 WHERE id = $1",
            backup_id, ok, detail,
        )  # fmt: skip


async def tenant_retention(db: Database, tenant_id: int) -> Kept:
    """How many of the operator's own backups retention keeps."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            "SELECT backup_keep_daily, backup_keep_weekly, backup_keep_monthly FROM tenant WHERE id = $1", tenant_id
        )
    if row is None:
        raise LookupError(tenant_id)
    return Kept(row["backup_keep_daily"], row["backup_keep_weekly"], row["backup_keep_monthly"])


async def save_tenant_retention(db: Database, tenant_id: int, kept: Kept) -> None:
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE tenant SET backup_keep_daily = $2, backup_keep_weekly = $3, backup_keep_monthly = $4,"
            " updated_at = now() WHERE id = $1",
            tenant_id, kept.daily, kept.weekly, kept.monthly,
        )  # fmt: skip
