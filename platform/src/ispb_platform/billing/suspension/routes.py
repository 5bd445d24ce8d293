"""Suspension pages: Logs → Suspension Log, suspend/reactivate buttons on the customer page, and the public
suspension portal a suspended customer's browser is redirected to by the router."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_platform.auth.access import PUBLIC, allow, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.billing.queries import CustomerLabel, customer_label
from ispb_platform.billing.suspension import queries, service
from ispb_platform.billing.suspension.service import Action
from ispb_platform.payments.online.gateway import PROVIDER_LABELS
from ispb_platform.web.confirm import Confirmation, confirm_page, optional_reason, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
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
    """Manual suspension and reactivation of one customer (logged, router updated at once). Suspending asks
    first, with a required reason kept in the Suspension Log (``web/confirm.py``); reactivating does not."""

    path = "/panel/customers/{customer_id:int}"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)
    opt = allow(OPERATORS)

    @get("/suspend")
    @in_tenant_scope
    async def confirm_suspend(self, db: TenantScope, customer_id: FromPath[int]) -> Template:
        return confirm_page(_suspend_confirmation(await _customer(customer_id)), CUSTOMERS)

    @post("/suspend")
    @in_tenant_scope
    async def suspend_now(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        customer = await _customer(customer_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_suspend_confirmation(customer), CUSTOMERS, reason=reason, errors=errors)
        return await _change(db, request, operator, customer_id, "suspend", reason)

    @post("/activate")
    @in_tenant_scope
    async def activate_now(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Response[Any]:
        await _customer(customer_id)
        reason = optional_reason(await form_fields(request), "by hand")
        return await _change(db, request, operator, customer_id, "activate", reason)


CUSTOMERS = panel_layout("/panel/customers")


async def _customer(customer_id: int) -> CustomerLabel:
    customer = await customer_label(customer_id)
    if customer is None:  # unknown, or another operator's: not found either way
        raise NotFoundException()
    return customer


def _suspend_confirmation(customer: CustomerLabel) -> Confirmation:
    return Confirmation(
        title=f"Suspend {customer['code']} {customer['name']}?",
        consequence="Their internet access stops now (the router is told at once) and, if the suspension"
        " message is switched on under Event SMS, they get it. Reactivate them from their page when they may"
        " connect again.",
        action=f"/panel/customers/{customer['id']}/suspend",
        button="Suspend customer",
        back=f"/panel/customers/{customer['id']}",
        kept_in="the Suspension Log and the activity log",
    )


async def _change(
    db: TenantScope,
    request: Request[Any, Any, Any],
    operator: Principal,
    customer_id: int,
    action: Action,
    reason: str,
) -> Response[Any]:
    runtime = request.app.state.runtime
    change = await service.change_status(
        db,
        operator,
        customer_id,
        action,
        reason=reason,
        secret_key=str(runtime.settings.secret_key),
        queue=runtime.queue,
        ip=client_ip(request),
    )
    if change is None:  # already so (a second tab, a double submit): nothing was logged either
        flash(request, "Nothing changed: the customer was not " + ("active" if action == "suspend" else "suspended"))
    else:
        flash(request, "Customer suspended" if action == "suspend" else "Customer activated")
    return see_other(request, f"/panel/customers/{customer_id}")


@get("/suspended/{operator_slug:str}/", opt=PUBLIC, dependencies={"operator": Provide(provide_portal_tenant)})
async def suspension_portal(request: Request[Any, Any, Any], operator: NamedDependency[TenantRef]) -> Template:
    """Where the router sends a suspended customer's web traffic: who they are (by their address), what is
    due and how to pay. Nothing personal is shown to an address that is not a suspended customer's."""
    runtime = request.app.state.runtime
    view = await service.portal_view(runtime.db, operator, client_ip(request), str(runtime.settings.secret_key))
    return Template(
        "billing/suspension/portal.html",
        context={
            "operator": operator,
            "customer": view.customer,
            "bills": view.bills,
            "contact": view.contact,
            "today": view.today,
            "pay_with": view.pay_with,
            "provider_labels": PROVIDER_LABELS,
        },
    )


ROUTES: list[ControllerRouterHandler] = [suspension_log, suspension_portal, CustomerStatusController]
