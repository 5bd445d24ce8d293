"""Recording a payment: allocate it to the customer's open bills oldest first, keep the rest as advance credit.

Everything for one customer happens under that customer's row lock, in one transaction: the payment (which is
the ledger credit), its allocations, the bills' paid amounts and statuses, the balance cache and the
``payment.received`` domain event (the outbox the notifications work consumes). A bank or mobile-money
reference can be recorded once only.
"""

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import asyncpg

from ispb_billing import Money, OpenBill, Settlement, allocate
from ispb_tenants import Connection


class PaymentMethod(StrEnum):
    CASH = "cash"
    BANK = "bank"
    MOBILE_MONEY = "mobile_money"


METHOD_LABELS = {PaymentMethod.CASH: "Cash", PaymentMethod.BANK: "Bank", PaymentMethod.MOBILE_MONEY: "Mobile money"}


class DuplicatePayment(Exception):
    """The same bank or mobile-money reference was already recorded."""


class CustomerNotFound(LookupError):
    pass


@dataclass(frozen=True)
class RecordedPayment:
    payment_id: int
    settlement: Settlement
    balance: Money


async def lock_customer(connection: Connection, customer_id: int) -> asyncpg.Record:
    """Take the customer's row lock: every money change of one customer runs one at a time."""
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT c.id, c.code, c.name, c.phone, c.status, coalesce(a.balance_minor, 0) AS balance_minor"
        " FROM customer c LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.id = $1 FOR UPDATE OF c",
        customer_id,
    )
    if row is None:
        raise CustomerNotFound(customer_id)
    return row


async def move_balance(connection: Connection, customer_id: int, delta_minor: int) -> int:
    """Add ``delta_minor`` to the customer's balance cache (creating its account row); returns the new balance.
    Call it in the transaction that writes the matching ledger entry, under the customer's lock."""
    balance = await connection.fetchval(
        "INSERT INTO customer_account AS a (customer_id, balance_minor) VALUES ($1, $2) ON CONFLICT (customer_id)"
        " DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor RETURNING balance_minor",
        customer_id,
        delta_minor,
    )
    return int(balance)


async def open_bills(connection: Connection, customer_id: int, currency: str) -> list[OpenBill]:
    rows = await connection.fetch(
        "SELECT id, due_date, issue_date, total_minor - paid_minor AS outstanding FROM bill"
        " WHERE customer_id = $1 AND kind = 'invoice' AND status = 'open' ORDER BY due_date, issue_date, id",
        customer_id,
    )
    return [OpenBill(r["id"], r["due_date"], r["issue_date"], Money(int(r["outstanding"]), currency)) for r in rows]


async def apply_allocations(connection: Connection, payment_id: int, settlement: Settlement, source: str) -> None:
    """Write allocations of one payment and move the bills' paid amounts (and status when fully paid)."""
    if not settlement.allocations:
        return
    bill_ids = [a.bill_id for a in settlement.allocations]
    amounts = [a.amount.minor for a in settlement.allocations]
    await connection.execute(
        "INSERT INTO payment_allocation (bill_id, payment_id, amount_minor, source)"
        " SELECT u.bill_id, $3, u.amount, $4 FROM unnest($1::bigint[], $2::bigint[]) AS u(bill_id, amount)",
        bill_ids,
        amounts,
        payment_id,
        source,
    )
    await connection.execute(
        "UPDATE bill b SET paid_minor = b.paid_minor + u.amount,"
        " status = CASE WHEN b.paid_minor + u.amount = b.total_minor THEN 'paid' ELSE b.status END, updated_at = now()"
        " FROM unnest($1::bigint[], $2::bigint[]) AS u(id, amount) WHERE b.id = u.id",
        bill_ids,
        amounts,
    )
    await connection.execute(
        "UPDATE payment SET unapplied_minor = unapplied_minor - $2 WHERE id = $1", payment_id, sum(amounts)
    )


async def record_payment(
    connection: Connection,
    *,
    customer_id: int,
    amount: Money,
    method: PaymentMethod,
    reference: str,
    received_on: date,
    received_by: str,
    note: str = "",
) -> RecordedPayment:
    """Record a payment in the caller's tenant transaction. Raises ``DuplicatePayment``, ``CustomerNotFound``."""
    if not amount.is_positive:
        raise ValueError("a payment amount must be positive")
    customer = await lock_customer(connection, customer_id)
    try:
        async with connection.transaction():  # a savepoint: a duplicate leaves the caller's transaction usable
            payment_id = await connection.fetchval(
                "INSERT INTO payment (customer_id, received_on, amount_minor, currency, method, reference, note,"
                " received_by, unapplied_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $3) RETURNING id",
                customer_id,
                received_on,
                amount.minor,
                amount.currency,
                method.value,
                reference.strip(),
                note.strip(),
                received_by,
            )
    except asyncpg.UniqueViolationError:
        raise DuplicatePayment(
            f"A {METHOD_LABELS[method].lower()} payment with reference {reference.strip()!r} is already recorded."
        ) from None
    settlement = allocate(amount, await open_bills(connection, customer_id, amount.currency))
    await apply_allocations(connection, payment_id, settlement, "payment")
    balance = int(customer["balance_minor"]) - amount.minor
    await move_balance(connection, customer_id, -amount.minor)
    await connection.execute(
        "INSERT INTO domain_event (name, customer_id, payload) VALUES ('payment.received', $1, $2::jsonb)",
        customer_id,
        json.dumps(
            {
                "payment_id": payment_id,
                "amount_minor": amount.minor,
                "currency": amount.currency,
                "method": method.value,
                "balance_minor": balance,
                "bills_paid": [a.bill_id for a in settlement.allocations],
            }
        ),
    )
    return RecordedPayment(int(payment_id), settlement, Money(balance, amount.currency))
