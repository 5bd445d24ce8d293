"""What a killed restore or backup leaves behind, removed by the daily ``backup.cleanup``.

A restore (and the weekly restore test) works in a scratch database and, for an operator, a staging schema in
the live database; it drops both when it ends, whether it succeeded or failed. A worker killed in the middle
(SIGKILL, OOM, a lost machine) never does, nor does a backup killed mid-dump remove its ``<name>.part`` file.
The scratch database and the staging schema carry the time they were made in their names
(``ispb_scratch_<unix time>_<random>``, ``restore_<unix time>_<random>``), so this removes those made more than
`LEFTOVER_AFTER` ago: longer than any backup or restore may run (``backup.verify``'s 6-hour timeout), so never
one in use. Names without a time (made before this) are left alone.
"""

import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ispb_tenants import Database
from ispb_tenants.slugs import quote_ident

LEFTOVER_AFTER = timedelta(days=1)
_TIMED = re.compile(r"^(?:ispb_scratch|restore)_(\d{9,11})_[0-9a-f]{8}$")


def scratch_database_name(now: datetime | None = None) -> str:
    return f"ispb_scratch_{_stamp(now)}_{secrets.token_hex(4)}"


def staging_schema_name(now: datetime | None = None) -> str:
    return f"restore_{_stamp(now)}_{secrets.token_hex(4)}"


def _stamp(now: datetime | None) -> int:
    return int((now or datetime.now(UTC)).timestamp())


def made_at(name: str) -> datetime | None:
    """When a scratch database or staging schema was made, from its name; None for any other name."""
    found = _TIMED.match(name)
    return datetime.fromtimestamp(int(found[1]), UTC) if found else None


def _stale(name: str, now: datetime) -> bool:
    made = made_at(name)
    return made is not None and made < now - LEFTOVER_AFTER


async def remove_leftovers(db: Database, *, backups_dir: Path | None, now: datetime) -> dict[str, int]:
    """Drop the stale scratch databases and staging schemas, and remove stale ``.part`` files under
    ``backups_dir`` (this server's backup directory); how many of each."""
    databases = await db.pool.fetch(r"SELECT datname FROM pg_database WHERE datname LIKE 'ispb\_scratch\_%'")
    schemas = await db.pool.fetch(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'restore\_%'")
    dropped_databases = dropped_schemas = 0
    for row in databases:
        if _stale(row["datname"], now):
            await db.pool.execute(f"DROP DATABASE IF EXISTS {quote_ident(row['datname'])} WITH (FORCE)")
            dropped_databases += 1
    for row in schemas:
        if _stale(row["nspname"], now):
            await db.pool.execute(f"DROP SCHEMA IF EXISTS {quote_ident(row['nspname'])} CASCADE")
            dropped_schemas += 1
    parts = await asyncio.to_thread(_remove_parts, backups_dir, now) if backups_dir is not None else 0
    return {"scratch_databases_dropped": dropped_databases, "staging_schemas_dropped": dropped_schemas,
            "part_files_removed": parts}  # fmt: skip


def _remove_parts(root: Path, now: datetime) -> int:
    """``.part`` files (a backup being written, or one whose writer died) not written to for a day."""
    if not root.is_dir():
        return 0
    removed = 0
    for part in root.rglob("*.part"):
        try:
            if datetime.fromtimestamp(part.stat().st_mtime, UTC) < now - LEFTOVER_AFTER:
                part.unlink()
                removed += 1
        except FileNotFoundError:  # another cleanup, or its writer finished meanwhile
            continue
    return removed
