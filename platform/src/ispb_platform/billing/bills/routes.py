"""Bills and Payments → Customer Bills: list with filters and totals, bill detail, void with a credit note,
and recording a payment for a customer (which settles open bills oldest first)."""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_billing import Money, format_money
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import PUBLIC, allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing import queries
from ispb_platform.billing.bills.void import CannotVoid, void_invoice
from ispb_platform.billing.invoices.service import (
    LINK_DAYS,
    invoice_document,
    link_expiry,
    pdf_response,
    read_link,
    sign_link,
)
from ispb_platform.billing.queries import BillFilters
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
from ispb_platform.web.forms import form_fields, is_htmx, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import TenantRef, TenantScope, get_tenant

Operator = NamedDependency[Principal]


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": "/panel/bills", **context}, status_code=status_code)


def _today(tenant: TenantRef) -> Any:
    return local_today(datetime.now(UTC), tenant)


async def _bill_or_404(db: TenantScope, bill_id: int) -> Any:
    bill = await queries.get_bill(db.connection, bill_id)
    if bill is None:
        raise NotFoundException()
    return bill


class BillController(Controller):
    path = "/panel/bills"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    async def list_bills(
        self,
        request: Request[Any, Any, Any],
        operator: Operator,
        month: FromQuery[str] = "",
        status: FromQuery[str] = "",
        area: FromQuery[str] = "",
        q: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        tenant = operator.require_tenant()
        if not month and "month" not in request.query_params:  # first visit: this month's bills
            month = _today(tenant).strftime("%Y-%m")
        filters = BillFilters(month=queries.parse_month(month), status=status, area=area.strip(), q=q.strip()[:64])
        async with own_tenant_scope(request) as db:
            result = await queries.list_bills(db.connection, filters, page)
            areas = (
                []
                if is_htmx(request)
                else await db.connection.fetch("SELECT DISTINCT area FROM customer WHERE area <> '' ORDER BY area")
            )
        context: dict[str, Any] = {"result": result, "filters": filters, "month": month, "currency": tenant.currency}
        if is_htmx(request):
            return Template("billing/bills/_table.html", context=context)
        return _page("billing/bills/list.html", areas=[r["area"] for r in areas], statuses=queries.STATUSES, **context)

    @get("/{bill_id:int}", opt=allow(OPERATORS))
    async def view_bill(self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            bill = await _bill_or_404(db, bill_id)
            lines = await queries.bill_lines(db.connection, bill_id)
            allocations = await queries.bill_allocations(db.connection, bill_id)
        return _page(
            "billing/bills/detail.html",
            bill=bill,
            lines=lines,
            allocations=allocations,
            methods={m.value: label for m, label in METHOD_LABELS.items()},
            currency=bill["currency"],
            problem="",
        )

    @get("/{bill_id:int}/pdf", opt=allow(OPERATORS))
    async def bill_pdf(
        self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Response[bytes]:
        async with own_tenant_scope(request) as db:
            document = await invoice_document(db.connection, operator.require_tenant(), bill_id)
        if document is None:
            raise NotFoundException()
        return await pdf_response(request.app, document)

    @post("/{bill_id:int}/share", opt=allow(OPERATORS))
    async def share_bill(self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]) -> Template:
        """A signed link that opens this bill's PDF without signing in, for a few days (to send by SMS)."""
        tenant = operator.require_tenant()
        async with own_tenant_scope(request) as db:
            bill = await _bill_or_404(db, bill_id)
            token = sign_link(request.app.state.runtime.settings.secret_key, tenant.id, bill_id)
            await record_activity(
                db,
                operator,
                "bill.link_shared",
                object_type="customer",
                object_id=bill["customer_id"],
                summary=f"Made a {LINK_DAYS}-day link to {bill['number']}",
                ip=client_ip(request),
            )
        url = f"{request.base_url}invoices/{token}"
        return Template("billing/bills/_share.html", context={"url": url, "expires": link_expiry(token)})

    @post("/{bill_id:int}/void", opt=allow(OPERATOR_ADMINS))
    async def void_bill(
        self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Template | Response[Any]:
        reason = (await form_fields(request)).get("reason", "").strip()
        async with own_tenant_scope(request) as db:
            bill = await _bill_or_404(db, bill_id)
            problem = "" if reason else "Say why the bill is voided; the credit note shows it."
            if not problem:
                try:
                    result = await void_invoice(
                        db.connection,
                        bill_id,
                        today=_today(operator.require_tenant()),
                        reason=reason[:500],
                        by=f"{operator.name} <{operator.login}>",
                    )
                except CannotVoid as refused:
                    problem = str(refused)
                else:
                    await record_activity(
                        db,
                        operator,
                        "bill.voided",
                        object_type="customer",
                        object_id=bill["customer_id"],
                        summary=f"Voided {bill['number']} with credit note {result.credit_note_number}: {reason}",
                        details={"bill_id": bill_id, "released_minor": result.released_minor},
                        ip=client_ip(request),
                    )
                    return see_other(request, f"/panel/bills/{result.credit_note_id}")
            lines = await queries.bill_lines(db.connection, bill_id)
            allocations = await queries.bill_allocations(db.connection, bill_id)
        return _page(
            "billing/bills/detail.html",
            422,
            bill=bill,
            lines=lines,
            allocations=allocations,
            methods={m.value: label for m, label in METHOD_LABELS.items()},
            currency=bill["currency"],
            problem=problem,
        )


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


@get("/invoices/{token:str}", opt=PUBLIC)
async def shared_invoice(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """A shared invoice link: the one bill its signature names, until it expires; 404 for anything else."""
    runtime = request.app.state.runtime
    found = read_link(runtime.settings.secret_key, token)
    if found is None:
        raise NotFoundException()
    tenant_id, bill_id = found
    async with runtime.db.platform() as connection:
        row = await connection.fetchrow("SELECT slug FROM tenant WHERE id = $1 AND status = 'active'", tenant_id)
    if row is None:
        raise NotFoundException()
    tenant = await get_tenant(runtime.db, row["slug"])
    async with runtime.db.tenant(tenant) as scope:
        document = await invoice_document(scope.connection, tenant, bill_id)
    if document is None:
        raise NotFoundException()
    return await pdf_response(request.app, document, download=False)
