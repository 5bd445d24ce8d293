"""ISPB persistence: Piccolo tables, per-schema migrations, tenant provisioning and tenant context.

Typical use::

    db = await Database.connect("postgresql://127.0.0.1/ispb")
    await migrate_platform(db)
    tenant = await create_tenant(db, "dhaka-net", "Dhaka Net")
    async with db.tenant(tenant):
        await Customer.insert(Customer(code="C1", name="Rahim Uddin", phone="+8801711000000"))
"""

from ispb_tenants.availability import database_unavailable
from ispb_tenants.database import AfterCommit, Database, TenantRef, TenantScope, current_tenant
from ispb_tenants.errors import (
    InvalidSlug,
    MigrationError,
    TenancyError,
    TenantContextError,
    TenantExists,
    TenantNotFound,
)
from ispb_tenants.migrations import Connection, search_path_for
from ispb_tenants.provisioning import (
    MigrationResult,
    TenantInfo,
    active_tenant_refs,
    create_tenant,
    drop_tenant,
    ensure_tenant,
    get_tenant,
    list_tenants,
    migrate_platform,
    migrate_tenant,
    migrate_tenants,
)
from ispb_tenants.slugs import schema_for_slug, validate_slug

__all__ = (
    # connection and scopes
    "AfterCommit",
    "Connection",
    "Database",
    "TenantRef",
    "TenantScope",
    "current_tenant",
    "database_unavailable",
    "search_path_for",
    # provisioning
    "MigrationResult",
    "TenantInfo",
    "create_tenant",
    "drop_tenant",
    "ensure_tenant",
    "get_tenant",
    "active_tenant_refs",
    "list_tenants",
    "migrate_platform",
    "migrate_tenant",
    "migrate_tenants",
    "schema_for_slug",
    "validate_slug",
    # errors
    "InvalidSlug",
    "MigrationError",
    "TenancyError",
    "TenantContextError",
    "TenantExists",
    "TenantNotFound",
)
