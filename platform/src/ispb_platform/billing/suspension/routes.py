"""Suspension pages: Logs → Suspension Log, suspend/reactivate buttons on the customer page, and the public
suspension portal a suspended customer's browser is redirected to by the router."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_platform.auth.access import PUBLIC, allow, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.billing.queries import customer_exists
from ispb_platform.billing.suspension import queries, service
from ispb_platform.billing.suspension.service import Action
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other, text_problem
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_platform.web.tenancy import provide_portal_tenant
from ispb_tenants import TenantRef

Operator = NamedDependency[Principal]
PAGE = queries.LOG_PAGE


@get("/panel/logs/suspension", opt=allow(OPERATORS))
@in_tenant_scope
async def suspension_log(db: TenantScope, before: FromQuery[int | None] = None) -> Template:
    rows = await queries.log_page(before, PAGE)
    return Template(
        "billing/suspension/log.html",
        context={
            "nav": PANEL_NAV,
            "active": "/panel/logs/suspension",
            "rows": rows,
            "older": rows[-1].id if len(rows) == PAGE else None,
            "currency": db.tenant.currency,
        },
    )


class CustomerStatusController(Controller):
    """Manual suspension and reactivation of one customer (logged, router updated at once)."""

    path = "/panel/customers/{customer_id:int}"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)
    opt = allow(OPERATORS)

    @post("/suspend")
    @in_tenant_scope
    async def suspend_now(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Response[Any]:
        return await _change(db, request, operator, customer_id, "suspend")

    @post("/activate")
    @in_tenant_scope
    async def activate_now(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Response[Any]:
        return await _change(db, request, operator, customer_id, "activate")


async def _change(
    db: TenantScope, request: Request[Any, Any, Any], operator: Principal, customer_id: int, action: Action
) -> Response[Any]:
    reason = (await form_fields(request)).get("reason", "").strip()[:300] or "by hand"
    if problem := text_problem(reason):  # the reason goes into the suspension log as it is
        raise ClientException(f"The reason was not saved: {problem[0].lower()}{problem[1:]}")
    if not await customer_exists(customer_id):
        raise NotFoundException()
    runtime = request.app.state.runtime
    await service.change_status(
        db,
        operator,
        customer_id,
        action,
        reason=reason,
        secret_key=str(runtime.settings.secret_key),
        queue=runtime.queue,
        ip=client_ip(request),
    )
    flash(request, "Customer suspended" if action == "suspend" else "Customer activated")
    return see_other(request, f"/panel/customers/{customer_id}")


@get("/suspended/{operator_slug:str}/", opt=PUBLIC, dependencies={"operator": Provide(provide_portal_tenant)})
async def suspension_portal(request: Request[Any, Any, Any], operator: NamedDependency[TenantRef]) -> Template:
    """Where the router sends a suspended customer's web traffic: who they are (by their address), what is
    due and how to pay. Nothing personal is shown to an address that is not a suspended customer's."""
    view = await service.portal_view(request.app.state.runtime.db, operator, client_ip(request))
    return Template(
        "billing/suspension/portal.html",
        context={
            "operator": operator,
            "customer": view.customer,
            "bills": view.bills,
            "contact": view.contact,
            "today": view.today,
        },
    )


ROUTES: list[ControllerRouterHandler] = [suspension_log, suspension_portal, CustomerStatusController]
