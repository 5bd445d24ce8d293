"""The CSV customer import against a real tenant schema: inserts, clashes with stored customers, the log."""

import asyncio
import contextvars

from ispb_platform.customers.csv_import import parse_customer_csv
from ispb_platform.customers.queries import package_lookup
from ispb_platform.customers.service import import_customers
from ispb_platform.demo.seed import ensure_packages
from ispb_tenants import Database, TenantRef

HEADER = "code,name,phone,package,pppoe_username\n"


async def _import(db: Database, tenant: TenantRef, text: str, actor: str = "Test Admin <admin@isp.test>"):
    async with db.tenant(tenant) as scope:
        parsed = parse_customer_csv(text.encode(), await package_lookup())
        return await import_customers(scope, parsed, actor=actor)


async def _tenant_with_packages(db: Database, make_tenant) -> TenantRef:
    tenant = await make_tenant("csv")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
    return tenant


async def _codes(db: Database, tenant: TenantRef) -> list[str]:
    async with db.tenant(tenant) as scope:
        return [r["code"] for r in await scope.connection.fetch("SELECT code FROM customer ORDER BY id")]


async def test_good_rows_are_inserted_and_bad_rows_reported_with_line_numbers(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    report = await _import(
        db,
        tenant,
        HEADER + "C1,রহিম উদ্দিন,01711000000,Home 10 Mbps,rahim\n"
        "C2,Karim,123,,\n"
        "C3,Jamal,01711000002,No Such Package,\n"
        "C4,Kamal,01711000003,,\n",
    )
    assert report.inserted == 2 and report.file_errors == []
    assert [(e.line, e.field) for e in report.errors_by_line] == [(3, "phone"), (4, "package")]
    assert await _codes(db, tenant) == ["C1", "C4"]
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            "SELECT c.name, c.phone, p.name AS package, c.status, c.connection_date = current_date AS today,"
            " c.billing_profile_id IS NOT NULL AS profiled FROM customer c"
            " LEFT JOIN package p ON p.id = c.package_id WHERE code = 'C1'"
        )
    assert dict(row) == {
        "name": "রহিম উদ্দিন",
        "phone": "+8801711000000",
        "package": "Home 10 Mbps",
        "status": "active",
        "today": True,
        "profiled": True,
    }


async def test_a_row_whose_code_or_username_exists_is_reported_and_the_rest_kept(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    await _import(db, tenant, HEADER + "C000123,Old Customer,01711000000,,oldie\n")
    report = await _import(
        db,
        tenant,
        HEADER + "C5,Rahim,01711000001,,\n"
        "C000123,Someone Else,01711000002,,\n"
        "C6,Karim,01711000003,,oldie\n"
        "C7,Jamal,01711000004,,\n",
    )
    assert report.inserted == 2 and report.rejected == 2
    assert [(e.line, e.field, e.message) for e in report.errors_by_line] == [
        (3, "code", "Customer id C000123 already exists."),
        (4, "pppoe_username", "PPPoE username oldie already exists."),
    ]
    assert await _codes(db, tenant) == ["C000123", "C5", "C7"]


async def test_importing_the_same_file_twice_inserts_nothing_the_second_time(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    text = HEADER + "".join(f"D{n},Customer {n},0171100{n:04d},,user{n}\n" for n in range(25))
    first = await _import(db, tenant, text)
    second = await _import(db, tenant, text)
    assert first.inserted == 25 and first.errors == []
    assert second.inserted == 0 and second.rejected == 25
    assert [e.line for e in second.errors_by_line if e.field == "code"] == list(range(2, 27))
    assert all(e.message.endswith("already exists.") for e in second.errors)
    assert len(await _codes(db, tenant)) == 25


async def test_the_import_is_written_to_the_activity_log(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    await _import(db, tenant, HEADER + "E1,Rahim,01711000000,,\nE2,Karim,bad,,\nE3,Jamal,01711000001,,\n", "Nusrat")
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT actor, summary, details->>'rejected' AS rejected FROM activity_log"
            " WHERE action = 'customer.imported'"
        )
    assert [tuple(r) for r in rows] == [("Nusrat", "Imported 2 customers, 1 row rejected", "1")]


async def test_a_file_with_file_errors_inserts_and_logs_nothing(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    report = await _import(db, tenant, "name,phone\nRahim,01711000000\n")
    assert report.inserted == 0 and report.file_errors
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM activity_log") == 0
    assert await _codes(db, tenant) == []


async def test_a_failed_transaction_rolls_the_import_back_with_it(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    try:
        async with db.tenant(tenant) as scope:
            parsed = parse_customer_csv((HEADER + "F1,Rahim,01711000000,,\n").encode(), {})
            await import_customers(scope, parsed, actor="Test")
            raise RuntimeError("the request failed after the import")
    except RuntimeError:
        pass
    assert await _codes(db, tenant) == []


async def test_ten_thousand_rows_import_in_one_go(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    text = HEADER + "".join(f"B{n:05d},Customer {n},+88017{n:08d},Home 20 Mbps,pppoe{n}\n" for n in range(10_000))
    report = await _import(db, tenant, text)
    assert report.inserted == 10_000 and report.errors == []
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(DISTINCT package_id) FROM customer") == 1


async def test_a_row_that_loses_a_race_to_a_concurrent_import_is_reported_not_lost(db: Database, make_tenant):
    tenant = await _tenant_with_packages(db, make_tenant)
    winner_file = HEADER + "R1,Rahim,01711000000,,rahim\nR2,Karim,01711000001,,\n"
    loser_file = HEADER + "R0,Jamal,01711000002,,\nR2,Kamal,01711000003,,\nR3,Arif,01711000004,,rahim\n"
    async with db.tenant(tenant) as scope:
        parsed = parse_customer_csv(winner_file.encode(), {})
        assert (await import_customers(scope, parsed, actor="A")).inserted == 2
        # a fresh context: a task copies the current one and would join this transaction instead of racing it
        loser = asyncio.create_task(_import(db, tenant, loser_file), context=contextvars.Context())
        for _ in range(500):
            waiting = await db.pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting or loser.done():
                break
            await asyncio.sleep(0.01)
        assert waiting == 1 and not loser.done()
    report = await loser
    assert report.inserted == 1
    assert [(e.line, e.field) for e in report.errors_by_line] == [(3, "code"), (4, "pppoe_username")]
    assert sorted(await _codes(db, tenant)) == ["R0", "R1", "R2"]
