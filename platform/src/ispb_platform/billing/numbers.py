"""Gap-free bill numbers per tenant, series and year: ``INV-2026-000123``, ``CN-2026-000001`` (DESIGN 10).

The counter row is updated inside the issuing transaction and stays locked until it commits, so a rolled-back
transaction gives its numbers back and two transactions never take the same number. SQL on purpose: one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` takes a block of numbers and the row lock in one round trip.
"""

from ispb_tenants import Connection

INVOICE = "INV"
CREDIT_NOTE = "CN"


def format_number(series: str, year: int, number: int) -> str:
    return f"{series}-{year}-{number:06d}"


async def take_numbers(connection: Connection, series: str, year: int, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers in the caller's transaction."""
    if count <= 0:
        return []
    last = await connection.fetchval(
        "INSERT INTO invoice_counter (series, year, last_number) VALUES ($1, $2, $3)"
        " ON CONFLICT (series, year) DO UPDATE SET last_number = invoice_counter.last_number + EXCLUDED.last_number"
        " RETURNING last_number",
        series,
        year,
        count,
    )
    first = int(last) - count + 1
    return [format_number(series, year, n) for n in range(first, int(last) + 1)]
