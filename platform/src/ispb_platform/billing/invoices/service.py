"""Invoice PDFs for the panel, the portal and shared links: build the document, render it, sign links.

Amounts and dates are formatted here with ``ispb_billing`` (the renderer only lays out text). Rendering runs
in the app's :class:`~ispb_platform.billing.invoices.InvoiceRenderer` worker pool, started on first use, so the web
process itself never loads WeasyPrint. A shared link carries an HMAC of (tenant, bill, expiry) made with the
platform's secret key: it opens exactly one document until it expires, and nothing else.

A download never holds a transaction while it renders: :func:`invoice_pdf` reads the document in a tenant scope
it opens itself, closes it, and only then sends the document to the render pool (tens to hundreds of
milliseconds a page), so a burst of downloads does not pin pooled connections and open transactions.
"""

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime

from litestar import Litestar, Response

from ispb_billing import Money, format_money, format_percent
from ispb_platform.billing.bills import queries
from ispb_platform.billing.invoices import InvoiceDocument, InvoiceLine, InvoiceRenderer
from ispb_platform.billing.invoices import queries as invoice_queries
from ispb_tenants import Connection, TenantRef, get_tenant
from ispb_tenants.tables import Tenant
from ispb_tenants.tables.platform import TenantStatus

log = logging.getLogger(__name__)

LINK_DAYS = 14
_STATUS = {"open": "Unpaid", "paid": "Paid", "void": "Void", "issued": "Issued"}
_lock = asyncio.Lock()


async def renderer_of(app: Litestar) -> InvoiceRenderer:
    """The app's renderer, started on first use (one worker process; recycled every 200 invoices)."""
    async with _lock:
        renderer: InvoiceRenderer | None = getattr(app.state, "invoice_renderer", None)
        if renderer is None:
            renderer = InvoiceRenderer(workers=1, recycle_after=200)
            await renderer.start()
            app.state.invoice_renderer = renderer
        return renderer


async def warm_up_renderer(app: Litestar) -> None:
    """Start the app's renderer now, in the background of start-up; a failure is logged and the first
    download tries again (``renderer_of``)."""
    try:
        await renderer_of(app)
    except Exception:
        log.exception("the invoice PDF renderer did not start; the first download will try again")


async def close_renderer(app: Litestar) -> None:
    renderer: InvoiceRenderer | None = getattr(app.state, "invoice_renderer", None)
    if renderer is not None:
        app.state.invoice_renderer = None
        await renderer.close()


async def invoice_pdf(
    app: Litestar, tenant: TenantRef, bill_id: int, *, customer_id: int | None = None, download: bool = True
) -> Response[bytes] | None:
    """The PDF of one bill of ``tenant`` (only if it is ``customer_id``'s, when given); None when there is none.

    Call it outside any tenant scope: it reads in its own short scope and renders after that scope has closed.
    """
    async with app.state.runtime.db.tenant(tenant) as scope:
        document = await invoice_document(scope.connection, tenant, bill_id, customer_id=customer_id)
    if document is None:
        return None
    return await pdf_response(app, document, download=download)


async def invoice_document(
    connection: Connection, tenant: TenantRef, bill_id: int, *, customer_id: int | None = None
) -> InvoiceDocument | None:
    """The printable document of one bill of the current tenant scope (only if it is ``customer_id``'s, when
    given), or None when there is no such bill."""
    bill = await queries.get_bill(bill_id)
    if bill is None or (customer_id is not None and bill.customer_id != customer_id):
        return None
    operator = await invoice_queries.issuer(connection, tenant.id)
    lines = await queries.bill_lines(bill_id)
    currency = bill.currency

    def text(minor: int) -> str:
        return format_money(Money(int(minor), currency))

    credit_note = bill.kind == "credit_note"
    status = _STATUS.get(bill.status, bill.status)
    if bill.status == "open" and bill.paid_minor > 0:
        status = "Partly paid"
    due = 0 if credit_note else bill.total_minor - bill.paid_minor
    return InvoiceDocument(
        operator_name=operator.name,
        operator_address=operator.address,
        operator_phone=operator.phone,
        operator_email=operator.email,
        logo=operator.logo,
        logo_type=operator.logo_type,
        invoice_number=bill.number,
        kind="Credit note" if credit_note else "Invoice",
        issue_date=bill.issue_date.isoformat(),
        due_date=bill.due_date.isoformat(),
        period=f"{bill.period_start.isoformat()} – {bill.period_end.isoformat()}",
        customer_code=bill.code,
        customer_name=bill.customer_name,
        customer_address=bill.address,
        customer_phone=bill.phone,
        lines=tuple(
            InvoiceLine(
                description=line.description,
                net=text(line.net_minor),
                vat_rate=format_percent(line.vat_rate_bp),
                vat=text(line.vat_minor),
                total=text(line.total_minor),
            )
            for line in lines
        ),
        net_total=text(bill.net_minor),
        vat_total=text(bill.vat_minor),
        total=text(bill.total_minor),
        amount_paid=text(0 if credit_note else bill.paid_minor),
        balance_due=text(due),
        status=status,
        currency=currency,
        notes=bill.note,
        refers_to=bill.reverses_number or "",
    )


async def pdf_response(app: Litestar, document: InvoiceDocument, *, download: bool = True) -> Response[bytes]:
    pdf = await (await renderer_of(app)).render(document)
    disposition = "attachment" if download else "inline"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{document.invoice_number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_link(secret: str, tenant_id: int, bill_id: int, *, days: int = LINK_DAYS, now: float | None = None) -> str:
    """A token for ``/invoices/<token>`` that opens this one bill for ``days`` days."""
    expires = int((now or time.time()) + days * 86400)
    payload = f"{tenant_id}.{bill_id}.{expires}"
    return f"{payload}.{_signature(secret, payload)}"


def read_link(secret: str, token: str, *, now: float | None = None) -> tuple[int, int] | None:
    """(tenant id, bill id) of a valid, unexpired token; None for anything else (bad, forged, expired)."""
    parts = token.split(".")
    if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_signature(secret, payload), parts[3]):
        return None
    tenant_id, bill_id, expires = (int(part) for part in parts[:3])
    if expires < (now or time.time()):
        return None
    return tenant_id, bill_id


def link_expiry(token: str) -> datetime:
    return datetime.fromtimestamp(int(token.split(".")[2]), UTC)


async def shared_invoice_pdf(app: Litestar, token: str) -> Response[bytes] | None:
    """The PDF a shared link opens (shown in the browser); None for a bad or expired link, or when the bill or its
    operator is gone or suspended."""
    runtime = app.state.runtime
    found = read_link(runtime.settings.secret_key, token)
    if found is None:
        return None
    tenant_id, bill_id = found
    active = (Tenant._meta.primary_key == tenant_id) & (Tenant.status == TenantStatus.ACTIVE.value)
    operator = await Tenant.select(Tenant.slug).where(active).first()
    if operator is None:
        return None
    return await invoice_pdf(app, await get_tenant(runtime.db, operator["slug"]), bill_id, download=False)
