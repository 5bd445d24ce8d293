"""Recording a payment for a customer from the panel (it settles open bills oldest first, the rest becomes
advance credit): ``/panel/customers/{id}/payments/new``."""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from ispb_billing import Money, format_money
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments import queries
from ispb_platform.payments.forms import METHOD_LABELS, validate_payment
from ispb_platform.payments.queries import CustomerBalance, CustomerNotFound
from ispb_platform.payments.service import DuplicatePayment, record_from_panel
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_tenants import TenantRef

Operator = NamedDependency[Principal]


def _today(tenant: TenantRef) -> Any:
    return local_today(datetime.now(UTC), tenant)


class PaymentController(Controller):
    """Recording a payment belongs to the customer: ``/panel/customers/{id}/payments/new``."""

    path = "/panel/customers/{customer_id:int}/payments"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012
    opt = allow(OPERATORS)

    @get("/new")
    @in_tenant_scope
    async def payment_form(self, db: TenantScope, customer_id: FromPath[int]) -> Template:
        tenant = db.tenant
        customer = await _customer_or_404(customer_id)
        due = max(customer.balance_minor, 0)
        form = {"amount": format_money(Money(due, tenant.currency), symbol=False).replace(",", "") if due else ""}
        form |= {"method": "cash", "received_on": _today(tenant).isoformat()}
        return _payment_page(customer, tenant, form, {})

    @post("/new")
    @in_tenant_scope
    async def save_payment(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        tenant = db.tenant
        data = await form_fields(request)
        draft, errors = validate_payment(data, tenant.currency, _today(tenant))
        customer = await _customer_or_404(customer_id)
        if draft is not None:
            runtime = request.app.state.runtime
            try:
                recorded = await record_from_panel(
                    db,
                    operator,
                    customer,
                    draft,
                    today=_today(tenant),
                    secret_key=str(runtime.settings.secret_key),
                    queue=runtime.queue,
                    ip=client_ip(request),
                )
            except DuplicatePayment as duplicate:
                errors = {"reference": str(duplicate)}
            except CustomerNotFound:
                raise NotFoundException() from None
            else:
                flash(request, "Payment recorded")
                return see_other(request, f"/panel/customers/{customer_id}?paid={recorded.payment_id}")
        return _payment_page(customer, tenant, data, errors, 422)


async def _customer_or_404(customer_id: int) -> CustomerBalance:
    customer = await queries.customer_balance(customer_id)
    if customer is None:
        raise NotFoundException()
    return customer


def _payment_page(
    customer: CustomerBalance, tenant: TenantRef, form: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Template:
    methods = [(m.value, label) for m, label in METHOD_LABELS.items()]
    return Template(
        "payments/form.html",
        context={
            "nav": PANEL_NAV,
            "active": "/panel/customers",
            "customer": customer,
            "form": form,
            "errors": errors,
            "methods": methods,
            "currency": tenant.currency,
        },
        status_code=status_code,
    )
