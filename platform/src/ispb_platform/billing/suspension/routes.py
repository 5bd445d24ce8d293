"""Suspension pages: Logs → Suspension Log, suspend/reactivate buttons on the customer page, and the public
suspension portal a suspended customer's browser is redirected to by the router."""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import PUBLIC, allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing.suspension.actions import activate, suspend
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.routers.commands import kick
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.tenancy import provide_portal_tenant
from ispb_tenants import TenantRef

Operator = NamedDependency[Principal]
PAGE = 100


@get("/panel/logs/suspension", opt=allow(OPERATORS))
async def suspension_log(request: Request[Any, Any, Any], before: FromQuery[int | None] = None) -> Template:
    async with own_tenant_scope(request) as db:
        rows = await db.connection.fetch(
            "SELECT l.*, c.code, c.name, b.number AS bill_number FROM suspension_log l"
            " JOIN customer c ON c.id = l.customer_id LEFT JOIN bill b ON b.id = l.bill_id"
            " WHERE ($1::bigint IS NULL OR l.id < $1) ORDER BY l.id DESC LIMIT $2",
            before,
            PAGE,
        )
    return Template(
        "billing/suspension/log.html",
        context={
            "nav": PANEL_NAV,
            "active": "/panel/logs/suspension",
            "rows": rows,
            "older": rows[-1]["id"] if len(rows) == PAGE else None,
            "currency": request.scope["state"]["principal"].tenant.currency,
        },
    )


class CustomerStatusController(Controller):
    """Manual suspension and reactivation of one customer (logged, router updated at once)."""

    path = "/panel/customers/{customer_id:int}"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)
    opt = allow(OPERATORS)

    @post("/suspend")
    async def suspend_now(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Response[Any]:
        return await self._change(request, operator, customer_id, "suspend")

    @post("/activate")
    async def activate_now(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Response[Any]:
        return await self._change(request, operator, customer_id, "activate")

    async def _change(
        self, request: Request[Any, Any, Any], operator: Principal, customer_id: int, action: str
    ) -> Response[Any]:
        reason = (await form_fields(request)).get("reason", "").strip()[:300] or "by hand"
        actor = f"{operator.name} <{operator.login}>"
        async with own_tenant_scope(request) as db:
            if not await db.connection.fetchval("SELECT 1 FROM customer WHERE id = $1", customer_id):
                raise NotFoundException()
            secret_key = str(request.app.state.runtime.settings.secret_key)
            if action == "suspend":
                change = await suspend(
                    db.connection, customer_id, secret_key=secret_key, actor=actor, reason=reason, rule="manual"
                )
            else:
                change = await activate(db.connection, customer_id, secret_key=secret_key, actor=actor, reason=reason)
            if change is not None:
                await record_activity(
                    db,
                    operator,
                    f"customer.{'suspended' if action == 'suspend' else 'activated'}",
                    object_type="customer",
                    object_id=customer_id,
                    summary=f"{'Suspended' if action == 'suspend' else 'Reactivated'} by hand: {reason}",
                    ip=client_ip(request),
                )
        if change is not None and change.command_id is not None:
            await kick(request.app.state.runtime.queue, operator.require_tenant(), change.command_id)
        return see_other(request, f"/panel/customers/{customer_id}")


@get("/suspended/{operator_slug:str}/", opt=PUBLIC, dependencies={"operator": Provide(provide_portal_tenant)})
async def suspension_portal(request: Request[Any, Any, Any], operator: NamedDependency[TenantRef]) -> Template:
    """Where the router sends a suspended customer's web traffic: who they are (by their address), what is
    due and how to pay. Nothing personal is shown to an address that is not a suspended customer's."""
    address = client_ip(request)
    runtime = request.app.state.runtime
    async with runtime.db.tenant(operator) as scope:
        customer = await scope.connection.fetchrow(
            "SELECT c.id, c.code, c.name, coalesce(a.balance_minor, 0) AS balance_minor FROM customer c"
            " LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.status = 'suspended'"
            " AND (c.ip_address = $1::inet OR c.last_address = $1::inet) ORDER BY c.id LIMIT 1",
            address if _is_ip(address) else None,
        )
        bills = []
        if customer is not None:
            bills = await scope.connection.fetch(
                "SELECT number, period_start, period_end, due_date, total_minor - paid_minor AS due_minor FROM bill"
                " WHERE customer_id = $1 AND kind = 'invoice' AND status = 'open' ORDER BY due_date",
                customer["id"],
            )
        details = await scope.connection.fetchrow(
            "SELECT phone, payment_instructions FROM platform.tenant WHERE id = $1", operator.id
        )
    return Template(
        "billing/suspension/portal.html",
        context={
            "operator": operator,
            "customer": customer,
            "bills": bills,
            "contact": details,
            "today": local_today(datetime.now(UTC), operator),
        },
    )


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


ROUTES: list[ControllerRouterHandler] = [suspension_log, suspension_portal, CustomerStatusController]
