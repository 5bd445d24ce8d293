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
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing.suspension.actions import activate_if_paid
from ispb_platform.jobs.queue import run_soon
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.routers.commands import kick
from ispb_platform.payments.forms import validate_payment
from ispb_platform.payments.service import (
    METHOD_LABELS,
    CustomerNotFound,
    DuplicatePayment,
    RecordedPayment,
    record_payment,
)
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import TenantRef, TenantScope

Operator = NamedDependency[Principal]


def _today(tenant: TenantRef) -> Any:
    return local_today(datetime.now(UTC), tenant)


class PaymentController(Controller):
    """Recording a payment belongs to the customer: ``/panel/customers/{id}/payments/new``."""

    path = "/panel/customers/{customer_id:int}/payments"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012
    opt = allow(OPERATORS)

    @get("/new")
    async def payment_form(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template:
        tenant = operator.require_tenant()
        async with own_tenant_scope(request) as db:
            customer = await _customer_or_404(db, customer_id)
        due = max(int(customer["balance_minor"]), 0)
        form = {"amount": format_money(Money(due, tenant.currency), symbol=False).replace(",", "") if due else ""}
        form |= {"method": "cash", "received_on": _today(tenant).isoformat()}
        return _payment_page(customer, tenant, form, {})

    @post("/new")
    async def save_payment(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        tenant = operator.require_tenant()
        data = await form_fields(request)
        draft, errors = validate_payment(data, tenant.currency, _today(tenant))
        recorded: RecordedPayment | None = None
        command_id: int | None = None
        async with own_tenant_scope(request) as db:
            customer = await _customer_or_404(db, customer_id)
            if draft is not None:
                try:
                    recorded = await record_payment(
                        db.connection,
                        customer_id=customer_id,
                        amount=draft.amount,
                        method=draft.method,
                        reference=draft.reference,
                        received_on=draft.received_on,
                        received_by=f"{operator.name} <{operator.login}>",
                        note=draft.note,
                    )
                except DuplicatePayment as duplicate:
                    errors = {"reference": str(duplicate)}
                except CustomerNotFound:
                    raise NotFoundException() from None
                else:
                    reactivated = await activate_if_paid(
                        db.connection,
                        tenant,
                        customer_id,
                        _today(tenant),
                        secret_key=str(request.app.state.runtime.settings.secret_key),
                        actor=f"system (payment recorded by {operator.login})",
                    )
                    await record_activity(
                        db,
                        operator,
                        "payment.recorded",
                        object_type="customer",
                        object_id=customer_id,
                        summary=f"Recorded {METHOD_LABELS[draft.method].lower()} payment of"
                        f" {format_money(draft.amount, symbol=False)} {draft.amount.currency} from {customer['code']}",
                        details={
                            "payment_id": recorded.payment_id,
                            "bills_paid": [a.bill_id for a in recorded.settlement.allocations],
                            "advance_credit_minor": recorded.settlement.unapplied.minor,
                        },
                        ip=client_ip(request),
                    )
                    if reactivated is not None and reactivated.command_id is not None:
                        command_id = reactivated.command_id
        if command_id is not None:  # after commit: the router learns at once
            await kick(request.app.state.runtime.queue, tenant, command_id)
        if recorded is not None:  # and the payment message goes out now, not at the next tick
            await run_soon(request.app.state.runtime.queue, "notify.send_outbox", tenant, "payment")
        if recorded is not None:
            return see_other(request, f"/panel/customers/{customer_id}?paid={recorded.payment_id}")
        return _payment_page(customer, tenant, data, errors, 422)


async def _customer_or_404(db: TenantScope, customer_id: int) -> Any:
    customer = await db.connection.fetchrow(
        "SELECT c.id, c.code, c.name, c.phone, c.status, coalesce(a.balance_minor, 0) AS balance_minor"
        " FROM customer c LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.id = $1",
        customer_id,
    )
    if customer is None:
        raise NotFoundException()
    return customer


def _payment_page(
    customer: Any, tenant: TenantRef, form: dict[str, str], errors: dict[str, str], status_code: int = 200
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
