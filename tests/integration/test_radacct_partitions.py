"""radacct partitioned by month: the migration of existing rows, the partition job (ahead, retention, the default
partition, twice and concurrently), and accounting through a real FreeRADIUS across a month boundary.

Months are UTC. The FreeRADIUS tests set Event-Timestamp on every packet, so the times are the test's, not the
clock's; the tenant has partitions for November and December 2026 (and the months the job adds around today).
"""

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from factories import make_customer
from ispb_netsync.radius import AcctStatusType, Code, Packet, attr, send_request
from ispb_platform.jobs.job import JobContext
from ispb_platform.network.jobs import radacct_partitions
from ispb_platform.network.radius.config import Listen, RadiusNas, RadiusTenant, render
from ispb_platform.network.radius.partitions import maintain, month_start, partitions
from ispb_platform.network.radius.sessions import close_stale
from ispb_platform.network.radius.usage import rollup, usage_this_cycle
from ispb_tenants import Database, TenantRef, migrate_tenant
from ispb_tenants.migrations import Scope, apply_pending, load_migrations
from peers.freeradius import FreeRadius, free_udp_ports, running_freeradius

NAS, OTHER_NAS = "127.0.0.1", "127.0.0.2"
SECRET = "part-s3cret"
BOUNDARY = datetime(2026, 12, 1, tzinfo=UTC)  # November's last second is BOUNDARY - 1 s


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


async def _where(db: Database, tenant: TenantRef) -> dict[str, dict[str, object]]:
    """Every radacct row by Acct-Session-Id, with the partition that holds it."""
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT tableoid::regclass::text AS part, * FROM radacct ORDER BY radacctid"
        )
    return {f"{r['acctsessionid']}@{r['acctstarttime']:%Y%m%d%H%M}": dict(r) for r in rows}


def _part(rows: dict[str, dict[str, object]], session: str) -> list[str]:
    return [str(row["part"]).rsplit(".", 1)[-1] for key, row in rows.items() if key.startswith(session + "@")]


# --- the migration --------------------------------------------------------------------------------------------


async def test_migration_moves_existing_accounting_into_monthly_partitions(db: Database, make_tenant):
    tenant = await make_tenant("mig")  # Asia/Dhaka
    migrations = load_migrations(Scope.TENANT)
    before = [m for m in migrations if m.version < 10]
    async with db.pool.acquire() as conn, conn.transaction():  # the schema as release 0009 left it
        await conn.execute(f'DROP SCHEMA "{tenant.schema}" CASCADE')
        await apply_pending(conn, tenant.schema, before)
        await conn.execute(f"SET LOCAL search_path TO {tenant.schema}")
        await conn.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,"
            " acctstoptime, acctinputoctets, acctoutputoctets) VALUES"
            " ('old', 'u-old', 'rahim', '10.0.0.1', '2025-03-10 08:00+00', NULL, '2025-03-10 09:00+00', 10, 20),"
            " ('open', 'u-open', 'karim', '10.0.0.1', now() - interval '1 hour', now(), NULL, 5, 6),"
            " ('nostart', 'u-nostart', 'salma', '10.0.0.1', NULL, '2026-01-05 10:00+00', NULL, 0, 0)"
        )
        await conn.execute(
            "INSERT INTO radpostauth (username, pass, reply) VALUES ('rahim', 'typed-secret', 'Access-Reject')"
        )
        rahim = await conn.fetchval(
            "INSERT INTO customer (code, name, phone, pppoe_username) VALUES ('C1', 'Rahim', '+8801', 'rahim')"
            " RETURNING id"
        )
        old_max = await conn.fetchval("SELECT max(radacctid) FROM radacct")
    result = await migrate_tenant(db, tenant)
    assert result.ok and 10 in result.applied
    rows = await _where(db, tenant)
    assert _part(rows, "old") == ["radacct_p202503"]
    assert _part(rows, "nostart") == ["radacct_p202601"]  # no start time: its first sign of life stands in
    assert _part(rows, "open") == [f"radacct_p{datetime.now(UTC):%Y%m}"]
    async with db.tenant(tenant) as scope:
        conn = scope.connection
        keys = {r["acctuniqueid"] for r in await conn.fetch("SELECT acctuniqueid FROM radacct_key")}
        assert keys == {"u-old", "u-open", "u-nostart"}
        assert await conn.fetchval("SELECT count(*) FROM radpostauth WHERE pass IS NOT NULL") == 0
        assert await conn.fetchval("SELECT count(*) FROM radacct_default") == 0
        # the history's usage is in the usage table, and counted: the first rollup finds nothing to add
        usage = await conn.fetch("SELECT customer_id, day, download_octets, upload_octets FROM customer_usage_daily")
        assert [tuple(r) for r in usage] == [(rahim, date(2025, 3, 10), 20, 10)]  # 09:00 UTC is 15:00 in Dhaka
        months = await partitions(conn)
        # every month from the oldest row to three months ahead of now
        assert months[0] == date(2025, 3, 1) and months[-1] == month_start(datetime.now(UTC).date(), 3)
        assert len(months) == len(set(months)) == (months[-1].year - 2025) * 12 + months[-1].month - 3 + 1
        new_id = await conn.fetchval(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, nasipaddress, acctstarttime)"
            " VALUES ('next', 'u-next', '10.0.0.1', now()) RETURNING radacctid"
        )
    assert new_id > old_max  # the id sequence carried over
    assert (await rollup(db, tenant))["sessions"] == 0


