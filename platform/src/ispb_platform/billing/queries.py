"""Reading bills for the panel: the filtered, paged Customer Bills list with its totals, one bill, a ledger."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from ispb_tenants import Connection

PAGE_SIZE = 50
STATUSES = ("open", "paid", "void")


@dataclass(frozen=True)
class BillFilters:
    month: date | None = None
    """First day of the month whose periods start in it."""
    status: str = ""
    area: str = ""
    q: str = ""
    customer_id: int | None = None


@dataclass(frozen=True)
class BillPage:
    rows: list[asyncpg.Record]
    total: int
    page: int
    pages: int
    billed_minor: int
    paid_minor: int
    outstanding_minor: int


def parse_month(raw: str) -> date | None:
    """``2026-11`` → 2026-11-01; anything else → None (the filter is then off)."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def _where(filters: BillFilters) -> tuple[str, list[Any]]:
    clauses = ["b.kind = 'invoice'"]
    args: list[Any] = []
    if filters.month is not None:
        args.append(filters.month)
        clauses.append(f"b.period_start >= ${len(args)} AND b.period_start < (${len(args)}::date + interval '1 month')")
    if filters.status in STATUSES:
        args.append(filters.status)
        clauses.append(f"b.status = ${len(args)}")
    if filters.area:
        args.append(filters.area)
        clauses.append(f"c.area = ${len(args)}")
    if filters.customer_id is not None:
        args.append(filters.customer_id)
        clauses.append(f"b.customer_id = ${len(args)}")
    if filters.q:
        args.append(filters.q.strip())
        n = len(args)
        clauses.append(f"(b.number ILIKE ${n} || '%' OR c.code ILIKE ${n} || '%' OR c.name ILIKE '%' || ${n} || '%')")
    return " AND ".join(clauses), args


async def list_bills(connection: Connection, filters: BillFilters, page: int) -> BillPage:
    where, args = _where(filters)
    # the clauses are constants of _where; every value travels as a $n parameter
    totals_sql = (
        "SELECT count(*) AS n, coalesce(sum(b.total_minor) FILTER (WHERE b.status <> 'void'), 0) AS billed,"
        " coalesce(sum(b.paid_minor) FILTER (WHERE b.status <> 'void'), 0) AS paid"
        " FROM bill b JOIN customer c ON c.id = b.customer_id WHERE "
    )
    summary = await connection.fetchrow(totals_sql + where, *args)
    total = int(summary["n"]) if summary else 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows_sql = (
        "SELECT b.id, b.number, b.period_start, b.period_end, b.issue_date, b.due_date, b.total_minor,"
        " b.paid_minor, b.status, b.currency, c.id AS customer_id, c.code, c.name, c.area"
        " FROM bill b JOIN customer c ON c.id = b.customer_id WHERE "
    )
    order = f" ORDER BY b.issue_date DESC, b.id DESC LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}"
    rows = await connection.fetch(rows_sql + where + order, *args)
    billed = int(summary["billed"]) if summary else 0
    paid = int(summary["paid"]) if summary else 0
    return BillPage(list(rows), total, page, pages, billed, paid, billed - paid)


async def get_bill(connection: Connection, bill_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT b.*, c.code, c.name AS customer_name, c.phone, c.address, c.area,"
        " r.number AS reverses_number, cn.id AS credit_note_id, cn.number AS credit_note_number"
        " FROM bill b JOIN customer c ON c.id = b.customer_id"
        " LEFT JOIN bill r ON r.id = b.reverses_bill_id LEFT JOIN bill cn ON cn.reverses_bill_id = b.id"
        " WHERE b.id = $1",
        bill_id,
    )
    return row


async def bill_lines(connection: Connection, bill_id: int) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            "SELECT *, net_minor + vat_minor AS total_minor FROM bill_line WHERE bill_id = $1 ORDER BY position",
            bill_id,
        )
    )


async def bill_allocations(connection: Connection, bill_id: int) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            "SELECT a.amount_minor, a.source, a.created_at, a.released_at, p.id AS payment_id, p.received_on,"
            " p.method, p.reference, cn.number AS credit_note_number"
            " FROM payment_allocation a LEFT JOIN payment p ON p.id = a.payment_id"
            " LEFT JOIN bill cn ON cn.id = a.credit_note_id WHERE a.bill_id = $1 ORDER BY a.id",
            bill_id,
        )
    )


async def ledger(connection: Connection, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The customer's latest ledger entries, newest first, each with the balance after it."""
    rows = await connection.fetch(
        "SELECT e.*, sum(CASE WHEN e.kind = 'debit' THEN e.amount_minor ELSE -e.amount_minor END)"
        " OVER (ORDER BY e.on_date, e.created_at, e.bill_id, e.payment_id) AS balance_after"
        " FROM ledger_entry e WHERE e.customer_id = $1 ORDER BY e.on_date, e.created_at, e.bill_id, e.payment_id",
        customer_id,
    )
    return [dict(r) for r in reversed(rows[-limit:])]


async def advance_credit(connection: Connection, customer_id: int) -> int:
    return int(
        await connection.fetchval(
            "SELECT coalesce(sum(unapplied_minor), 0) FROM payment WHERE customer_id = $1", customer_id
        )
    )
