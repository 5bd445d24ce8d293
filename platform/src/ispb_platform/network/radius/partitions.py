"""radacct's monthly partitions (``netsync.radacct_partitions``): the next months made ready, old months dropped.

radacct is range-partitioned by month (UTC) on AcctStartTime (tenant migration 0012, docs/radius.md). A start
with no partition of its own lands in ``radacct_default``, which works but is one unpartitioned heap: so the job
keeps the current month and `AHEAD_MONTHS` more ready, and ``radacct_add_month`` (the migration's SQL function)
moves rows that reached the default partition into their month when it is created. Months older than the
tenant's ``accounting_retention_months`` are dropped whole (one ``DROP TABLE``: no row-by-row delete, no bloat),
with their ``radacct_key`` rows, any old rows in the default partition and the customers' usage days before the
same month (in batches).

Safe twice and concurrently: one advisory lock per tenant serialises runs, creation is "if missing", and a drop
of a dropped month finds nothing. ``lock_timeout`` bounds how long FreeRADIUS's writes can queue behind the
brief exclusive lock that creating or dropping a partition takes; a run that times out fails and is retried.

Example::

    counts = await maintain(db, tenant, today=date(2026, 12, 2), retention_months=12)
    # {'created': 1, 'dropped': 1, 'keys_deleted': 20311, 'default_rows_deleted': 0}
"""

import re
from datetime import UTC, date, datetime

from ispb_platform.jobs.job import Counts
from ispb_tenants import Connection, Database, TenantRef

AHEAD_MONTHS = 3
"""Months created beyond the current one: a worker outage of up to three months never sends starts to the default
partition."""
BATCH = 10_000
"""Rows per transaction when deleting keys and default-partition rows of dropped months."""
LOCK_TIMEOUT = "10s"
_PARTITION = re.compile(r"^radacct_p(\d{4})(\d{2})$")


def month_start(day: date, months: int = 0) -> date:
    """The first day of ``day``'s month, moved by ``months``.

    >>> month_start(date(2026, 12, 31), 1), month_start(date(2026, 1, 15), -13)
    (datetime.date(2027, 1, 1), datetime.date(2024, 12, 1))
    """
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def retention_cutoff(today: date, retention_months: int) -> date:
    """The first month kept: the current one and ``retention_months`` before it.

    >>> retention_cutoff(date(2026, 12, 2), 12)
    datetime.date(2025, 12, 1)
    """
    if retention_months < 1:
        raise ValueError("accounting retention must be at least one month")
    return month_start(today, -retention_months)


async def partitions(connection: Connection) -> list[date]:
    """The months that have a partition of the open tenant's radacct, oldest first."""
    rows = await connection.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'radacct'::regclass"
    )
    months = []
    for row in rows:
        found = _PARTITION.match(row["relname"])
        if found:
            months.append(date(int(found[1]), int(found[2]), 1))
    return sorted(months)


async def maintain(db: Database, tenant: TenantRef, *, today: date, retention_months: int) -> Counts:
    """Create the current and the next `AHEAD_MONTHS` months' partitions and drop those before the retention."""
    cutoff = retention_cutoff(today, retention_months)
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext('netsync.radacct_partitions'), hashtext($1))", tenant.schema
        )
        await connection.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        created = 0
        for ahead in range(AHEAD_MONTHS + 1):
            created += bool(await connection.fetchval("SELECT radacct_add_month($1)", month_start(today, ahead)))
        old = [month for month in await partitions(connection) if month < cutoff]
        for month in old:  # dropping a partition detaches it: a brief exclusive lock on radacct (lock_timeout)
            await connection.execute(f"DROP TABLE radacct_p{month:%Y%m}")
    bound = datetime(cutoff.year, cutoff.month, 1, tzinfo=UTC)
    keys = await _delete_in_batches(db, tenant, "radacct_key", bound)
    strays = await _delete_in_batches(db, tenant, "radacct_default", bound)
    days = await _delete_in_batches(db, tenant, "customer_usage_daily", cutoff)
    return {
        "created": created,
        "dropped": len(old),
        "keys_deleted": keys,
        "default_rows_deleted": strays,
        "usage_days_deleted": days,
    }


# SQL: batched set deletes (LIMIT and SKIP LOCKED in a subquery), which the query builder cannot say
_DELETE_OLD = {
    "radacct_key": "DELETE FROM radacct_key WHERE acctuniqueid IN (SELECT acctuniqueid FROM radacct_key"
    " WHERE acctstarttime < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    "radacct_default": "DELETE FROM radacct_default WHERE radacctid IN (SELECT radacctid FROM radacct_default"
    " WHERE acctstarttime < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    # usage days: in the tenant's calendar, compared with the cut-off month's first day
    "customer_usage_daily": "DELETE FROM customer_usage_daily WHERE (customer_id, day) IN (SELECT customer_id, day"
    " FROM customer_usage_daily WHERE day < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
}


async def _delete_in_batches(db: Database, tenant: TenantRef, table: str, before: date | datetime) -> int:
    total = 0
    while True:
        async with db.tenant(tenant) as scope:
            deleted = int((await scope.connection.execute(_DELETE_OLD[table], before, BATCH)).split()[-1])
        total += deleted
        if deleted < BATCH:
            return total
