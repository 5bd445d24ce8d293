"""The one place a web handler's tenant scope opens: ``@in_tenant_scope`` (docs/architecture.md).

A decorated handler declares ``db: TenantScope`` and receives an open transaction in the signed-in operator's
(or portal customer's) own schema; it commits when the handler returns and rolls back when it raises. Work
that must follow the commit (run a router command now, send a payment's message now) is registered with
``db.on_commit(...)``. Operator routes never take a tenant from the URL, so an object of another tenant is
simply not found (404).

Why a decorator and not a ``yield`` dependency: Litestar resolves sibling dependencies concurrently, each in
its own copy of the context, so a transaction opened in a dependency is invisible to the handler's Piccolo
queries and cannot be closed from the handler's context. The decorator runs in the handler's own task.

Example::

    @get("/{package_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_package(self, db: TenantScope, package_id: FromPath[int]) -> Template:
        package = await queries.get_package(package_id)
"""

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from ispb_platform.auth.access import principal_of
from ispb_tenants import TenantScope

P = ParamSpec("P")
R = TypeVar("R")
SCOPE_PARAMETER = "db"
_REQUEST = "request"


def in_tenant_scope(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Open the principal's tenant scope around ``handler`` and pass it as ``db``.

    Litestar sees the handler's signature without ``db`` and with ``request`` (added when the handler does
    not ask for it), so ``db`` is never mistaken for a query parameter.
    """
    signature = inspect.signature(handler)
    if SCOPE_PARAMETER not in signature.parameters:
        raise TypeError(f"{handler.__qualname__} is tenant-scoped but has no {SCOPE_PARAMETER!r} parameter")
    wants_request = _REQUEST in signature.parameters
    parameters = [p for name, p in signature.parameters.items() if name != SCOPE_PARAMETER]
    if not wants_request:
        request = inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request[Any, Any, Any])
        parameters.append(request)

    @functools.wraps(handler)
    async def scoped(*args: Any, **kwargs: Any) -> Any:
        request = kwargs[_REQUEST] if wants_request else kwargs.pop(_REQUEST)
        principal = principal_of(request)
        if principal is None:  # the access guard runs first; this only protects handlers used without it
            raise NotAuthorizedException("Please sign in.")
        async with request.app.state.runtime.db.tenant(principal.require_tenant()) as db:
            return await handler(*args, **{SCOPE_PARAMETER: db}, **kwargs)

    scoped.__signature__ = signature.replace(parameters=_ordered(parameters))  # type: ignore[attr-defined]
    annotations = {k: v for k, v in handler.__annotations__.items() if k != SCOPE_PARAMETER}
    if not wants_request:
        annotations[_REQUEST] = Request[Any, Any, Any]
    scoped.__annotations__ = annotations
    del scoped.__wrapped__  # Litestar must read __signature__, not the original
    return scoped


def _ordered(parameters: list[inspect.Parameter]) -> list[inspect.Parameter]:
    """Keyword-only parameters after the others, as Python requires (the sort is stable)."""
    return sorted(parameters, key=lambda parameter: parameter.kind)


__all__ = ("SCOPE_PARAMETER", "TenantScope", "in_tenant_scope")
