"""``reports.customer_counts``: each operator's customers by status, once a day, into ``platform.customer_count``.

"Active" (what subscriptions are billed on) means a customer whose status is ``active`` when the count runs:
connected and billed by the operator. Suspended customers (unpaid, or suspended by hand) and disabled ones
(gone) are counted beside it, for the charts, and are not billed. A second run the same day replaces that
day's row (the latest count of the day wins), so the job is safe to run twice.
"""

from datetime import date

from ispb_tenants import Database, list_tenants

_COUNT = """
INSERT INTO platform.customer_count (tenant_id, counted_on, active, suspended, disabled)
SELECT $1, $2, count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE status = 'suspended'),
       count(*) FILTER (WHERE status = 'disabled')
FROM customer
ON CONFLICT (tenant_id, counted_on) DO UPDATE
SET active = EXCLUDED.active, suspended = EXCLUDED.suspended, disabled = EXCLUDED.disabled, counted_at = now()
"""


async def count_customers(db: Database, today: date) -> dict[str, int]:
    """One statement per operator (each in its own schema); every operator, suspended ones included (they are
    billed for the month they were open)."""
    counted = 0
    for info in await list_tenants(db):
        async with db.tenant(info.ref) as scope:
            await scope.connection.execute(_COUNT, info.ref.id, today)
        counted += 1
    return {"operators": counted}
