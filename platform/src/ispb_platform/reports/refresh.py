"""Rebuilding the report tables from the source tables: a few set-based statements per tenant, under one lock.

Every statement recomputes from bills, payments, customers and the suspension log and upserts (``ON CONFLICT DO
UPDATE``), so a run is idempotent: twice, or twice at once (the second waits on the transaction-scoped advisory
lock and then writes the same rows), leaves the same tables. Definitions are in docs/reports.md.
"""

from dataclasses import dataclass
from datetime import date

from asyncpg import Connection

TOP_OVERDUE = 10
"""Customers listed on the Overview's "owing most" table."""

# SQL: grouped aggregates over four source tables merged into one upsert, which the query builder cannot say.
_MONTHS = """
WITH figures AS (
    SELECT date_trunc('month', issue_date)::date AS month,
           count(*) FILTER (WHERE kind = 'invoice') AS invoices,
           coalesce(sum(total_minor) FILTER (WHERE kind = 'invoice'), 0) AS billed_minor,
           count(*) FILTER (WHERE kind = 'credit_note') AS credit_notes,
           coalesce(sum(total_minor) FILTER (WHERE kind = 'credit_note'), 0) AS credited_minor,
           0 AS payments, 0 AS paid_minor, 0 AS new_customers, 0 AS suspensions
    FROM bill GROUP BY 1
    UNION ALL
    SELECT date_trunc('month', received_on)::date, 0, 0, 0, 0, count(*), sum(amount_minor), 0, 0
    FROM payment GROUP BY 1
    UNION ALL
    SELECT date_trunc('month', connection_date)::date, 0, 0, 0, 0, 0, 0, count(*), 0
    FROM customer GROUP BY 1
    UNION ALL
    SELECT date_trunc('month', at AT TIME ZONE $1)::date, 0, 0, 0, 0, 0, 0, 0, count(DISTINCT customer_id)
    FROM suspension_log WHERE action = 'suspended' GROUP BY 1
), months AS (
    SELECT month, sum(invoices) AS invoices, sum(billed_minor) AS billed_minor, sum(credit_notes) AS credit_notes,
           sum(credited_minor) AS credited_minor, sum(payments) AS payments, sum(paid_minor) AS paid_minor,
           sum(new_customers) AS new_customers, sum(suspensions) AS suspensions
    FROM figures GROUP BY month
)
INSERT INTO report_month (month, invoices, billed_minor, credit_notes, credited_minor, payments, paid_minor,
                          new_customers, suspensions, refreshed_at)
SELECT month, invoices, billed_minor, credit_notes, credited_minor, payments, paid_minor, new_customers,
       suspensions, now()
FROM months
ON CONFLICT (month) DO UPDATE SET invoices = EXCLUDED.invoices, billed_minor = EXCLUDED.billed_minor,
    credit_notes = EXCLUDED.credit_notes, credited_minor = EXCLUDED.credited_minor, payments = EXCLUDED.payments,
    paid_minor = EXCLUDED.paid_minor, new_customers = EXCLUDED.new_customers, suspensions = EXCLUDED.suspensions,
    refreshed_at = now()
RETURNING month
"""

# Today's states of the customers connected by today, as the month's snapshot; a run for an earlier day
# (``--today``) never overwrites a later one.
_SNAPSHOT = """
INSERT INTO report_customer_month (month, taken_on, active, suspended, disabled, refreshed_at)
SELECT date_trunc('month', $1::date)::date, $1, count(*) FILTER (WHERE status = 'active'),
       count(*) FILTER (WHERE status = 'suspended'), count(*) FILTER (WHERE status = 'disabled'), now()
FROM customer WHERE connection_date <= $1
ON CONFLICT (month) DO UPDATE SET taken_on = EXCLUDED.taken_on, active = EXCLUDED.active,
    suspended = EXCLUDED.suspended, disabled = EXCLUDED.disabled, refreshed_at = now()
WHERE report_customer_month.taken_on <= EXCLUDED.taken_on
"""

_TOP_OVERDUE = """
INSERT INTO report_top_overdue (rank, customer_id, overdue_minor, overdue_bills, oldest_due, refreshed_at)
SELECT row_number() OVER (ORDER BY owed DESC, customer_id), customer_id, owed, bills, oldest, now()
FROM (SELECT customer_id, sum(total_minor - paid_minor) AS owed, count(*) AS bills, min(due_date) AS oldest
      FROM bill WHERE kind = 'invoice' AND status = 'open' AND due_date < $1
      GROUP BY customer_id ORDER BY owed DESC, customer_id LIMIT $2) o
WHERE owed > 0
"""

_YEARS = """
INSERT INTO report_year (year, invoices, billed_minor, credited_minor, payments, paid_minor, new_customers,
                         suspensions, refreshed_at)
SELECT extract(year FROM month)::int, sum(invoices), sum(billed_minor), sum(credited_minor), sum(payments),
       sum(paid_minor), sum(new_customers), sum(suspensions), now()
FROM report_month GROUP BY 1
ON CONFLICT (year) DO UPDATE SET invoices = EXCLUDED.invoices, billed_minor = EXCLUDED.billed_minor,
    credited_minor = EXCLUDED.credited_minor, payments = EXCLUDED.payments, paid_minor = EXCLUDED.paid_minor,
    new_customers = EXCLUDED.new_customers, suspensions = EXCLUDED.suspensions, refreshed_at = now()
"""


@dataclass(frozen=True)
class Refreshed:
    months: int
    overdue_customers: int = 0
    years: int = 0


async def lock_reports(connection: Connection, schema: str) -> None:
    """Both report jobs write the same tables: one at a time per tenant, for the transaction (DESIGN 10: an
    xact lock, as a pooled connection's session locks vanish). The other run waits, then rewrites the same rows."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext('reports'), hashtext($1))", schema)


async def refresh_months(connection: Connection, *, timezone: str, today: date) -> Refreshed:
    """``report_month`` from the sources, this month's customer snapshot and the top overdue list."""
    months = [row["month"] for row in await connection.fetch(_MONTHS, timezone)]
    # a month whose source rows are all gone (its only customer deleted with its suspension log) keeps no row
    await connection.execute("DELETE FROM report_month WHERE month <> ALL($1::date[])", months)
    await connection.execute(_SNAPSHOT, today)
    await connection.execute("DELETE FROM report_top_overdue")
    overdue = await connection.execute(_TOP_OVERDUE, today, TOP_OVERDUE)
    return Refreshed(months=len(months), overdue_customers=_rows(overdue))


async def refresh_years(connection: Connection) -> int:
    """``report_year`` as the sums of its months (call after ``refresh_months`` in the same transaction)."""
    await connection.execute(
        "DELETE FROM report_year WHERE year NOT IN (SELECT extract(year FROM month) FROM report_month)"
    )
    return _rows(await connection.execute(_YEARS))


def _rows(status: str) -> int:
    """The row count of an asyncpg status such as ``INSERT 0 12``."""
    return int(status.split()[-1])
