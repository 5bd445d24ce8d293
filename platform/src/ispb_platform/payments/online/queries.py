"""Reads and writes of checkouts (``online_payment``), in the caller's tenant transaction.

SQL on purpose, like ``payments/queries.py``: settling locks the customer, then the checkout row
(``FOR UPDATE``), and decides on what it reads under those locks (DESIGN 10).
"""

from dataclasses import dataclass
from datetime import datetime

from ispb_billing import Money
from ispb_platform.payments.online.gateway import Pending, Provider
from ispb_tenants import Connection


@dataclass(frozen=True)
class OnlinePaymentRow:
    id: int
    customer_id: int
    provider: Provider
    amount: Money
    merchant_ref: str
    gateway_ref: str | None
    transaction_id: str | None
    status: str
    origin: str
    last_answer: str
    created_at: datetime
    payment_id: int | None

    @property
    def pending(self) -> Pending:
        return Pending(self.merchant_ref, self.gateway_ref or "", self.amount)


_COLUMNS = (
    "id, customer_id, provider, amount_minor, currency, merchant_ref, gateway_ref, transaction_id, status, origin,"
    " last_answer, created_at, payment_id"
)


def _row(record: object) -> OnlinePaymentRow:
    r = dict(record)  # type: ignore[call-overload]
    return OnlinePaymentRow(
        r["id"],
        r["customer_id"],
        Provider(r["provider"]),
        Money(int(r["amount_minor"]), r["currency"]),
        r["merchant_ref"],
        r["gateway_ref"],
        r["transaction_id"],
        r["status"],
        r["origin"],
        r["last_answer"],
        r["created_at"],
        r["payment_id"],
    )


async def insert_checkout(
    connection: Connection, customer_id: int, provider: Provider, amount: Money, merchant_ref: str, origin: str
) -> int:
    return int(
        await connection.fetchval(
            "INSERT INTO online_payment (customer_id, provider, amount_minor, currency, merchant_ref, origin)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            customer_id,
            provider.value,
            amount.minor,
            amount.currency,
            merchant_ref,
            origin,
        )
    )


async def checkouts_opened_lately(connection: Connection, customer_id: int, within_minutes: int) -> int:
    """How many checkouts the customer opened in the last ``within_minutes`` (a cap against abuse)."""
    return int(
        await connection.fetchval(
            "SELECT count(*) FROM online_payment WHERE customer_id = $1"
            " AND created_at > now() - make_interval(mins => $2)",
            customer_id,
            within_minutes,
        )
    )


async def set_gateway_ref(connection: Connection, checkout_id: int, gateway_ref: str) -> None:
    await connection.execute(
        "UPDATE online_payment SET gateway_ref = $2 WHERE id = $1 AND gateway_ref IS NULL", checkout_id, gateway_ref
    )


async def by_merchant_ref(connection: Connection, merchant_ref: str) -> OnlinePaymentRow | None:
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM online_payment WHERE merchant_ref = $1", merchant_ref)  # noqa: S608 (constant columns)
    return None if row is None else _row(row)


async def lock_checkout(connection: Connection, checkout_id: int) -> OnlinePaymentRow:
    """The checkout row under its lock (take the customer's lock first: money changes lock in that order)."""
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM online_payment WHERE id = $1 FOR UPDATE", checkout_id)  # noqa: S608 (constant columns)
    assert row is not None, "a checkout is never deleted"
    return _row(row)


async def close(connection: Connection, checkout_id: int, status: str, answer: str) -> None:
    """End a pending checkout as failed, expired or refused, with the reason."""
    await connection.execute(
        "UPDATE online_payment SET status = $2, last_answer = $3, closed_at = now(), checked_at = now(),"
        " checks = checks + 1 WHERE id = $1 AND status = 'pending'",
        checkout_id,
        status,
        answer,
    )


async def complete(connection: Connection, checkout_id: int, payment_id: int, transaction_id: str, answer: str) -> None:
    await connection.execute(
        "UPDATE online_payment SET status = 'completed', payment_id = $2, transaction_id = $3, last_answer = $4,"
        " closed_at = now(), checked_at = now(), checks = checks + 1 WHERE id = $1 AND status = 'pending'",
        checkout_id,
        payment_id,
        transaction_id,
        answer,
    )


async def note_answer(connection: Connection, checkout_ids: list[int], answer: str) -> None:
    """The gateway's answer about checkouts that stay pending (set-based: a whole unreachable gateway's)."""
    await connection.execute(
        "UPDATE online_payment SET last_answer = $2, checked_at = now(), checks = checks + 1"
        " WHERE id = ANY($1::bigint[]) AND status = 'pending'",
        checkout_ids,
        answer,
    )


async def due_for_recheck(connection: Connection, older_than: datetime, limit: int) -> list[OnlinePaymentRow]:
    """Pending checkouts started before ``older_than``, the least recently checked first."""
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM online_payment WHERE status = 'pending' AND created_at < $1"  # noqa: S608 (constant columns)
        " ORDER BY checked_at NULLS FIRST, id LIMIT $2",
        older_than,
        limit,
    )
    return [_row(r) for r in rows]


async def customer_status(connection: Connection, customer_id: int) -> str | None:
    """Active, suspended, ...: what the result page tells a customer who just paid."""
    status = await connection.fetchval("SELECT status FROM customer WHERE id = $1", customer_id)
    return None if status is None else str(status)


@dataclass(frozen=True)
class CheckoutLine:
    """One checkout as the operator's Online payments page lists it."""

    id: int
    customer_id: int
    customer_code: str
    provider: Provider
    amount: Money
    status: str
    transaction_id: str | None
    last_answer: str
    origin: str
    created_at: datetime


async def recent_checkouts(connection: Connection, limit: int = 100) -> list[CheckoutLine]:
    """The newest checkouts, with their customers' codes (newest first)."""
    rows = await connection.fetch(
        "SELECT o.id, o.customer_id, c.code, o.provider, o.amount_minor, o.currency, o.status, o.transaction_id,"
        " o.last_answer, o.origin, o.created_at FROM online_payment o JOIN customer c ON c.id = o.customer_id"
        " ORDER BY o.created_at DESC, o.id DESC LIMIT $1",
        limit,
    )
    return [
        CheckoutLine(
            r["id"],
            r["customer_id"],
            r["code"],
            Provider(r["provider"]),
            Money(int(r["amount_minor"]), r["currency"]),
            r["status"],
            r["transaction_id"],
            r["last_answer"],
            r["origin"],
            r["created_at"],
        )
        for r in rows
    ]
