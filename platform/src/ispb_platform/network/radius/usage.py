"""Customers' data usage from RADIUS accounting: the rollup (``netsync.usage_rollup``) and "usage this cycle".

FreeRADIUS keeps each session's counters in ``radacct`` (64-bit totals). Every 5 minutes the rollup adds what
those counters moved since it last looked to ``customer_usage_daily`` (customer, the tenant's local day), so a
page asking for a customer's usage sums at most a cycle's days instead of scanning accounting (tens of millions of
rows at scale; docs/radius.md), and to ``customer_traffic_total``, the only-growing counters of the customer's
traffic graph (``network/traffic``).

Only rows whose counters differ from what was counted are read: each row carries ``rolledinputoctets`` /
``rolledoutputoctets`` (what the rollup has counted of it), and the partial index ``radacct_unrolled_idx`` holds
exactly the rows where they differ. So a run reads the sessions that moved, never the history. The delta of a row
is ``counter - rolled``, or ``counter`` when the counter is smaller (the NAS restarted it from zero: FreeRADIUS's
queries never let an older Interim-Update step a counter back). A session that reuses an id after a NAS reboot is
a new row counted from zero. Traffic is dated by the row's last update (the NAS's Event-Timestamp), so a session
that runs across midnight, or across the start of a billing cycle, splits at its Interim-Updates.

Safe twice and concurrently: each chunk picks its rows ``FOR UPDATE SKIP LOCKED`` and, in one statement, moves
their rolled counters up and adds the deltas, so a row's octets are counted exactly once.

Example::

    counts = await rollup(db, tenant)                              # {'sessions': 812, 'customer_days': 790, ...}
    usage = await usage_this_cycle(connection, customer_id=42, today=date(2026, 12, 2))
    usage.download_octets, usage.first_day, usage.last_day
"""

from dataclasses import dataclass
from datetime import date, timedelta

from ispb_platform.billing.queries import billed_period_on
from ispb_platform.jobs.job import Counts
from ispb_tenants import Connection, Database, TenantRef

BATCH = 5_000
"""Sessions per transaction: short row locks (FreeRADIUS's next Interim-Update for a picked row waits for it)."""

# One statement per chunk. RETURNING of the counting step feeds the usage upsert; rows of usernames that are no
# customer's (a deleted customer, a test login) are marked counted and reported as such.
_ROLLUP_CHUNK = """
WITH picked AS (
    SELECT radacctid, acctstarttime, username,
           coalesce(acctinputoctets, 0) AS input, coalesce(acctoutputoctets, 0) AS output,
           rolledinputoctets AS rolled_input, rolledoutputoctets AS rolled_output,
           coalesce(acctupdatetime, acctstarttime) AS measured_at
    FROM radacct
    WHERE coalesce(acctinputoctets, 0) <> rolledinputoctets OR coalesce(acctoutputoctets, 0) <> rolledoutputoctets
    ORDER BY radacctid  -- walks radacct_unrolled_idx; without it the planner scans whole partitions for LIMIT rows
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), counted AS (
    UPDATE radacct a SET rolledinputoctets = p.input, rolledoutputoctets = p.output
    FROM picked p
    WHERE a.radacctid = p.radacctid AND a.acctstarttime = p.acctstarttime
    RETURNING p.username, p.measured_at,
        CASE WHEN p.output >= p.rolled_output THEN p.output - p.rolled_output ELSE p.output END AS download,
        CASE WHEN p.input >= p.rolled_input THEN p.input - p.rolled_input ELSE p.input END AS upload
), daily AS (
    SELECT c.id AS customer_id, (d.measured_at AT TIME ZONE $2)::date AS day,
           sum(d.download)::bigint AS download, sum(d.upload)::bigint AS upload
    FROM counted d
    JOIN customer c ON c.pppoe_username = d.username
    GROUP BY 1, 2
), added AS (
    INSERT INTO customer_usage_daily AS u (customer_id, day, download_octets, upload_octets)
    SELECT customer_id, day, download, upload FROM daily
    ON CONFLICT (customer_id, day) DO UPDATE
    SET download_octets = u.download_octets + excluded.download_octets,
        upload_octets = u.upload_octets + excluded.upload_octets
    RETURNING 1
), totals AS (
    INSERT INTO customer_traffic_total AS t (customer_id, download_octets, upload_octets)
    SELECT customer_id, sum(download), sum(upload) FROM daily GROUP BY customer_id
    ON CONFLICT (customer_id) DO UPDATE
    SET download_octets = t.download_octets + excluded.download_octets,
        upload_octets = t.upload_octets + excluded.upload_octets
)
SELECT (SELECT count(*) FROM counted) AS sessions,
       (SELECT count(*) FROM counted d WHERE NOT EXISTS (SELECT 1 FROM customer c WHERE c.pppoe_username = d.username))
           AS not_a_customer,
       (SELECT count(*) FROM added) AS customer_days
"""


async def rollup(db: Database, tenant: TenantRef, *, batch: int = BATCH) -> Counts:
    """Add every session's counter movement since the last run to its customer's day (``tenant.timezone``)."""
    totals = {"sessions": 0, "not_a_customer": 0, "customer_days": 0}
    while True:
        async with db.tenant(tenant) as scope:
            row = await scope.connection.fetchrow(_ROLLUP_CHUNK, batch, tenant.timezone)
        assert row is not None  # an aggregate row always comes back
        for key in totals:
            totals[key] += int(row[key])
        if row["sessions"] < batch:
            return totals


@dataclass(frozen=True)
class Usage:
    """Octets a customer moved from ``first_day`` to ``last_day`` (inclusive, the tenant's days)."""

    first_day: date
    last_day: date
    download_octets: int
    upload_octets: int

    @property
    def total_octets(self) -> int:
        return self.download_octets + self.upload_octets


async def usage_between(connection: Connection, customer_id: int, first_day: date, last_day: date) -> Usage:
    """The customer's usage over the days ``first_day``..``last_day`` (one index range: at most a cycle's rows)."""
    row = await connection.fetchrow(
        "SELECT coalesce(sum(download_octets), 0)::bigint AS download, coalesce(sum(upload_octets), 0)::bigint AS up"
        " FROM customer_usage_daily WHERE customer_id = $1 AND day BETWEEN $2 AND $3",
        customer_id,
        first_day,
        last_day,
    )
    assert row is not None
    return Usage(first_day, last_day, int(row["download"]), int(row["up"]))


def calendar_month(today: date) -> tuple[date, date]:
    """The calendar month of ``today``: the cycle of a customer who has no invoice for today yet.

    >>> calendar_month(date(2026, 2, 14))
    (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    """
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


async def usage_this_cycle(connection: Connection, customer_id: int, today: date) -> Usage:
    """The customer's usage in the billing cycle that contains ``today`` (the tenant's local date).

    The cycle is the period of the customer's invoice covering ``today`` (monthly from the billing day, or the
    daily-cycle package's validity); a customer not yet billed for today counts from the first of the month.
    """
    period = await billed_period_on(connection, customer_id, today)
    first, last = (period.period_start, period.period_end) if period else calendar_month(today)
    return await usage_between(connection, customer_id, first, last)


async def traffic_totals(connection: Connection) -> list[tuple[int, int, int]]:
    """(customer id, download octets, upload octets) since counting began, for every customer with traffic:
    the counters the traffic graphs are fed (one read of a table with a row per customer)."""
    rows = await connection.fetch("SELECT customer_id, download_octets, upload_octets FROM customer_traffic_total")
    return [(int(r["customer_id"]), int(r["download_octets"]), int(r["upload_octets"])) for r in rows]
