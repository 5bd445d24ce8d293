"""Routers and Packages → Routers: list with status, add/edit (admins), test connection, command queue."""

import json
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.network.routers.queries import MODES, form_values, get_router, save_router, validate_router
from ispb_platform.network.routers.status import check_router
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV

Operator = NamedDependency[Principal]
NEW_ROUTER = {"api_port": "8728", "mode": "api", "coa_port": "3799"}


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={"nav": PANEL_NAV, "active": "/panel/routers", "modes": MODES, **context},
        status_code=status_code,
    )


async def recent_commands(
    connection: Any, *, router_id: int | None = None, customer_id: int | None = None
) -> list[dict[str, Any]]:
    """The latest router commands of a router or a customer, with each one's recorded result."""
    rows = await connection.fetch(
        "SELECT k.*, c.code, c.name, r.name AS router_name FROM router_command k"
        " LEFT JOIN customer c ON c.id = k.customer_id JOIN router r ON r.id = k.router_id"
        " WHERE ($1::int IS NULL OR k.router_id = $1) AND ($2::int IS NULL OR k.customer_id = $2)"
        " ORDER BY k.id DESC LIMIT 50",
        router_id,
        customer_id,
    )
    return [dict(r) | {"result": json.loads(r["payload"]).get("result")} for r in rows]


def _secret_key(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.runtime.settings.secret_key)


class RouterController(Controller):
    path = "/panel/routers"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    async def list_routers(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            rows = await db.connection.fetch(
                "SELECT r.*, (SELECT count(*) FROM customer c WHERE c.router_id = r.id) AS customers,"
                " (SELECT count(*) FROM router_command k WHERE k.router_id = r.id AND k.status = 'pending')"
                " AS pending FROM router r ORDER BY r.name"
            )
        return _page("network/routers/list.html", routers=rows)

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_router(self) -> Template:
        return _page("network/routers/form.html", form=NEW_ROUTER, errors={}, router_id=None)

    @get("/{router_id:int}", opt=allow(OPERATORS))
    async def view_router(self, request: Request[Any, Any, Any], router_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            router = await get_router(db.connection, router_id)
            if router is None:
                raise NotFoundException()
            commands = await recent_commands(db.connection, router_id=router_id)
        return _page("network/routers/detail.html", router=router, commands=commands, check=None)

    @get("/{router_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    async def edit_router(self, request: Request[Any, Any, Any], router_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            router = await get_router(db.connection, router_id)
        if router is None:
            raise NotFoundException()
        return _page("network/routers/form.html", form=form_values(router), errors={}, router_id=router_id)

    @post(["/new", "/{router_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    async def save(
        self, request: Request[Any, Any, Any], operator: Operator, router_id: FromPath[int | None] = None
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = validate_router(data, new=router_id is None)
        async with own_tenant_scope(request) as db:
            if router_id is not None and await get_router(db.connection, router_id) is None:
                raise NotFoundException()
            if draft is not None:
                try:
                    saved = await save_router(db.connection, _secret_key(request), draft, router_id)
                except asyncpg.UniqueViolationError:
                    errors = {"name": f"A router named {draft.name!r} already exists."}
                else:
                    await record_activity(
                        db,
                        operator,
                        "router.saved",
                        object_type="router",
                        object_id=saved,
                        summary=f"Saved router {draft.name} ({draft.host}:{draft.api_port}, {draft.mode})",
                        ip=client_ip(request),
                    )
                    return see_other(request, f"/panel/routers/{saved}")
        for secret in ("password", "radius_secret"):
            data.pop(secret, None)
        return _page("network/routers/form.html", 422, form=data, errors=errors, router_id=router_id)

    @post("/{router_id:int}/test", opt=allow(OPERATORS))
    async def test_connection(
        self, request: Request[Any, Any, Any], operator: Operator, router_id: FromPath[int]
    ) -> Template:
        """Ask the router now and show its answer (or its error) beside the router's details."""
        tenant = operator.require_tenant()
        async with own_tenant_scope(request) as db:
            if await get_router(db.connection, router_id) is None:
                raise NotFoundException()
        check = await check_router(
            request.app.state.runtime.db, tenant, _secret_key(request), router_id, answer_within=8
        )
        async with own_tenant_scope(request) as db:
            router = await get_router(db.connection, router_id)
            commands = await recent_commands(db.connection, router_id=router_id)
        return _page("network/routers/detail.html", router=router, commands=commands, check=check)
