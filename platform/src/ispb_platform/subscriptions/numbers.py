"""Gap-free subscription bill numbers: ``SUB-2026-000001`` for bills, ``SCN-2026-000001`` for credit notes.

The same rule as operators' invoice numbers (``billing/numbers.py``, DESIGN 10): the counter row is taken by the
issuing transaction and stays locked until it commits, so a rollback gives its numbers back and two
transactions never share one. Platform tables, so the names are schema-qualified (jobs call it from tenant
scopes too).
"""

import asyncpg

from ispb_platform.billing.numbers import format_number

BILL = "SUB"
CREDIT_NOTE = "SCN"


async def take_numbers(connection: asyncpg.Connection, series: str, year: int, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers in the caller's transaction."""
    if count <= 0:
        return []
    last = await connection.fetchval(
        "INSERT INTO platform.subscription_counter (series, year, last_number) VALUES ($1, $2, $3)"
        " ON CONFLICT (series, year) DO UPDATE"
        " SET last_number = subscription_counter.last_number + EXCLUDED.last_number RETURNING last_number",
        series,
        year,
        count,
    )
    return [format_number(series, year, n) for n in range(int(last) - count + 1, int(last) + 1)]
