"""Every route says who may use it; one app-wide guard enforces it (DESIGN 6).

A handler declares ``opt=allow(OPERATORS)`` or ``opt=PUBLIC``. A handler that declares nothing is refused
with a 500 at request time and caught by the route-by-role test, so no route is left unguarded by mistake.
Operator routes never take a tenant from the URL: they work in the signed-in operator's own schema, so an
object of another tenant is simply not found (404).
"""

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from ispb_platform.auth.roles import ADMINS, OPERATORS, Principal, Role

ACCESS = "access"
PUBLIC_ACCESS = "public"
PUBLIC: dict[str, Any] = {ACCESS: PUBLIC_ACCESS}
OPEN_WHEN_LOCKED = "open_when_locked"
"""Route option: operator staff may use the route while their panel is locked for an unpaid subscription bill."""
LOCKED_PAGE = "/panel/locked"


class PanelLocked(PermissionDeniedException):
    """The operator's panel is locked for an unpaid subscription bill: every panel route answers the locked
    page (``web/errors.py`` sends the browser there), except those that declare ``OPEN_WHEN_LOCKED``."""


def allow(roles: frozenset[Role]) -> dict[str, Any]:
    """Route options granting ``roles`` (and nobody else)."""
    return {ACCESS: roles}


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    principal: Principal | None = connection.scope.get("state", {}).get("principal")
    return principal


def home_for(principal: Principal) -> str:
    """Where a signed-in person starts: the admin console, the operator panel or their portal."""
    if principal.role in ADMINS:
        return "/admin/"
    if principal.role in OPERATORS:
        return "/panel/"
    return f"/portal/{principal.require_tenant().slug}/"


def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    access = handler.opt.get(ACCESS)
    if access is None:
        raise ImproperlyConfiguredException(f"route {handler} does not declare who may use it")
    if access == PUBLIC_ACCESS:
        return
    principal = principal_of(connection)
    if principal is None:
        raise NotAuthorizedException("Please sign in.")
    if principal.role not in access:
        raise PermissionDeniedException("You do not have access to this page.")
    if principal.locked and principal.is_operator and not handler.opt.get(OPEN_WHEN_LOCKED):
        raise PanelLocked("This panel is locked until the subscription bill is paid.")


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal = principal_of(request)
    if principal is None:  # the guard runs first; this only protects handlers used without it
        raise NotAuthorizedException("Please sign in.")
    return principal
