"""Creating, migrating, listing and dropping tenant schemas (``ispb tenants ...``).

Each step that changes a schema runs in one transaction: a tenant is created with its row, schema and every
migration, or not at all; a drop removes schema and row together.
"""

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from ispb_tenants.database import Database, TenantRef
from ispb_tenants.errors import TenantExists, TenantNotFound
from ispb_tenants.migrations import PLATFORM_SCHEMA, Scope, apply_pending, current_version, load_migrations
from ispb_tenants.slugs import quote_ident, schema_for_slug, validate_slug

_TENANT_COLUMNS = "id, slug, schema_name, name, timezone, currency"


@dataclass(frozen=True)
class TenantInfo:
    ref: TenantRef
    status: str
    schema_version: int


@dataclass(frozen=True)
class MigrationResult:
    """What ``migrate`` did to one schema: the versions applied, or the error that stopped it."""

    schema: str
    slug: str | None
    applied: tuple[int, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _ref(row: asyncpg.Record) -> TenantRef:
    return TenantRef(
        id=row["id"],
        slug=row["slug"],
        schema=row["schema_name"],
        name=row["name"],
        timezone=row["timezone"],
        currency=row["currency"],
    )


async def migrate_platform(db: Database) -> MigrationResult:
    """Bring the platform schema to the latest version (idempotent)."""
    migrations = load_migrations(Scope.PLATFORM)
    async with db.pool.acquire() as conn, conn.transaction():
        applied = await apply_pending(conn, PLATFORM_SCHEMA, migrations)
    return MigrationResult(PLATFORM_SCHEMA, None, tuple(applied))


async def create_tenant(
    db: Database, slug: str, name: str, *, timezone: str = "Asia/Dhaka", currency: str = "BDT"
) -> TenantRef:
    """Provision an operator: validate, insert its row, create its schema and apply all tenant migrations."""
    schema = schema_for_slug(validate_slug(slug))
    if not name.strip():
        raise ValueError("the operator name must not be empty")
    migrations = load_migrations(Scope.TENANT)
    async with db.pool.acquire() as conn, conn.transaction():
        # Serialise creations so that "already exists" is decided before any DDL runs.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ispb.tenant.create'))")
        taken = await conn.fetchval("SELECT 1 FROM platform.tenant WHERE slug = $1 OR schema_name = $2", slug, schema)
        schema_exists = await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema)
        if taken or schema_exists:
            raise TenantExists(slug)
        row = await conn.fetchrow(
            "INSERT INTO platform.tenant (slug, name, schema_name, timezone, currency)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_TENANT_COLUMNS}",
            slug,
            name.strip(),
            schema,
            timezone,
            currency,
        )
        await apply_pending(conn, schema, migrations)
    if row is None:  # pragma: no cover - INSERT ... RETURNING always returns the row
        raise RuntimeError("tenant insert returned nothing")
    return _ref(row)


async def ensure_tenant(db: Database, slug: str, name: str) -> TenantRef:
    """The tenant ``slug``, created with ``name`` if it does not exist yet (demo and seed data)."""
    try:
        return await create_tenant(db, slug, name)
    except TenantExists:
        return await get_tenant(db, slug)


async def get_tenant(db: Database, slug: str) -> TenantRef:
    async with db.pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {_TENANT_COLUMNS} FROM platform.tenant WHERE slug = $1", slug)
    if row is None:
        raise TenantNotFound(slug)
    return _ref(row)


async def list_tenants(db: Database, *, active_only: bool = False) -> list[TenantInfo]:
    where = "WHERE status = 'active'" if active_only else ""
    async with db.pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT {_TENANT_COLUMNS}, status FROM platform.tenant {where} ORDER BY slug")
        return [TenantInfo(_ref(r), r["status"], await current_version(conn, r["schema_name"])) for r in rows]


async def active_tenant_refs(db: Database) -> list[TenantRef]:
    """The active tenants, in one query: for the worker's per-minute fan-out, which needs no schema versions
    (`list_tenants` reads each schema's version, a query per tenant)."""
    async with db.pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT {_TENANT_COLUMNS} FROM platform.tenant WHERE status = 'active' ORDER BY slug")
    return [_ref(r) for r in rows]


async def migrate_tenant(db: Database, tenant: TenantRef) -> MigrationResult:
    try:
        async with db.pool.acquire() as conn, conn.transaction():
            applied = await apply_pending(conn, tenant.schema, load_migrations(Scope.TENANT))
    except (asyncpg.PostgresError, ValueError, RuntimeError) as error:
        return MigrationResult(tenant.schema, tenant.slug, (), f"{type(error).__name__}: {error}")
    return MigrationResult(tenant.schema, tenant.slug, tuple(applied))


async def migrate_tenants(
    db: Database, *, on_result: Callable[[MigrationResult], None] | None = None
) -> list[MigrationResult]:
    """Migrate every tenant schema, one transaction each. A failing tenant is reported, the rest go on."""
    results = []
    for info in await list_tenants(db):
        result = await migrate_tenant(db, info.ref)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


async def drop_tenant(db: Database, slug: str) -> None:
    """Delete an operator and its schema with every row in it. The CLI asks for ``--yes`` first."""
    tenant = await get_tenant(db, validate_slug(slug))
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(tenant.schema)} CASCADE")
        await conn.execute("DELETE FROM platform.tenant WHERE id = $1", tenant.id)
