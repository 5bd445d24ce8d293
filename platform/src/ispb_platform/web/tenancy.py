"""Litestar dependencies that put a request inside one tenant's schema (DESIGN 2).

`provide_tenant_scope` opens the tenant transaction for the whole handler (a ``yield`` dependency: Litestar
throws the handler's exception into it, so the transaction rolls back on error) and every query in the
handler sees only that tenant's rows. How the tenant is chosen is a separate provider: from the URL for the
customer portal (`provide_portal_tenant`), from the signed-in operator's session for the panel.
"""

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from ispb_platform.runtime import Runtime
from ispb_tenants import InvalidSlug, TenantNotFound, TenantRef, TenantScope, get_tenant, validate_slug


async def provide_portal_tenant(request: Request[Any, Any, Any], operator_slug: FromPath[str]) -> TenantRef:
    """The active operator named in the URL (``/portal/<operator_slug>/...``); 404 for anything else."""
    runtime: Runtime = request.app.state.runtime
    try:
        tenant = await get_tenant(runtime.db, validate_slug(operator_slug))
    except (InvalidSlug, TenantNotFound):
        raise NotFoundException() from None
    return tenant


async def provide_tenant_scope(
    request: Request[Any, Any, Any], tenant: NamedDependency[TenantRef]
) -> AsyncGenerator[TenantScope, None]:
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.tenant(tenant) as scope:
        yield scope
