"""Voiding an invoice: issue a credit note for its total; issued bills themselves are never edited (DESIGN 4).

Under the customer's row lock, in one transaction: payments allocated to the invoice are released (their money
returns to the customer's advance credit), a credit note with a ``CN-`` number and reversal lines is issued and
allocated to the invoice (the credit note is the ledger's credit), and the invoice turns ``void``.
"""

from dataclasses import dataclass
from datetime import date

from ispb_platform.billing.numbers import CREDIT_NOTE, take_numbers
from ispb_platform.payments.service import lock_customer, move_balance
from ispb_tenants import Connection


class CannotVoid(Exception):
    """The bill is a credit note or is already void."""


@dataclass(frozen=True)
class VoidResult:
    credit_note_id: int
    credit_note_number: str
    released_minor: int


async def void_invoice(connection: Connection, bill_id: int, *, today: date, reason: str, by: str) -> VoidResult:
    """Raises ``LookupError`` for an unknown bill and ``CannotVoid`` when it cannot be voided."""
    bill = await connection.fetchrow("SELECT customer_id FROM bill WHERE id = $1", bill_id)
    if bill is None:
        raise LookupError(bill_id)
    await lock_customer(connection, bill["customer_id"])
    invoice = await connection.fetchrow("SELECT * FROM bill WHERE id = $1 FOR UPDATE", bill_id)
    assert invoice is not None  # the customer's lock is held and bills are never deleted
    if invoice["kind"] != "invoice":
        raise CannotVoid("A credit note cannot be voided.")
    if invoice["status"] == "void":
        raise CannotVoid(f"{invoice['number']} is already void.")
    released = await connection.fetch(
        "UPDATE payment_allocation SET released_at = now() WHERE bill_id = $1 AND released_at IS NULL"
        " AND payment_id IS NOT NULL RETURNING payment_id, amount_minor",
        bill_id,
    )
    for row in released:
        await connection.execute(
            "UPDATE payment SET unapplied_minor = unapplied_minor + $2 WHERE id = $1",
            row["payment_id"],
            row["amount_minor"],
        )
    [number] = await take_numbers(connection, CREDIT_NOTE, today.year, 1)
    credit_note_id = await connection.fetchval(
        "INSERT INTO bill (customer_id, kind, number, period_start, period_end, issue_date, due_date, currency,"
        " net_minor, vat_minor, total_minor, status, package_id, package_name, prorata, reverses_bill_id, note,"
        " created_by) VALUES ($1, 'credit_note', $2, $3, $4, $5, $5, $6, $7, $8, $9, 'issued', $10, $11, $12,"
        " $13, $14, $15) RETURNING id",
        invoice["customer_id"],
        number,
        invoice["period_start"],
        invoice["period_end"],
        today,
        invoice["currency"],
        invoice["net_minor"],
        invoice["vat_minor"],
        invoice["total_minor"],
        invoice["package_id"],
        invoice["package_name"],
        invoice["prorata"],
        bill_id,
        reason.strip(),
        by,
    )
    await connection.execute(
        "INSERT INTO bill_line (bill_id, position, kind, description, net_minor, vat_rate_bp, vat_minor)"
        " SELECT $1, position, 'reversal', 'Reverses ' || $2 || ': ' || description, net_minor, vat_rate_bp,"
        " vat_minor FROM bill_line WHERE bill_id = $3",
        credit_note_id,
        invoice["number"],
        bill_id,
    )
    if invoice["total_minor"] > 0:
        await connection.execute(
            "INSERT INTO payment_allocation (bill_id, credit_note_id, amount_minor, source)"
            " VALUES ($1, $2, $3, 'credit_note')",
            bill_id,
            credit_note_id,
            invoice["total_minor"],
        )
        await move_balance(connection, invoice["customer_id"], -invoice["total_minor"])
    await connection.execute(
        "UPDATE bill SET status = 'void', paid_minor = total_minor, updated_at = now() WHERE id = $1", bill_id
    )
    return VoidResult(int(credit_note_id), number, sum(int(r["amount_minor"]) for r in released))
