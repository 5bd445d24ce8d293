"""Reads of the precomputed report tables (``refresh.py`` writes them): small, indexed by month, fast at any size."""

from datetime import date, datetime
from typing import Any, cast

from asyncpg import Connection


async def months(connection: Connection, first: date, last: date) -> list[dict[str, Any]]:
    """The month figures and customer snapshots of ``first`` … ``last`` (first days of months), oldest first; a
    month without figures has NULLs (no row yet), told apart from zeros by the charts."""
    rows = await connection.fetch(
        "SELECT g.month, m.invoices, m.billed_minor, m.credited_minor, m.payments, m.paid_minor, m.new_customers,"
        " m.suspensions, s.active, s.suspended, s.disabled, p.disabled AS disabled_before"
        " FROM generate_series($1::date, $2::date, interval '1 month') AS s0(m0)"
        " CROSS JOIN LATERAL (SELECT s0.m0::date AS month) g"
        " LEFT JOIN report_month m ON m.month = g.month"
        " LEFT JOIN report_customer_month s ON s.month = g.month"
        " LEFT JOIN report_customer_month p ON p.month = (g.month - interval '1 month')::date"
        " ORDER BY g.month",
        first,
        last,
    )
    return [dict(row) for row in rows]


async def top_overdue(connection: Connection) -> list[dict[str, Any]]:
    """The customers owing most on bills past due, best first, with their code, name and status."""
    rows = await connection.fetch(
        "SELECT o.rank, o.customer_id, c.code, c.name, c.status, o.overdue_minor, o.overdue_bills, o.oldest_due,"
        " o.refreshed_at FROM report_top_overdue o JOIN customer c ON c.id = o.customer_id ORDER BY o.rank"
    )
    return [dict(row) for row in rows]


async def last_refreshed(connection: Connection) -> datetime | None:
    """When the report job last counted (None before its first run): the page says how fresh its figures are."""
    moment = await connection.fetchval("SELECT max(refreshed_at) FROM report_month")
    return None if moment is None else cast(datetime, moment)
