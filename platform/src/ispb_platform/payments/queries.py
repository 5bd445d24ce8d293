"""Reads and writes of payments, in the caller's tenant transaction.

The payment form's customer read goes through Piccolo. The money writes stay SQL, on purpose: they run under
the customer's row lock (``SELECT ... FOR UPDATE OF c`` over a join, which Piccolo cannot express), the payment
insert needs a savepoint around a unique violation, and a settlement's allocations and the bills' paid amounts are
written set-based (``unnest`` over the allocations) with the bill's status decided in the same statement.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import asyncpg

from ispb_billing import Money, OpenBill, Settlement
from ispb_tenants import Connection
from ispb_tenants.tables import Customer, CustomerAccount


class PaymentMethod(StrEnum):
    """The values of ``payment.method``."""

    CASH = "cash"
    BANK = "bank"
    MOBILE_MONEY = "mobile_money"
    GATEWAY = "gateway"
    """Paid online at a payment gateway (``payments/online``); never chosen on the cashier's form."""


class CustomerNotFound(LookupError):
    pass


@dataclass(frozen=True)
class CustomerBalance:
    """Who pays and what they owe (``balance_minor`` > 0) or hold in advance credit (< 0)."""

    id: int
    code: str
    name: str
    phone: str
    status: str
    balance_minor: int


@dataclass(frozen=True)
class CreditPayment:
    """A payment with advance credit left: its unallocated minor units."""

    id: int
    unapplied_minor: int


async def customer_balance(customer_id: int) -> CustomerBalance | None:
    """The customer and its balance cache, for showing (no lock: the payment itself locks)."""
    customer = await (
        Customer.select(Customer._meta.primary_key, Customer.code, Customer.name, Customer.phone, Customer.status)
        .where(Customer._meta.primary_key == customer_id)
        .first()
    )
    if customer is None:
        return None
    account = await (
        CustomerAccount.select(CustomerAccount.balance_minor).where(CustomerAccount.customer == customer_id).first()
    )
    return CustomerBalance(**customer, balance_minor=int(account["balance_minor"]) if account else 0)


async def lock_customer(connection: Connection, customer_id: int) -> CustomerBalance:
    """Take the customer's row lock: every money change of one customer runs one at a time (DESIGN 10: take it
    first, then read what the change decides on). Raises ``CustomerNotFound``."""
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT c.id, c.code, c.name, c.phone, c.status, coalesce(a.balance_minor, 0) AS balance_minor"
        " FROM customer c LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.id = $1 FOR UPDATE OF c",
        customer_id,
    )
    if row is None:
        raise CustomerNotFound(customer_id)
    return CustomerBalance(**dict(row))


async def lock_customers(connection: Connection, customer_ids: Sequence[int]) -> list[int]:
    """Take the row locks of several customers at once, the lock ``lock_customer`` takes, in id order: every
    set-based change locks in that order, so two of them wait for each other instead of deadlocking. Returns
    the ids that exist, in id order. Read what the change decides on in a LATER statement: its snapshot then
    includes whatever a lock holder committed while this waited (one statement's snapshot would not)."""
    rows = await connection.fetch(
        "SELECT id FROM customer WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE", list(customer_ids)
    )
    return [int(r["id"]) for r in rows]


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
    """The customer's open invoices, oldest due first (read under the customer's lock by money changes)."""
    rows = await connection.fetch(
        "SELECT id, due_date, issue_date, total_minor - paid_minor AS outstanding FROM bill"
        " WHERE customer_id = $1 AND kind = 'invoice' AND status = 'open' ORDER BY due_date, issue_date, id",
        customer_id,
    )
    return [OpenBill(r["id"], r["due_date"], r["issue_date"], Money(int(r["outstanding"]), currency)) for r in rows]


async def advance_credit(connection: Connection, customer_id: int) -> int:
    """The customer's advance credit: the unallocated part of its payments, in minor units."""
    credit = await connection.fetchval(
        "SELECT coalesce(sum(unapplied_minor), 0) FROM payment WHERE customer_id = $1", customer_id
    )
    return int(credit)


async def payments_with_credit(connection: Connection, customer_id: int) -> list[CreditPayment]:
    """Payments with advance credit left, oldest first (the order credit is spent in)."""
    rows = await connection.fetch(
        "SELECT id, unapplied_minor FROM payment WHERE customer_id = $1 AND unapplied_minor > 0"
        " ORDER BY received_on, id",
        customer_id,
    )
    return [CreditPayment(int(r["id"]), int(r["unapplied_minor"])) for r in rows]


async def insert_payment(
    connection: Connection,
    *,
    customer_id: int,
    amount: Money,
    method: PaymentMethod,
    reference: str,
    received_on: date,
    received_by: str,
    note: str,
) -> int | None:
    """The payment row, all of it advance credit until allocated; None when its reference is already recorded
    (inside a savepoint, so the caller's transaction stays usable)."""
    try:
        async with connection.transaction():
            payment_id = await connection.fetchval(
                "INSERT INTO payment (customer_id, received_on, amount_minor, currency, method, reference, note,"
                " received_by, unapplied_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $3) RETURNING id",
                customer_id,
                received_on,
                amount.minor,
                amount.currency,
                method.value,
                reference,
                note,
                received_by,
            )
    except asyncpg.UniqueViolationError:
        return None
    return int(payment_id)


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
    await pay_bills(connection, bill_ids, amounts)
    await connection.execute(
        "UPDATE payment SET unapplied_minor = unapplied_minor - $2 WHERE id = $1", payment_id, sum(amounts)
    )


async def pay_bills(connection: Connection, bill_ids: Sequence[int], amounts: Sequence[int]) -> None:
    """Move the bills' paid amounts (one total per bill) and mark the fully paid ones: one payment's bills or a
    whole statement chunk's. ``b.id = ANY(...)`` beside the join to the arrays makes the planner fetch the bills
    by primary key; joined to an unnest alone it hashed every bill of the tenant for each chunk of an import."""
    if bill_ids:
        await connection.execute(
            "UPDATE bill b SET paid_minor = b.paid_minor + u.amount,"
            " status = CASE WHEN b.paid_minor + u.amount = b.total_minor THEN 'paid' ELSE b.status END,"
            " updated_at = now() FROM unnest($1::bigint[], $2::bigint[]) AS u(id, amount)"
            " WHERE b.id = u.id AND b.id = ANY($1::bigint[])",
            list(bill_ids),
            list(amounts),
        )


async def add_event(connection: Connection, name: str, customer_id: int, payload: dict[str, Any]) -> None:
    """A domain event in the outbox (``payment.received``, ``customer.suspended``, ...), committed with its cause."""
    await connection.execute(
        "INSERT INTO domain_event (name, customer_id, payload) VALUES ($1, $2, $3::jsonb)",
        name,
        customer_id,
        json.dumps(payload, default=str),
    )
