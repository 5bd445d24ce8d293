"""The PDF of a subscription bill: the invoice PDF machinery (``billing/invoices``) with the platform as issuer
and the operator as the one billed. Read in a short transaction, rendered after it closed."""

from typing import Any

import asyncpg
from litestar import Litestar, Response

from ispb_billing import Money, format_money
from ispb_platform.billing.invoices import InvoiceDocument, InvoiceLine
from ispb_platform.billing.invoices.service import pdf_response
from ispb_platform.subscriptions import queries

_STATUS = {"open": "Unpaid", "paid": "Paid", "void": "Void", "issued": "Issued"}


async def bill_document(connection: asyncpg.Connection, bill: queries.Bill) -> InvoiceDocument | None:
    """None for a draft (an SMS bill of the running month has no number yet)."""
    if bill.number is None:
        return None
    issuer = await queries.settings(connection)
    operator = await connection.fetchrow(
        "SELECT slug, name, address, phone FROM platform.tenant WHERE id = $1", bill.tenant_id
    )
    assert operator is not None, "a bill's operator"
    lines = await queries.bill_lines(connection, bill.id)
    refers_to = ""
    if bill.kind == "credit_note":
        refers_to = await connection.fetchval(
            "SELECT r.number FROM platform.subscription_bill b JOIN platform.subscription_bill r"
            " ON r.id = b.reverses_bill_id WHERE b.id = $1",
            bill.id,
        )

    def text(minor: int) -> str:
        return format_money(Money(int(minor), bill.currency))

    status = _STATUS.get(bill.status, bill.status)
    if bill.status == "open" and bill.paid_minor > 0:
        status = "Partly paid"
    return InvoiceDocument(
        operator_name=issuer.issuer_name,
        operator_address=issuer.issuer_address,
        operator_phone=issuer.issuer_phone,
        operator_email=issuer.issuer_email,
        logo=None,
        logo_type="",
        invoice_number=bill.number,
        kind="Credit note" if bill.kind == "credit_note" else f"{bill.title} invoice",
        issue_date=bill.issue_date.isoformat() if bill.issue_date else "",
        due_date=bill.due_date.isoformat() if bill.due_date else "",
        period=f"{bill.period_start.isoformat()} – {bill.period_end.isoformat()}",
        customer_code=operator["slug"],
        customer_name=operator["name"],
        customer_address=operator["address"],
        customer_phone=operator["phone"],
        lines=tuple(
            InvoiceLine(
                description=line.description,
                net=text(line.amount_minor),
                vat_rate="0%",
                vat=text(0),
                total=text(line.amount_minor),
            )
            for line in lines
        ),
        net_total=text(bill.total_minor),
        vat_total=text(0),
        total=text(bill.total_minor),
        amount_paid=text(0 if bill.kind == "credit_note" else bill.paid_minor),
        balance_due=text(bill.due_minor),
        status=status,
        currency=bill.currency,
        notes=bill.note
        if bill.kind == "credit_note"
        else (
            f"Unpaid on {bill.lock_on:%-d %b %Y}, the operator's panel locks until it is paid." if bill.lock_on else ""
        ),
        refers_to=refers_to or "",
    )


async def bill_pdf(app: Litestar, bill_id: int, *, tenant_id: int | None) -> Response[Any] | None:
    """The PDF of one bill (only of ``tenant_id`` when given); None when there is none to print."""
    async with app.state.runtime.db.platform() as connection:
        bill = await queries.get_bill(connection, bill_id, tenant_id)
        document = None if bill is None else await bill_document(connection, bill)
    if document is None:
        return None
    return await pdf_response(app, document)