# --- the job --------------------------------------------------------------------------------------------------


def _ctx(db: Database, tenant: TenantRef, now: datetime) -> JobContext:
    return JobContext(db=db, today=now.date(), now=now, tenant=tenant)


async def _insert(db: Database, tenant: TenantRef, session: str, started: datetime) -> None:
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, nasipaddress, acctstarttime) VALUES ($1, $1, $2, $3)",
            session,
            NAS,
            started,
        )
        await scope.connection.execute(
            "INSERT INTO radacct_key (acctuniqueid, acctstarttime) VALUES ($1, $2)", session, started
        )


async def test_job_creates_months_ahead_moves_strays_and_drops_by_retention(db: Database, make_tenant):
    tenant = await make_tenant("job")
    far = datetime(2031, 5, 20, tzinfo=UTC)
    await _insert(db, tenant, "from-the-future", far)  # a NAS with a wrong clock: no partition yet
    assert _part(await _where(db, tenant), "from-the-future") == ["radacct_default"]

    # Twice at once, then again: the same months, created once.
    now = datetime(2031, 4, 2, 12, tzinfo=UTC)
    first, second = await asyncio.gather(
        radacct_partitions(_ctx(db, tenant, now)), radacct_partitions(_ctx(db, tenant, now))
    )
    assert first["created"] + second["created"] == 4  # April (the current month) and three more
    assert first["dropped"] + second["dropped"] == 4  # the months the tenant was created with, years ago
    assert (await radacct_partitions(_ctx(db, tenant, now)))["created"] == 0
    async with db.tenant(tenant) as scope:
        months = await partitions(scope.connection)
    assert {date(2031, 4, 1), date(2031, 5, 1), date(2031, 6, 1), date(2031, 7, 1)} <= set(months)
    assert _part(await _where(db, tenant), "from-the-future") == ["radacct_p203105"]  # moved out of the default

    # A year later with the default retention (12 months): months before April 2031 go, with their keys, and
    # so do rows of those months left in the default partition.
    async with db.tenant(tenant) as scope:
        await scope.connection.fetchval("SELECT radacct_add_month('2031-03-01')")
    await _insert(db, tenant, "kept", datetime(2031, 4, 1, tzinfo=UTC))
    await _insert(db, tenant, "too-old", datetime(2031, 3, 31, 23, 59, tzinfo=UTC))
    await _insert(db, tenant, "stray", datetime(2020, 1, 1, tzinfo=UTC))
    async with db.tenant(tenant) as scope:
        customer = await make_customer(scope, pppoe_username="old-timer")
        await scope.connection.execute(
            "INSERT INTO customer_usage_daily (customer_id, day, download_octets) VALUES ($1, '2031-03-31', 1),"
            " ($1, '2031-04-01', 2)",
            customer,
        )
    counts = await radacct_partitions(_ctx(db, tenant, datetime(2032, 4, 15, tzinfo=UTC)))
    assert (counts["retention_months"], counts["dropped"], counts["default_rows_deleted"]) == (12, 1, 1)
    assert (counts["keys_deleted"], counts["usage_days_deleted"]) == (2, 1)
    rows = await _where(db, tenant)
    assert _part(rows, "kept") == ["radacct_p203104"]
    assert _part(rows, "too-old") == _part(rows, "stray") == []
    async with db.tenant(tenant) as scope:
        keys = {r["acctuniqueid"] for r in await scope.connection.fetch("SELECT acctuniqueid FROM radacct_key")}
        months = await partitions(scope.connection)
    assert "too-old" not in keys and "kept" in keys
    assert months[0] == date(2031, 4, 1) and months[-1] == date(2032, 7, 1)


