"""Routers and Packages → Routers: list with status, add/edit (admins), test connection, command queue."""

import asyncio
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_netsync.rrd import GraphPeriod, RRDError, interface_rrd
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.network.netflow.queries import exporter_address
from ispb_platform.network.routers import queries, service
from ispb_platform.network.routers.forms import MODES, NEW_ROUTER, form_values, validate_router, without_secrets
from ispb_platform.network.traffic.files import GRAPH_SIZES, graph_png, router_interfaces
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope

Operator = NamedDependency[Principal]


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={"nav": PANEL_NAV, "active": "/panel/routers", "modes": MODES, **context},
        status_code=status_code,
    )


def _data_dir(request: Request[Any, Any, Any]) -> Path:
    return Path(request.app.state.runtime.settings.data_dir)


def _netflow_from(router: Any) -> str:
    """The address the collector files this router's NetFlow by (empty: none, the router is not collected)."""
    address = exporter_address(router.get("netflow_address"), router["nas_address"], router["host"])
    return str(address) if address else ""


def _secret_key(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.runtime.settings.secret_key)


class RouterController(Controller):
    path = "/panel/routers"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_routers(self, db: TenantScope) -> Template:
        return _page("network/routers/list.html", routers=await queries.list_routers())

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_router(self) -> Template:
        return _page("network/routers/form.html", form=NEW_ROUTER, errors={}, router_id=None)

    @get("/{router_id:int}", opt=allow(OPERATORS))
    @in_tenant_scope
    async def view_router(self, request: Request[Any, Any, Any], db: TenantScope, router_id: FromPath[int]) -> Template:
        router = await queries.get_router(router_id)
        if router is None:
            raise NotFoundException()
        commands = await queries.recent_commands(router_id=router_id)
        interfaces = router_interfaces(_data_dir(request), db.tenant.slug, router_id)
        return _page(
            "network/routers/detail.html",
            router=router,
            commands=commands,
            check=None,
            interfaces=interfaces,
            netflow_from=_netflow_from(router),
        )

    @get("/{router_id:int}/traffic.png", opt=allow(OPERATORS))
    @in_tenant_scope
    async def traffic_graph(
        self,
        request: Request[Any, Any, Any],
        db: TenantScope,
        router_id: FromPath[int],
        interface: FromQuery[str] = "",
        period: FromQuery[str] = "day",
        size: FromQuery[str] = "wide",
    ) -> Response[bytes]:
        """One interface's traffic graph (PNG). Another tenant's router, an unknown interface, period or size: 404."""
        router = await queries.get_router(router_id)
        if router is None or not interface or period not in {p.value for p in GraphPeriod} or size not in GRAPH_SIZES:
            raise NotFoundException()
        try:
            path = interface_rrd(_data_dir(request), db.tenant.slug, router_id, interface)
            image = await asyncio.to_thread(
                graph_png,
                path,
                GraphPeriod(period),
                title=f"{router['name']} {interface} ({period})",
                labels=("In", "Out"),
                time_zone=db.tenant.timezone,
                size=size,
            )
        except RRDError:
            raise NotFoundException() from None
        return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})

    @get("/{router_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_router(self, db: TenantScope, router_id: FromPath[int]) -> Template:
        router = await queries.get_router(router_id)
        if router is None:
            raise NotFoundException()
        return _page("network/routers/form.html", form=form_values(router), errors={}, router_id=router_id)

    @post(["/new", "/{router_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: Operator,
        router_id: FromPath[int | None] = None,
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = validate_router(data, new=router_id is None)
        if router_id is not None and await queries.get_router(router_id) is None:
            raise NotFoundException()
        errors = errors | await service.name_clash(data, errors, router_id)
        if draft is not None and not errors:
            try:
                saved = await service.save_router(db, _secret_key(request), draft, router_id)
            except queries.RouterNameTaken:
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
                flash(request, "Router saved")
                return see_other(request, f"/panel/routers/{saved}")
        form = without_secrets(data)
        return _page("network/routers/form.html", 422, form=form, errors=errors, router_id=router_id)

    @post("/{router_id:int}/test", opt=allow(OPERATORS))
    async def test_connection(
        self, request: Request[Any, Any, Any], operator: Operator, router_id: FromPath[int]
    ) -> Template:
        """Ask the router now and show its answer (or its error) beside the router's details.

        Not ``@in_tenant_scope``: the service opens short scopes of its own so no transaction is held while the
        router answers (up to 8 seconds).
        """
        runtime = request.app.state.runtime
        tested = await service.test_connection(runtime.db, operator.require_tenant(), _secret_key(request), router_id)
        if tested is None:
            raise NotFoundException()
        return _page(
            "network/routers/detail.html",
            router=tested.router,
            commands=tested.commands,
            check=tested.check,
            netflow_from=_netflow_from(tested.router),
        )
