"""Bills and Payments → Customer Bills: list with filters and totals, bill detail, PDF, shared links and void
with a credit note. Recording a payment is the customer's (``payments/routes.py``)."""

from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_platform.auth.access import PUBLIC, allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.billing.bills import queries, service
from ispb_platform.billing.bills.queries import BillDetail, BillFilters
from ispb_platform.billing.bills.service import CannotVoid
from ispb_platform.billing.invoices.service import invoice_pdf, shared_invoice_pdf
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.forms import METHOD_LABELS
from ispb_platform.web.confirm import Confirmation, confirm_page, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, is_htmx, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip, site_url
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_tenants import TenantRef

Operator = NamedDependency[Principal]


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": "/panel/bills", **context}, status_code=status_code)


def _today(tenant: TenantRef) -> date:
    return local_today(datetime.now(UTC), tenant)


async def _bill_or_404(bill_id: int) -> BillDetail:
    bill = await queries.get_bill(bill_id)
    if bill is None:
        raise NotFoundException()
    return bill


async def _detail(bill: BillDetail, status_code: int = 200, conflict: str = "") -> Template:
    """The bill page; ``conflict``: why this bill cannot be voided at all (a credit note, already void), above
    the page."""
    return _page(
        "billing/bills/detail.html",
        status_code,
        bill=bill,
        lines=await queries.bill_lines(bill.id),
        allocations=await queries.bill_allocations(bill.id),
        methods={m.value: label for m, label in METHOD_LABELS.items()},
        currency=bill.currency,
        conflict=conflict,
    )


class BillController(Controller):
    path = "/panel/bills"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_bills(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        month: FromQuery[str] = "",
        status: FromQuery[str] = "",
        area: FromQuery[str] = "",
        q: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        tenant = db.tenant
        if not month and "month" not in request.query_params:  # first visit: this month's bills
            month = _today(tenant).strftime("%Y-%m")
        filters = BillFilters(month=queries.parse_month(month), status=status, area=area.strip(), q=q.strip()[:64])
        found = await service.bill_list(filters, page, with_areas=not is_htmx(request))
        context: dict[str, Any] = {
            "result": found.page,
            "filters": filters,
            "month": month,
            "currency": tenant.currency,
        }
        if is_htmx(request):
            return Template("billing/bills/_table.html", context=context)
        return _page("billing/bills/list.html", areas=found.areas, statuses=queries.STATUSES, **context)

    @get("/{bill_id:int}", opt=allow(OPERATORS))
    @in_tenant_scope
    async def view_bill(self, db: TenantScope, bill_id: FromPath[int]) -> Template:
        return await _detail(await _bill_or_404(bill_id))

    @get("/{bill_id:int}/pdf", opt=allow(OPERATORS))
    async def bill_pdf(
        self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Response[bytes]:
        # No @in_tenant_scope: invoice_pdf reads in its own scope and renders after it closed (no transaction
        # held while the render pool works).
        pdf = await invoice_pdf(request.app, operator.require_tenant(), bill_id)
        if pdf is None:
            raise NotFoundException()
        return pdf

    @post("/{bill_id:int}/share", opt=allow(OPERATORS))
    @in_tenant_scope
    async def share_bill(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Template:
        """A signed link that opens this bill's PDF without signing in, for a few days (to send by SMS)."""
        bill = await _bill_or_404(bill_id)
        secret_key = request.app.state.runtime.settings.secret_key
        link = await service.share_link(db, operator, bill, secret_key=secret_key, ip=client_ip(request))
        url = f"{site_url(request)}/invoices/{link.token}"
        return Template("billing/bills/_share.html", context={"url": url, "expires": link.expires})

    @get("/{bill_id:int}/void", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def confirm_void(self, db: TenantScope, bill_id: FromPath[int]) -> Template:
        bill = await _bill_or_404(bill_id)
        if refusal := service.void_refusal(bill.kind, bill.status, bill.number):
            return await _detail(bill, 409, conflict=refusal)
        return confirm_page(_void_confirmation(bill), BILLS)

    @post("/{bill_id:int}/void", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def void_bill(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Template | Response[Any]:
        bill = await _bill_or_404(bill_id)
        if refusal := service.void_refusal(bill.kind, bill.status, bill.number):  # the bill's state: a conflict
            return await _detail(bill, 409, conflict=refusal)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_void_confirmation(bill), BILLS, reason=reason, errors=errors)
        try:
            result = await service.void_bill(
                db, operator, bill, reason=reason, today=_today(db.tenant), ip=client_ip(request)
            )
        except CannotVoid as refused:  # voided meanwhile
            return await _detail(bill, 409, conflict=str(refused))
        flash(request, "Bill voided; this is its credit note")
        return see_other(request, f"/panel/bills/{result.credit_note_id}")


BILLS = panel_layout("/panel/bills")


def _void_confirmation(bill: BillDetail) -> Confirmation:
    return Confirmation(
        title=f"Void invoice {bill.number} of {bill.code} {bill.customer_name}?",
        consequence="Issued bills are never edited: voiding issues a credit note for the full amount, with your"
        " reason on it. Money already paid on this invoice returns to the customer's advance credit.",
        action=f"/panel/bills/{bill.id}/void",
        button="Void with a credit note",
        back=f"/panel/bills/{bill.id}",
        kept_in="the credit note and the activity log",
    )


@get("/invoices/{token:str}", opt=PUBLIC)
async def shared_invoice(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """A shared invoice link: the one bill its signature names, until it expires; 404 for anything else."""
    pdf = await shared_invoice_pdf(request.app, token)
    if pdf is None:
        raise NotFoundException()
    return pdf
