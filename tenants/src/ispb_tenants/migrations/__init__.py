"""Per-schema SQL migrations: the platform schema and every tenant schema.

Why plain SQL and not Piccolo's migration manager: Piccolo's ``migration`` bookkeeping table is not
schema-aware (DESIGN 9), and the constraints that keep money right (checks, triggers, partitions) are SQL
anyway. Piccolo tables in ``ispb_tenants.tables`` describe the same columns for queries; a test checks that
they match what the migrations create.

Each schema records what it has applied in its own ``schema_migration`` table, with a checksum, so an edited
migration is refused instead of silently diverging. All pending migrations of one schema run in one
transaction under an advisory lock: a schema is either fully migrated or untouched, and two processes
migrating at once wait for each other.
"""

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ispb_tenants.errors import MigrationError
from ispb_tenants.slugs import quote_ident

PLATFORM_SCHEMA = "platform"

# A plain connection or one borrowed from the pool: both speak the same API.
Connection = asyncpg.Connection | PoolConnectionProxy

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Scope(StrEnum):
    PLATFORM = "platform"
    TENANT = "tenant"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(scope: Scope) -> tuple[Migration, ...]:
    """The migrations shipped for ``scope``, in version order."""
    found = []
    for entry in (resources.files(__package__) / scope.value).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{scope} migrations must be numbered 0001, 0002, ... without gaps: {versions}")
    return tuple(found)


def search_path_for(schema: str) -> str:
    """The search_path a tenant (or the platform) transaction runs with."""
    if schema == PLATFORM_SCHEMA:
        return quote_ident(PLATFORM_SCHEMA)
    return f"{quote_ident(schema)}, {quote_ident(PLATFORM_SCHEMA)}"


async def apply_pending(conn: Connection, schema: str, migrations: tuple[Migration, ...]) -> list[int]:
    """Apply the migrations ``schema`` lacks; return their versions. Must run inside a transaction.

    Creates the schema if needed, so provisioning a tenant is this call plus its ``tenant`` row.
    """
    if not conn.is_in_transaction():
        raise MigrationError("migrations must run inside a transaction")
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ispb.migrate'), hashtext($1))", schema)
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    await conn.execute(f"SET LOCAL search_path TO {search_path_for(schema)}")
    await conn.execute(
        f"CREATE TABLE IF NOT EXISTS {quote_ident(schema)}.schema_migration ("
        " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied = {
        row["version"]: row["checksum"]
        for row in await conn.fetch(f"SELECT version, checksum FROM {quote_ident(schema)}.schema_migration")
    }
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it was applied to "
                    f"schema {schema}; add a new migration instead of editing an applied one"
                )
            continue
        await conn.execute(migration.sql)
        await conn.execute(
            f"INSERT INTO {quote_ident(schema)}.schema_migration (version, name, checksum) VALUES ($1, $2, $3)",
            migration.version,
            migration.name,
            migration.checksum,
        )
        done.append(migration.version)
    unknown = sorted(set(applied) - {m.version for m in migrations})
    if unknown:
        raise MigrationError(f"schema {schema} has migrations {unknown} that this version of ISPB does not know")
    return done


async def current_version(conn: Connection, schema: str) -> int:
    """The highest migration applied to ``schema`` (0 when none)."""
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{quote_ident(schema)}.schema_migration")
    if not exists:
        return 0
    version = await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {quote_ident(schema)}.schema_migration")
    return int(version)
