"""Paying a subscription bill (recorded by the platform admin, or confirmed by the platform's gateway) and
correcting one with a credit note. Each decides under the bill's row lock and, in the same transaction,
reopens the operator's panel when nothing is left open past its lock date."""

from dataclasses import dataclass
from datetime import date

import asyncpg

from ispb_billing import Money, format_money
from ispb_platform.subscriptions.locking import reopen_if_paid
from ispb_platform.subscriptions.numbers import CREDIT_NOTE, take_numbers

METHODS = ("cash", "bank", "bkash", "nagad", "sslcommerz", "stripe", "other")


class PaymentRefused(ValueError):
    """The payment cannot be recorded; the message says why, for the page."""


@dataclass(frozen=True)
class Recorded:
    payment_id: int
    bill_status: str
    reopened: bool


async def record_payment(
    connection: asyncpg.Connection,
    bill_id: int,
    amount_minor: int,
    *,
    method: str,
    reference: str,
    recorded_by: str,
    paid_on: date,
    transaction_id: str | None = None,
) -> Recorded:
    bill = await connection.fetchrow(
        "SELECT id, tenant_id, status, total_minor, paid_minor, currency FROM platform.subscription_bill"
        " WHERE id = $1 AND kind <> 'credit_note' FOR UPDATE",
        bill_id,
    )
    if bill is None:
        raise PaymentRefused("There is no such bill.")
    if bill["status"] != "open":
        raise PaymentRefused(f"This bill is {bill['status']}: there is nothing to pay on it.")
    due = bill["total_minor"] - bill["paid_minor"]
    if amount_minor <= 0 or amount_minor > due:
        raise PaymentRefused(f"Enter an amount above zero and at most {format_money(Money(due, bill['currency']))}.")
    payment_id = await connection.fetchval(
        "INSERT INTO platform.subscription_payment (bill_id, tenant_id, amount_minor, currency, method, reference,"
        " paid_on, recorded_by, transaction_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        bill_id,
        bill["tenant_id"],
        amount_minor,
        bill["currency"],
        method,
        reference,
        paid_on,
        recorded_by,
        transaction_id,
    )
    status = "paid" if amount_minor == due else "open"
    await connection.execute(
        "UPDATE platform.subscription_bill SET paid_minor = paid_minor + $2, status = $3, updated_at = now()"
        " WHERE id = $1",
        bill_id,
        amount_minor,
        status,
    )
    reopened = await reopen_if_paid(connection, paid_on, bill["tenant_id"])
    return Recorded(payment_id, status, bool(reopened))


async def credit_bill(connection: asyncpg.Connection, bill_id: int, *, reason: str, today: date) -> str:
    """Void an unpaid bill with a credit note for its whole amount (the bill itself never changes); returns the
    credit note's number. A bill with payments on it is refused: those are refunded outside ISPB first."""
    bill = await connection.fetchrow(
        "SELECT id, tenant_id, status, number, total_minor, paid_minor, currency, period_start, period_end"
        " FROM platform.subscription_bill WHERE id = $1 AND kind <> 'credit_note' FOR UPDATE",
        bill_id,
    )
    if bill is None or bill["status"] != "open":
        raise PaymentRefused("Only an issued, unpaid bill can be credited.")
    if bill["paid_minor"] > 0:
        raise PaymentRefused("This bill has payments on it: it cannot be credited in full.")
    [number] = await take_numbers(connection, CREDIT_NOTE, today.year, 1)
    note_id = await connection.fetchval(
        "INSERT INTO platform.subscription_bill (tenant_id, kind, number, status, period_start, period_end,"
        " issue_date, currency, total_minor, reverses_bill_id, note)"
        " VALUES ($1, 'credit_note', $2, 'issued', $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        bill["tenant_id"],
        number,
        bill["period_start"],
        bill["period_end"],
        today,
        bill["currency"],
        bill["total_minor"],
        bill_id,
        reason,
    )
    await connection.execute(
        "INSERT INTO platform.subscription_bill_line (bill_id, description, quantity, unit_price, amount_minor)"
        " VALUES ($1, $2, 1, 0, $3)",
        note_id,
        f"Credit for bill {bill['number']}: {reason}",
        bill["total_minor"],
    )
    await connection.execute(
        "UPDATE platform.subscription_bill SET status = 'void', updated_at = now() WHERE id = $1", bill_id
    )
    await reopen_if_paid(connection, today, bill["tenant_id"])
    return str(number)
