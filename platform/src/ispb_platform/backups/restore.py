"""Restoring a backup: the whole database, one operator into its own schema, or one operator as a new one;
and the restore test (``backup.verify``), which restores into a scratch database and compares figures.

An operator is restored without disturbing the others: its backup is first restored into a scratch database,
its schema renamed there to a staging name, copied into the live database under that name (pg_dump piped to
pg_restore, no file), and then swapped in within one short transaction (drop the current schema, rename the
staging one). Until that moment the operator's current data stays in place and every other operator works
on. Restored as a new slug, the schema gets a new ``platform.tenant`` row (name, timezone and currency from
the backup, the name marked "(restored copy)" so the admin console, the panel's header and its messages never
pass it off as the original) and the sealed secrets are sealed again for the new operator's id (they are bound
to it, ``secrets_box``). Either way the schema is then migrated to the current version.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from ispb_platform.backups.figures import compare, table_figures
from ispb_platform.backups.leftovers import scratch_database_name, staging_schema_name
from ispb_platform.backups.pg_process import BackupFailed, dump_stream, replace_database, restore_stream
from ispb_platform.backups.sealed_stream import open_stream
from ispb_platform.backups.storage import Destination
from ispb_platform.backups.tools import PgTools, find_tools
from ispb_platform.secrets.queries import SEALED_COLUMNS, SealedValue, replace_values, stale_values
from ispb_platform.secrets_box import Binding, SealError, reveal, seal
from ispb_tenants import Database, TenantRef, get_tenant, migrate_tenant, validate_slug
from ispb_tenants.slugs import quote_ident, schema_for_slug

_RESTORE_ARGS = ("--no-owner", "--no-privileges", "--exit-on-error")
REBIND_BATCH = 1000


@dataclass(frozen=True)
class Verified:
    ok: bool
    detail: str
    tables: int


def _with_database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


@contextlib.asynccontextmanager
async def scratch_database(db: Database) -> AsyncIterator[str]:
    """A new empty database on the same server for the body, dropped after; yields its URL."""
    name = scratch_database_name()  # timed: a killed worker's is dropped a day later (leftovers.py)
    await db.fetchval(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield _with_database(db.dsn, name)
    finally:
        await db.fetchval(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _tools(db: Database, header: dict[str, Any]) -> PgTools:
    major = int(await db.fetchval("SHOW server_version_num")) // 10000
    if int(header["server_major"]) > major:
        raise BackupFailed(
            f"this backup comes from PostgreSQL {header['server_major']}; this server runs {major}: restore it on"
            f" a server of version {header['server_major']} or newer"
        )
    return find_tools(major)


async def restore_into(
    db: Database, destination: Destination, key: str, keys: tuple[str, ...], dsn: str, *, schema: str | None = None
) -> dict[str, Any]:
    """Restore the backup file ``key`` into the (empty) database at ``dsn``; only ``schema`` when given."""
    opened = await open_stream(keys, destination.read(key))
    tools = await _tools(db, opened.header)
    arguments = list(_RESTORE_ARGS)
    if schema and opened.header["kind"] == "full":
        # pg_restore --schema restores the schema's objects but not the schema itself
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f"CREATE SCHEMA {quote_ident(schema)}")
        finally:
            await connection.close()
        arguments.append(f"--schema={schema}")
    await restore_stream(tools.pg_restore, dsn, arguments, opened.plain)
    return opened.header


async def verify_backup(
    db: Database, destination: Destination, key: str, keys: tuple[str, ...], expected: dict[str, Any]
) -> Verified:
    """Restore ``key`` into a scratch database and compare every table with the figures taken at the dump."""
    async with scratch_database(db) as dsn:
        header = await restore_into(db, destination, key, keys, dsn)
        connection = await asyncpg.connect(dsn)
        try:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                found = await table_figures(connection, list(header["schemas"]))
        finally:
            await connection.close()
    problems = compare(expected or header["figures"], found)
    rows = sum(int(f["rows"]) for f in found.values())
    if problems:
        return Verified(False, "; ".join(problems[:10]) + (" ..." if len(problems) > 10 else ""), len(found))
    return Verified(True, f"{len(found)} tables and {rows:,} rows restored as dumped", len(found))


def source_tenant(header: dict[str, Any], slug: str | None) -> dict[str, Any]:
    """The operator of a backup to restore: the only one of an operator's backup, or ``slug`` of a full one."""
    tenants: list[dict[str, Any]] = header["tenants"]
    if header["kind"] == "tenant" and (slug is None or tenants[0]["slug"] == slug):
        return tenants[0]
    found = [t for t in tenants if t["slug"] == slug]
    if not found:
        raise BackupFailed(
            f"this backup has no operator {slug!r}; it has {', '.join(t['slug'] for t in tenants) or 'none'}"
            if slug
            else "this is a backup of the whole database: name the operator to restore with --tenant SLUG"
        )
    return found[0]


