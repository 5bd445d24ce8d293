"""Which operator a public request is for.

The customer portal names its operator in the URL (``/portal/<operator_slug>/...``); `provide_portal_tenant`
resolves it (404 for unknown, malformed or suspended operators). Handlers, or their services, then open the
tenant scope themselves (``async with db.tenant(tenant)``): see ``web/scope.py`` for why not in a ``yield``
dependency.
"""

from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from ispb_platform.runtime import Runtime
from ispb_tenants import Database, InvalidSlug, TenantNotFound, TenantRef, get_tenant, validate_slug
from ispb_tenants.tables import Tenant
from ispb_tenants.tables.platform import TenantStatus


async def active_operator(db: Database, slug: str) -> TenantRef | None:
    """The active operator with this slug; None for an unknown, malformed or suspended one (callers answer
    all three alike, so nobody learns which operators exist or are suspended)."""
    try:
        tenant = await get_tenant(db, validate_slug(slug))
    except (InvalidSlug, TenantNotFound):
        return None
    async with db.platform():
        active = await Tenant.exists().where(
            (Tenant._meta.primary_key == tenant.id) & (Tenant.status == TenantStatus.ACTIVE.value)
        )
    return tenant if active else None


async def provide_portal_tenant(request: Request[Any, Any, Any], operator_slug: FromPath[str]) -> TenantRef:
    """The active operator named in the URL; 404 for anything else."""
    runtime: Runtime = request.app.state.runtime
    tenant = await active_operator(runtime.db, operator_slug)
    if tenant is None:
        raise NotFoundException()
    return tenant
