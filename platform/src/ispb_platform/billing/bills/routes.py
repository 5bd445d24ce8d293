"""Bills and Payments → Customer Bills: list with filters and totals, bill detail, void with a credit note,
and recording a payment for a customer (which settles open bills oldest first)."""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import PUBLIC, allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing import queries
from ispb_platform.billing.bills.service import CannotVoid, void_invoice
from ispb_platform.billing.invoices.service import (
    LINK_DAYS,
    invoice_document,
    link_expiry,
    pdf_response,
    read_link,
    sign_link,
)
from ispb_platform.billing.queries import BillFilters
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.service import (
    METHOD_LABELS,
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
