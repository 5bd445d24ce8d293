"""Taking a backup: one operator's schema (``pg_dump -n``) or the whole database, sealed, to the destination.

The figures of the dumped tables (``figures.py``) are read in a repeatable-read transaction that exports its
snapshot, and pg_dump runs with ``--snapshot`` of it: the figures describe exactly the dump, which the restore
test relies on. Each backup is a ``platform.backup`` row: ``running`` before the dump starts (a scheduled
backup of a day is taken once: the unique index finds a second tick's row), then ``succeeded`` with its size or
``failed`` with the reason; a failed or interrupted dump leaves no file (``storage.py``).
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg

from ispb_platform.backups.figures import table_figures
from ispb_platform.backups.pg_process import dump_stream
from ispb_platform.backups.sealed_stream import seal_stream
from ispb_platform.backups.storage import Destination
from ispb_platform.backups.tools import find_tools
from ispb_platform.secrets_box import key_id
from ispb_tenants import Database, TenantRef

SUFFIX = ".ispb-backup"
INTERRUPTED = "interrupted: the process taking it stopped (no file was kept)"
STALE_AFTER_S = 6 * 3600
"""Longer than any backup job's timeout (``backup.full``: 4 h): a row still running after it lost its worker."""
COMPRESSION = "6"
"""pg_dump's zlib level in the custom format: most of level 9's size at a fraction of its time."""


@dataclass(frozen=True)
class Taken:
    backup_id: int
    object_key: str
    size_bytes: int
    tables: int
    rows: int


async def server_major(db: Database) -> int:
    return int(await db.fetchval("SHOW server_version_num")) // 10000


async def _tenant_infos(connection: asyncpg.Connection, schemas: list[str] | None) -> list[dict[str, object]]:
    rows = await connection.fetch(
        "SELECT id, slug, name, timezone, currency, schema_name AS schema FROM platform.tenant"
        " WHERE $1::text[] IS NULL OR schema_name = ANY($1::text[]) ORDER BY id",
        schemas,
    )
    return [dict(row) for row in rows]


async def take_backup(
    db: Database,
    destination: Destination,
    *,
    secret_key: str,
    tenant: TenantRef | None,
    trigger: str,
    period: date,
    now: datetime | None = None,
    on_started: Callable[[int], Awaitable[None]] | None = None,
) -> Taken | None:
    """Back up ``tenant``'s schema (or, with None, the whole database). None when the scheduled backup of
    ``period`` was already taken (or is being taken by another worker). ``on_started`` gets the new row's id
    before the dump starts (a requested backup notes it, so a dead worker's row can be closed)."""
    major = await server_major(db)
    tools = find_tools(major)  # before the row: a mismatch is an error, never a file
    now = now or datetime.now(UTC)
    kind = "tenant" if tenant else "full"
    name = tenant.slug if tenant else "full"
    folder = f"tenants/{tenant.slug}" if tenant else "full"
    async with db.platform() as connection:
        # a backup still "running" long after any dump could take was cut off with its worker: it failed
        await connection.execute(
            "UPDATE backup SET status = 'failed', finished_at = clock_timestamp(), error = $1"
            " WHERE status = 'running' AND started_at < clock_timestamp() - make_interval(secs => $2)",
            INTERRUPTED, STALE_AFTER_S,
        )  # fmt: skip
        backup_id = await connection.fetchval(
            "INSERT INTO backup (kind, tenant_id, tenant_slug, period, trigger, destination, object_key,"
            " server_major, key_id) VALUES ($1, $2, $3, $4, $5, $6, 'pending:' || gen_random_uuid(), $7, $8)"
            " ON CONFLICT DO NOTHING RETURNING id",
            kind, tenant.id if tenant else None, tenant.slug if tenant else None, period, trigger,
            destination.name, major, key_id(secret_key),
        )  # fmt: skip
        if backup_id is None:
            return None
        object_key = f"{folder}/{name}-{now:%Y%m%dT%H%M%SZ}-{backup_id}{SUFFIX}"
        await connection.execute("UPDATE backup SET object_key = $2 WHERE id = $1", backup_id, object_key)
    try:
        if on_started is not None:
            await on_started(backup_id)
        taken = await _dump(db, destination, tools.pg_dump, secret_key, tenant, backup_id, object_key, major, now)
    except BaseException as error:
        async with db.platform() as connection:
            await connection.execute(
                "UPDATE backup SET status = 'failed', finished_at = clock_timestamp(), error = $2 WHERE id = $1",
                backup_id, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__,
            )  # fmt: skip
        raise
    return taken


async def _dump(
    db: Database,
    destination: Destination,
    pg_dump: Path,
    secret_key: str,
    tenant: TenantRef | None,
    backup_id: int,
    object_key: str,
    major: int,
    now: datetime,
) -> Taken:
    snapshot_connection = await asyncpg.connect(db.dsn)
    try:
        async with snapshot_connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await snapshot_connection.fetchval("SELECT pg_export_snapshot()")
            schemas = [tenant.schema] if tenant else await _all_schemas(snapshot_connection)
            figures = await table_figures(snapshot_connection, schemas)
            tenants = await _tenant_infos(snapshot_connection, [tenant.schema] if tenant else None)
            header = {
                "format": 1,
                "kind": "tenant" if tenant else "full",
                "backup_id": backup_id,
                "created_at": now.isoformat(),
                "server_major": major,
                "schemas": schemas,
                "tenants": tenants,
                "figures": figures,
            }
            arguments = ["--format=custom", f"--compress={COMPRESSION}", f"--snapshot={snapshot}"]
            arguments += [f"--schema={tenant.schema}"] if tenant else []
            plain = dump_stream(pg_dump, db.dsn, arguments)
            size = await destination.write(object_key, seal_stream(secret_key, header, plain))
    finally:
        await snapshot_connection.close()
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE backup SET status = 'succeeded', finished_at = clock_timestamp(), size_bytes = $2,"
            " figures = $3::jsonb WHERE id = $1",
            backup_id, size, json.dumps(figures),
        )  # fmt: skip
    rows = sum(int(f["rows"]) for f in figures.values())
    return Taken(backup_id, object_key, size, len(figures), rows)


async def _all_schemas(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast')"
        " AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%' ORDER BY 1"
    )
    return [row["nspname"] for row in rows]


async def close_interrupted(db: Database, backup_ids: list[int]) -> int:
    """Mark the backups ``backup_ids`` failed if they are still running: their worker died (it never renamed a
    file into place, so there is no backup to keep). How many were closed."""
    async with db.platform() as connection:
        rows = await connection.fetch(
            "UPDATE backup SET status = 'failed', finished_at = clock_timestamp(), error = $2"
            " WHERE id = ANY($1::bigint[]) AND status = 'running' RETURNING id",
            backup_ids, INTERRUPTED,
        )  # fmt: skip
    return len(rows)