async def test_a_retention_below_one_month_is_refused(db: Database, make_tenant):
    tenant = await make_tenant("ret")
    with pytest.raises(ValueError, match="at least one month"):
        await maintain(db, tenant, today=date(2026, 12, 2), retention_months=0)


# --- through a real FreeRADIUS ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Radius:
    tenant: TenantRef
    server: FreeRadius


@pytest.fixture(name="radius")
async def fx_radius(db: Database, database_url: str, make_tenant) -> AsyncIterator[Radius]:
    tenant = await make_tenant("acct")
    for day in (date(2026, 11, 1), date(2026, 12, 1)):
        async with db.tenant(tenant) as scope:
            await scope.connection.fetchval("SELECT radacct_add_month($1)", day)
    auth_port, acct_port = free_udp_ports(2)
    nas = (RadiusNas(1, "core", NAS, SECRET), RadiusNas(2, "edge", OTHER_NAS, SECRET))
    files = render(
        [RadiusTenant(tenant.slug, tenant.schema, nas)],
        database_url=database_url,
        listen=Listen(NAS, auth_port, acct_port),
    ).files
    with running_freeradius(files, auth_port=auth_port, acct_port=acct_port) as server:
        yield Radius(tenant, server)


async def _acct(
    radius: Radius, status: AcctStatusType, at: datetime, session: str = "", *, nas: str = NAS, **values: int
) -> Packet:
    attributes = [
        attr("NAS-IP-Address", nas),
        attr("Acct-Status-Type", status),
        attr("Acct-Session-Id", session or "0"),
        attr("Event-Timestamp", _epoch(at)),
    ]
    if session:
        attributes.append(attr("User-Name", "rahim"))
    attributes += [attr(name.replace("_", "-").title(), value) for name, value in values.items()]
    server = radius.server
    answer = await send_request(
        server.address,
        server.acct_port,
        SECRET,
        Code.ACCOUNTING_REQUEST,
        attributes,
        source_address=nas,
        timeout=2,
        retries=1,
    )
    assert answer.code is Code.ACCOUNTING_RESPONSE, server.log()[-3000:]
    return answer


@pytest.mark.radius
async def test_accounting_across_a_month_boundary_lands_in_the_partition_of_its_start(radius: Radius, db: Database):
    start = BOUNDARY - timedelta(minutes=10)
    await _acct(radius, AcctStatusType.START, start, "spans")
    await _acct(radius, AcctStatusType.INTERIM_UPDATE, BOUNDARY + timedelta(minutes=5), "spans", acct_session_time=900)
    await _acct(radius, AcctStatusType.STOP, BOUNDARY + timedelta(minutes=20), "spans", acct_session_time=1800)
    await _acct(radius, AcctStatusType.START, BOUNDARY + timedelta(minutes=1), "december")
    # Start lost: the Interim-Update opens the session at event - Acct-Session-Time, in November
    await _acct(radius, AcctStatusType.INTERIM_UPDATE, BOUNDARY + timedelta(minutes=2), "late", acct_session_time=600)
    # a retransmission of it (a later Event-Timestamp) finds the same session: no second row
    await _acct(radius, AcctStatusType.INTERIM_UPDATE, BOUNDARY + timedelta(minutes=3), "late", acct_session_time=601)
    await _acct(radius, AcctStatusType.START, datetime(2040, 1, 1, tzinfo=UTC), "clockless")
    rows = await _where(db, radius.tenant)
    assert _part(rows, "spans") == ["radacct_p202611"]
    assert _part(rows, "december") == ["radacct_p202612"]
    assert _part(rows, "late") == ["radacct_p202611"]
    assert _part(rows, "clockless") == ["radacct_default"]  # no partition for 2040: the default catches it
    [spans] = [row for key, row in rows.items() if key.startswith("spans@")]
    assert (spans["acctstarttime"], spans["acctstoptime"]) == (start, BOUNDARY + timedelta(minutes=20))
    [late] = [row for key, row in rows.items() if key.startswith("late@")]
    assert late["acctstarttime"] == BOUNDARY + timedelta(minutes=2) - timedelta(seconds=600)
    assert late["acctsessiontime"] == 601