async def restore_tenant(
    db: Database,
    destination: Destination,
    key: str,
    *,
    secret_key: str,
    old_keys: tuple[str, ...] = (),
    slug: str | None = None,
    as_slug: str | None = None,
) -> TenantRef:
    """Restore one operator from ``key``: over its current schema, or (``as_slug``) as a new operator."""
    keys = (secret_key, *old_keys)
    if as_slug is not None:
        validate_slug(as_slug)
    header = (await open_stream(keys, destination.read(key))).header
    source = source_tenant(header, slug)
    staging = staging_schema_name()
    async with scratch_database(db) as scratch:
        await restore_into(db, destination, key, keys, scratch, schema=source["schema"])
        connection = await asyncpg.connect(scratch)
        try:
            await connection.execute(f"ALTER SCHEMA {quote_ident(source['schema'])} RENAME TO {quote_ident(staging)}")
        finally:
            await connection.close()
        tools = await _tools(db, header)
        copy = dump_stream(tools.pg_dump, scratch, ["--format=custom", "--compress=0", f"--schema={staging}"])
        await restore_stream(tools.pg_restore, db.dsn, [*_RESTORE_ARGS, "--single-transaction"], copy)
    try:
        tenant = await _swap_in(db, staging, source, as_slug)
    except BaseException:
        await db.fetchval(f"DROP SCHEMA IF EXISTS {quote_ident(staging)} CASCADE")
        raise
    result = await migrate_tenant(db, tenant)
    if not result.ok:
        raise BackupFailed(f"restored, but migrating the schema to the current version failed: {result.error}")
    if int(source["id"]) != tenant.id:
        await rebind_secrets(db, tenant, int(source["id"]), secret_key, old_keys)
    return tenant


async def _swap_in(db: Database, staging: str, source: dict[str, Any], as_slug: str | None) -> TenantRef:
    async with db.platform() as connection:
        if as_slug is None:
            current = await connection.fetchrow(
                "SELECT slug, schema_name FROM tenant WHERE slug = $1 FOR UPDATE", source["slug"]
            )
            if current is None:
                raise BackupFailed(
                    f"operator {source['slug']!r} does not exist any more: restore it as a new one with --as SLUG"
                )
            await connection.execute(f"DROP SCHEMA IF EXISTS {quote_ident(current['schema_name'])} CASCADE")
            await connection.execute(
                f"ALTER SCHEMA {quote_ident(staging)} RENAME TO {quote_ident(current['schema_name'])}"
            )
            slug = source["slug"]
        else:
            schema = schema_for_slug(as_slug)
            taken = await connection.fetchval(
                "SELECT 1 FROM tenant WHERE slug = $1 OR schema_name = $2 UNION ALL"
                " SELECT 1 FROM pg_namespace WHERE nspname = $2",
                as_slug, schema,
            )  # fmt: skip
            if taken:
                raise BackupFailed(f"an operator {as_slug!r} exists already: choose another slug")
            await connection.execute(
                "INSERT INTO tenant (slug, name, schema_name, timezone, currency) VALUES ($1, $2, $3, $4, $5)",
                as_slug, f"{source['name']} (restored copy)", schema, source["timezone"], source["currency"],
            )  # fmt: skip
            await connection.execute(f"ALTER SCHEMA {quote_ident(staging)} RENAME TO {quote_ident(schema)}")
            slug = as_slug
    return await get_tenant(db, slug)


async def rebind_secrets(
    db: Database, tenant: TenantRef, old_id: int, secret_key: str, old_keys: tuple[str, ...]
) -> int:
    """Seal the restored operator's secrets again for its own id (they were bound to ``old_id``), in batches
    of `REBIND_BATCH` rows in row order, a transaction each. A value that does not open for ``old_id`` is left:
    already sealed for this operator (a rerun), or unreadable (``ispb secrets reseal`` reports those)."""
    rebound = 0
    for column in SEALED_COLUMNS:
        after: int | str | None = None
        while True:
            async with db.tenant(tenant) as scope:
                # every value whatever key sealed it: "-" is no key id
                values = await stale_values(scope, column, "-", after=after, limit=REBIND_BATCH)
                fresh = [
                    SealedValue(value.row, seal(secret_key, plain, Binding(tenant.id, column.purpose, value.row)))
                    for value in values
                    if (
                        plain := _opened(secret_key, old_keys, value.sealed, Binding(old_id, column.purpose, value.row))
                    )
                    is not None
                ]
                if fresh:
                    await replace_values(scope, column, fresh)
            rebound += len(fresh)
            if len(values) < REBIND_BATCH:
                break
            after = values[-1].row
    return rebound


def _opened(secret_key: str, old_keys: tuple[str, ...], sealed: str, binding: Binding) -> str | None:
    try:
        return reveal(secret_key, sealed, binding, old_keys=old_keys)
    except SealError:
        return None


async def restore_database(db: Database, destination: Destination, key: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Restore a full backup over the whole database, in one transaction (stop web and workers first): the
    platform schema and every operator's schema (also those made after the backup) are dropped, the backup's
    brought back."""
    opened = await open_stream(keys, destination.read(key))
    if opened.header["kind"] != "full":
        raise BackupFailed("this is one operator's backup: restore it with --tenant SLUG (or --as NEW_SLUG)")
    tools = await _tools(db, opened.header)
    rows = await db.pool.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) OR nspname LIKE 'tenant\\_%'"
        " OR nspname LIKE 'restore\\_%'",
        [s for s in opened.header["schemas"] if s != "public"],
    )
    prelude = "".join(f"DROP SCHEMA IF EXISTS {quote_ident(r['nspname'])} CASCADE;\n" for r in rows)
    await replace_database(tools.pg_restore, tools.pg_restore.parent / "psql", db.dsn, prelude, opened.plain)
    return opened.header
