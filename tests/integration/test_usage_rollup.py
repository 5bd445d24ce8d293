"""Usage per customer from accounting (``netsync.usage_rollup``): deltas split at the tenant's midnight and at a
billing cycle's start, a NAS counter restarting from zero, two runs at once, logins that are no customer's.

Accounting rows are written the way FreeRADIUS's generated queries write them (raw SQL: FreeRADIUS's rows, not
the app's); the round trip through a real FreeRADIUS is in test_radacct_partitions.py. The tenant is in
Asia/Dhaka (UTC+6): 23:55 there is 17:55 UTC.
"""

import asyncio
from datetime import UTC, date, datetime, timedelta

from factories import make_bill, make_customer
from ispb_platform.jobs.job import JobContext
from ispb_platform.network.jobs import usage_rollup
from ispb_platform.network.radius.usage import rollup, usage_between, usage_this_cycle
from ispb_tenants import Database, TenantRef

MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=6)  # 1 December 00:00 in Dhaka


async def _start(db: Database, tenant: TenantRef, sid: str, user: str, at: datetime) -> None:
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "WITH k AS (INSERT INTO radacct_key (acctuniqueid, acctstarttime) VALUES ($1, $3) RETURNING acctstarttime)"
            " INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,"
            " acctinputoctets, acctoutputoctets) SELECT $1, $1, $2, '10.0.0.1', k.acctstarttime, $3, 0, 0 FROM k",
            sid,
            user,
            at,
        )


async def _update(db: Database, tenant: TenantRef, sid: str, at: datetime, upload: int, download: int) -> None:
    async with db.tenant(tenant) as scope:
        status = await scope.connection.execute(
            "UPDATE radacct SET acctupdatetime = $2, acctinputoctets = $3, acctoutputoctets = $4"
            " WHERE acctuniqueid = $1"
            " AND acctstarttime = (SELECT acctstarttime FROM radacct_key WHERE acctuniqueid = $1)",
            sid,
            at,
            upload,
            download,
        )
    assert status == "UPDATE 1"


async def _usage(db: Database, tenant: TenantRef, customer_id: int, first: date, last: date) -> tuple[int, int]:
    async with db.tenant(tenant) as scope:
        usage = await usage_between(scope.connection, customer_id, first, last)
    return usage.download_octets, usage.upload_octets


async def test_a_session_across_midnight_is_split_at_its_updates_and_counted_once(db: Database, make_tenant):
    tenant = await make_tenant("use")
    async with db.tenant(tenant) as scope:
        rahim = await make_customer(scope, pppoe_username="rahim")
    ctx = JobContext(db=db, today=date(2026, 12, 1), now=MIDNIGHT, tenant=tenant)
    await _start(db, tenant, "s1", "rahim", MIDNIGHT - timedelta(minutes=10))
    await _update(db, tenant, "s1", MIDNIGHT - timedelta(minutes=5), upload=100, download=1_000)
    assert (await usage_rollup(ctx))["sessions"] == 1
    assert (await usage_rollup(ctx))["sessions"] == 0  # nothing moved: nothing read, nothing added

    await _update(db, tenant, "s1", MIDNIGHT + timedelta(minutes=5), upload=300, download=4_000)
    await usage_rollup(ctx)
    await _update(db, tenant, "s1", MIDNIGHT + timedelta(minutes=15), upload=380, download=(5 << 32) + 900)
    assert await usage_rollup(ctx) == {"sessions": 1, "not_a_customer": 0, "customer_days": 1}

    november_30, december_1 = date(2026, 11, 30), date(2026, 12, 1)
    assert await _usage(db, tenant, rahim, november_30, november_30) == (1_000, 100)
    assert await _usage(db, tenant, rahim, december_1, december_1) == ((5 << 32) + 900 - 1_000, 280)

    # No invoice covers 1 December yet: the cycle is the calendar month.
    async with db.tenant(tenant) as scope:
        usage = await usage_this_cycle(scope.connection, rahim, december_1)
    assert (usage.first_day, usage.last_day) == (december_1, date(2026, 12, 31))
    assert (usage.download_octets, usage.total_octets) == ((5 << 32) - 100, (5 << 32) - 100 + 280)