@pytest.mark.radius
async def test_accounting_on_closes_that_nas_s_open_sessions_in_every_partition(radius: Radius, db: Database):
    await _acct(radius, AcctStatusType.START, BOUNDARY - timedelta(days=3), "nov-open")
    await _acct(radius, AcctStatusType.START, BOUNDARY + timedelta(hours=1), "dec-open")
    await _acct(radius, AcctStatusType.START, BOUNDARY + timedelta(hours=1), "other-nas", nas=OTHER_NAS)
    await _acct(radius, AcctStatusType.START, BOUNDARY - timedelta(days=2), "nov-done")
    await _acct(radius, AcctStatusType.STOP, BOUNDARY - timedelta(days=1), "nov-done", acct_session_time=86400)
    reboot = BOUNDARY + timedelta(hours=2)
    await _acct(radius, AcctStatusType.ACCOUNTING_ON, reboot)
    await _acct(radius, AcctStatusType.ACCOUNTING_ON, reboot + timedelta(seconds=5))  # again: nothing left, answered
    rows = await _where(db, radius.tenant)
    by_session = {key.split("@")[0]: row for key, row in rows.items()}
    for session in ("nov-open", "dec-open"):
        assert (by_session[session]["acctstoptime"], by_session[session]["acctterminatecause"]) == (
            reboot,
            "NAS-Reboot",
        )
    assert by_session["nov-open"]["acctsessiontime"] == 3 * 86400 + 7200
    assert by_session["other-nas"]["acctstoptime"] is None
    assert by_session["nov-done"]["acctstoptime"] == BOUNDARY - timedelta(days=1)  # its own stop stays


@pytest.mark.radius
async def test_a_session_id_reused_after_a_nas_reboot_is_a_new_session(radius: Radius, db: Database):
    sid = f"r-{secrets.token_hex(3)}"
    first = BOUNDARY + timedelta(hours=3)
    await _acct(radius, AcctStatusType.START, first, sid)
    await _acct(radius, AcctStatusType.STOP, first + timedelta(minutes=30), sid, acct_session_time=1800)
    await _acct(radius, AcctStatusType.START, first, sid)  # a late duplicate of the first Start: nothing
    again = first + timedelta(hours=1)  # the NAS rebooted and counts session ids from the same start again
    await _acct(radius, AcctStatusType.START, again, sid)
    await _acct(radius, AcctStatusType.INTERIM_UPDATE, again + timedelta(minutes=5), sid, acct_session_time=300)
    rows = [row for key, row in (await _where(db, radius.tenant)).items() if key.startswith(sid + "@")]
    assert [(r["acctstarttime"], r["acctstoptime"], r["acctsessiontime"]) for r in rows] == [
        (first, first + timedelta(minutes=30), 1800),
        (again, None, 300),
    ]


@pytest.mark.radius
async def test_octets_are_64_bit_with_gigawords_and_a_late_interim_never_steps_back(radius: Radius, db: Database):
    sid = f"g-{secrets.token_hex(3)}"
    start = BOUNDARY + timedelta(hours=5)
    await _acct(radius, AcctStatusType.START, start, sid)
    await _acct(
        radius,
        AcctStatusType.INTERIM_UPDATE,
        start + timedelta(minutes=10),
        sid,
        acct_session_time=600,
        acct_input_octets=5,
        acct_input_gigawords=2,
        acct_output_octets=7,
        acct_output_gigawords=3,
    )
    # an older update arriving late (smaller Acct-Session-Time): answered, ignored
    await _acct(
        radius,
        AcctStatusType.INTERIM_UPDATE,
        start + timedelta(minutes=5),
        sid,
        acct_session_time=300,
        acct_input_octets=4_000_000_000,
        acct_output_octets=1,
    )
    [row] = [r for key, r in (await _where(db, radius.tenant)).items() if key.startswith(sid + "@")]
    assert (row["acctinputoctets"], row["acctoutputoctets"], row["acctsessiontime"]) == (
        (2 << 32) + 5,
        (3 << 32) + 7,
        600,
    )
    await _acct(
        radius,
        AcctStatusType.STOP,
        start + timedelta(minutes=20),
        sid,
        acct_session_time=1200,
        acct_input_octets=4_294_967_295,
        acct_input_gigawords=2,
        acct_output_octets=0,
        acct_output_gigawords=4,
    )
    [row] = [r for key, r in (await _where(db, radius.tenant)).items() if key.startswith(sid + "@")]
    assert (row["acctinputoctets"], row["acctoutputoctets"]) == ((3 << 32) - 1, 4 << 32)


@pytest.mark.radius
async def test_a_nas_counter_restart_keeps_the_session_total_and_the_usage_rollup_counts_it(
    radius: Radius, db: Database
):
    async with db.tenant(radius.tenant) as scope:
        rahim = await make_customer(scope, pppoe_username="rahim")
    sid = f"c-{secrets.token_hex(3)}"
    start = BOUNDARY + timedelta(days=1, hours=6)  # 2 December, 12:00 in Dhaka
    await _acct(radius, AcctStatusType.START, start, sid)
    await _acct(
        radius,
        AcctStatusType.INTERIM_UPDATE,
        start + timedelta(minutes=5),
        sid,
        acct_session_time=300,
        acct_input_octets=100,
        acct_output_octets=4_000,
    )
    await rollup(db, radius.tenant)
    # the NAS restarted its counters: a smaller reading in a newer update, then growth from there
    await _acct(
        radius,
        AcctStatusType.INTERIM_UPDATE,
        start + timedelta(minutes=10),
        sid,
        acct_session_time=600,
        acct_input_octets=10,
        acct_output_octets=500,
    )
    await _acct(
        radius,
        AcctStatusType.STOP,
        start + timedelta(minutes=15),
        sid,
        acct_session_time=900,
        acct_input_octets=30,
        acct_output_octets=900,
        acct_output_gigawords=1,
    )
    [row] = [r for key, r in (await _where(db, radius.tenant)).items() if key.startswith(sid + "@")]
    assert (row["acctinputoctets"], row["acctoutputoctets"]) == (100 + 30, 4_000 + (1 << 32) + 900)
    assert (await rollup(db, radius.tenant))["sessions"] == 1
    async with db.tenant(radius.tenant) as scope:
        usage = await usage_this_cycle(scope.connection, rahim, date(2026, 12, 2))
    assert (usage.download_octets, usage.upload_octets) == (4_000 + (1 << 32) + 900, 130)


@pytest.mark.radius
async def test_a_session_id_reused_while_the_old_session_is_open_is_recorded_after_the_stale_cleanup(
    radius: Radius, db: Database
):
    sid = f"z-{secrets.token_hex(3)}"
    first = BOUNDARY + timedelta(days=2)
    await _acct(radius, AcctStatusType.START, first, sid)
    await _acct(
        radius,
        AcctStatusType.INTERIM_UPDATE,
        first + timedelta(minutes=10),
        sid,
        acct_session_time=600,
        acct_input_octets=1_000,
    )
    again = first + timedelta(hours=1)  # the NAS rebooted without Accounting-On and reuses the session id
    await _acct(radius, AcctStatusType.START, again, sid)  # answered; the old session is still open
    counts = await close_stale(db, radius.tenant, again + timedelta(minutes=1), "k" * 40)
    assert counts["closed"] == 1
    await _acct(
        radius,
        AcctStatusType.INTERIM_UPDATE,
        again + timedelta(minutes=5),
        sid,
        acct_session_time=300,
        acct_input_octets=50,
    )
    rows = [row for key, row in (await _where(db, radius.tenant)).items() if key.startswith(sid + "@")]
    assert [(r["acctstarttime"], r["acctstoptime"], r["acctinputoctets"]) for r in rows] == [
        (first, first + timedelta(minutes=10), 1_000),
        (again, None, 50),
    ]