async def test_a_total_below_what_was_counted_counts_from_zero(db: Database, make_tenant):
    # FreeRADIUS's queries keep totals growing through NAS counter restarts (test_radacct_partitions.py); a
    # total that still goes down (a row rewritten by hand or by another tool) is read as a restart, never as
    # negative usage.
    tenant = await make_tenant("down")
    async with db.tenant(tenant) as scope:
        salma = await make_customer(scope, pppoe_username="salma")
    await _start(db, tenant, "d1", "salma", datetime(2026, 11, 20, tzinfo=UTC))
    await _update(db, tenant, "d1", datetime(2026, 11, 20, 0, 5, tzinfo=UTC), upload=500, download=9_000)
    await rollup(db, tenant)
    await _update(db, tenant, "d1", datetime(2026, 11, 20, 0, 10, tzinfo=UTC), upload=20, download=30)
    await rollup(db, tenant)
    assert await _usage(db, tenant, salma, date(2026, 11, 20), date(2026, 11, 20)) == (9_030, 520)


async def test_the_cycle_is_the_invoice_period_that_contains_today(db: Database, make_tenant):
    tenant = await make_tenant("cyc")
    async with db.tenant(tenant) as scope:
        karim = await make_customer(scope, pppoe_username="karim")
        await make_bill(scope, customer_id=karim, period_start=date(2026, 11, 15), period_end=date(2026, 12, 14))
    await _start(db, tenant, "k1", "karim", datetime(2026, 11, 14, 12, tzinfo=UTC))
    await _update(db, tenant, "k1", datetime(2026, 11, 14, 12, 5, tzinfo=UTC), upload=10, download=20)
    await rollup(db, tenant)
    await _update(db, tenant, "k1", datetime(2026, 11, 15, 12, 5, tzinfo=UTC), upload=15, download=70)
    await rollup(db, tenant)
    async with db.tenant(tenant) as scope:
        usage = await usage_this_cycle(scope.connection, karim, date(2026, 12, 2))
    assert (usage.first_day, usage.last_day) == (date(2026, 11, 15), date(2026, 12, 14))
    assert (usage.download_octets, usage.upload_octets) == (50, 5)  # the day before the cycle is not in it


async def test_two_runs_at_once_count_every_octet_once(db: Database, make_tenant):
    tenant = await make_tenant("par")
    async with db.tenant(tenant) as scope:
        ids = [await make_customer(scope, pppoe_username=f"u{n}") for n in range(20)]
        await scope.connection.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime,"
            " acctupdatetime, acctinputoctets, acctoutputoctets)"
            " SELECT 's' || n, 's' || n, 'u' || (n % 20), '10.0.0.1', now() - interval '1 hour', now(), n, 2 * n"
            " FROM generate_series(1, 3000) n"
        )
    first, second = await asyncio.gather(rollup(db, tenant, batch=250), rollup(db, tenant, batch=250))
    assert first["sessions"] + second["sessions"] == 3000
    async with db.tenant(tenant) as scope:
        totals = await scope.connection.fetchrow(
            "SELECT sum(download_octets) AS down, sum(upload_octets) AS up FROM customer_usage_daily"
        )
        per_customer = await scope.connection.fetchval("SELECT count(DISTINCT customer_id) FROM customer_usage_daily")
    assert (totals["down"], totals["up"]) == (2 * sum(range(1, 3001)), sum(range(1, 3001)))
    assert per_customer == len(ids)


async def test_logins_of_no_customer_are_counted_as_such_and_not_read_again(db: Database, make_tenant):
    tenant = await make_tenant("ghost")
    await _start(db, tenant, "g1", "nobody", datetime(2026, 11, 20, tzinfo=UTC))
    await _update(db, tenant, "g1", datetime(2026, 11, 20, 0, 5, tzinfo=UTC), upload=1, download=2)
    assert await rollup(db, tenant) == {"sessions": 1, "not_a_customer": 1, "customer_days": 0}
    assert (await rollup(db, tenant))["sessions"] == 0
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM customer_usage_daily") == 0
