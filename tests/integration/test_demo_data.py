"""Synthetic customers: realistic, unique where it matters, deterministic, and appendable."""

import re

import pytest

from factories import make_customer
from ispb_platform.demo.seed import AREAS, DEMO_PACKAGES, ensure_packages, seed_customers
from ispb_platform.demo.setup import DEMO_OPERATORS, prepare_demo
from ispb_tenants import Database, drop_tenant, get_tenant

PHONE = re.compile(r"^\+8801[3-9]\d{8}$")


async def test_seeded_customers_are_realistic_unique_and_appendable(db: Database, make_tenant):
    tenant = await make_tenant("seed")
    async with db.tenant(tenant) as scope:
        assert len(await ensure_packages(scope)) == len(DEMO_PACKAGES)
        assert len(await ensure_packages(scope)) == len(DEMO_PACKAGES)  # idempotent
        assert await seed_customers(scope, 1000, seed=3) == 1000
        assert await seed_customers(scope, 500, seed=3) == 500
        rows = await scope.connection.fetch("SELECT * FROM customer ORDER BY id")
    assert [r["code"] for r in rows] == [f"C{n:06d}" for n in range(1, 1501)]
    assert len({r["phone"] for r in rows}) == 1500 and all(PHONE.match(r["phone"]) for r in rows)
    assert len({r["pppoe_username"] for r in rows}) == 1500
    assert all(r["package_id"] is not None and r["area"] in AREAS for r in rows)
    statuses = {r["status"] for r in rows}
    assert statuses == {"active", "suspended", "disabled"}
    assert sum(r["status"] == "active" for r in rows) > 1200


async def test_same_seed_gives_the_same_people_and_another_seed_others(db: Database, make_tenant):
    names = []
    for seed in (9, 9, 10):
        tenant = await make_tenant("same")
        async with db.tenant(tenant) as scope:
            await ensure_packages(scope)
            await seed_customers(scope, 200, seed=seed)
            names.append([r["name"] for r in await scope.connection.fetch("SELECT name FROM customer ORDER BY id")])
    assert names[0] == names[1]
    assert names[0] != names[2]
    assert len(set(names[0])) > 100  # and they are not all the same person


async def test_cheap_home_packages_are_the_most_common(db: Database, make_tenant):
    tenant = await make_tenant("skew")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, 2000, seed=3)
        rows = await scope.connection.fetch(
            "SELECT p.name, count(c.id) FROM package p LEFT JOIN customer c ON c.package_id = p.id GROUP BY 1"
        )
    counts = {row["name"]: row["count"] for row in rows}
    assert all(counts[spec.name] > 0 for spec in DEMO_PACKAGES)
    assert counts["Home 10 Mbps"] > counts["Home 20 Mbps"] > counts["Gamer 60 Mbps"]
    assert counts["Home 10 Mbps"] > counts["Business 100 Mbps"]


async def test_codes_keep_growing_past_six_digits(db: Database, make_tenant):
    tenant = await make_tenant("wide")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await make_customer(scope, code="C999998", name="Last Six", phone="+8801700000001")
        assert await seed_customers(scope, 3) == 3
        codes = [r["code"] for r in await scope.connection.fetch("SELECT code FROM customer ORDER BY id")]
    assert codes == ["C999998", "C999999", "C1000000", "C1000001"]


async def test_seeding_without_a_package_is_refused(db: Database, make_tenant):
    tenant = await make_tenant("nopkg")
    with pytest.raises(ValueError, match="no active package"):
        async with db.tenant(tenant) as scope:
            await seed_customers(scope, 5)


async def test_prepare_demo_is_idempotent(db: Database, tmp_path):
    try:
        first = await prepare_demo(db, secret_key="d" * 40, customers_per_operator=40)
        # the second with a data directory: each operator backed up, and the restore test passed (issue 19)
        second = await prepare_demo(db, secret_key="d" * 40, customers_per_operator=40, data_dir=tmp_path)
        assert first == second and len(first) == 1 + 2 * len(DEMO_OPERATORS)  # admin; owner and customer each
        for operator in DEMO_OPERATORS:
            tenant = await get_tenant(db, operator.slug)
            async with db.tenant(tenant) as scope:
                assert await scope.connection.fetchval("SELECT count(*) FROM customer") == 40
                bills = await scope.connection.fetch("SELECT status, paid_minor FROM bill")
                payments = await scope.connection.fetchval("SELECT count(*) FROM payment")
            # last and this month's bills, made by the job; some paid in full, some in part, some owing
            assert {"open", "paid"} <= {b["status"] for b in bills} and payments > 0
            wired = await db.pool.fetchval(
                f"SELECT count(*) FROM {tenant.schema}.customer WHERE router_id IS NOT NULL"
                " AND pppoe_password_sealed IS NOT NULL"
            )
            assert wired == 20  # on the simulated router
            assert any(b["status"] == "open" and b["paid_minor"] > 0 for b in bills)
            runs = await db.pool.fetchval(
                "SELECT count(*) FROM platform.job_run WHERE job = 'billing.generate_bills' AND tenant_id = $1",
                tenant.id,
            )
            assert runs == 3  # last month once, this month once per prepare_demo (the second billed nothing)
            backup = await db.pool.fetchrow(
                "SELECT status, verify_ok, object_key FROM platform.backup WHERE tenant_id = $1", tenant.id
            )
            assert backup["status"] == "succeeded" and backup["verify_ok"] is True
            assert (tmp_path / "backups" / backup["object_key"]).is_file()
            async with db.tenant(tenant) as scope:
                # the hotspot's customers are on the prepaid daily profile: each bill covers the package's validity
                too_long = await scope.connection.fetchval(
                    "SELECT count(*) FROM bill b JOIN package p ON p.id = b.package_id"
                    " WHERE p.validity_days < 28 AND b.period_end - b.period_start + 1 > p.validity_days"
                )
                parked = await scope.connection.fetchval("SELECT count(*) FROM billing_parked")
            assert (too_long, parked) == (0, 0)
            async with db.tenant(tenant) as scope:
                # the Overview's bills vs payments: the demo's two months, counted by the report jobs it ran
                months = await scope.connection.fetch(
                    "SELECT r.month, r.billed_minor, r.paid_minor,"
                    " (SELECT sum(total_minor) FROM bill WHERE date_trunc('month', issue_date) = r.month) AS billed,"
                    " (SELECT sum(amount_minor) FROM payment WHERE date_trunc('month', received_on) = r.month) AS paid"
                    " FROM report_month r WHERE r.billed_minor > 0 ORDER BY r.month"
                )
            assert len(months) == 2 and all(m["paid_minor"] > 0 for m in months)
            assert all((m["billed_minor"], m["paid_minor"]) == (m["billed"], m["paid"]) for m in months)
        await _subscriptions_as_the_issue_asks(db)
        hashes = await db.pool.fetch("SELECT password_hash FROM platform.platform_user")
        assert hashes and all(r["password_hash"].startswith("$argon2id$") for r in hashes)
    finally:
        for operator in DEMO_OPERATORS:
            await drop_tenant(db, operator.slug)
        await db.pool.execute("DELETE FROM platform.platform_user WHERE email = 'admin@ispb.test'")


async def test_validity_package_customers_are_seeded_on_a_daily_prepaid_profile(db: Database, make_tenant):
    """Seen in the demo: a "Daily Hotspot 1 Day" customer on the monthly default profile, billed a month."""
    tenant = await make_tenant("prepaid-seed")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, 200, seed=3)
        rows = await scope.connection.fetch(
            "SELECT p.validity_days, bp.name, bp.cycle FROM customer c JOIN package p ON p.id = c.package_id"
            " JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id,"
            " (SELECT id FROM billing_profile WHERE is_default))"
        )
    hotspot = [r for r in rows if r["validity_days"] == 1]
    assert hotspot and {(r["name"], r["cycle"]) for r in hotspot} == {("Prepaid daily", "daily")}
    assert {r["cycle"] for r in rows if r["validity_days"] == 30} == {"monthly"}


async def _subscriptions_as_the_issue_asks(db: Database) -> None:
    """Issue 18's demo: last month's subscription bills for both operators (once, after two prepare_demo runs),
    Padma Link in arrears so that subscription.suspend_unpaid locks it, and paying reopens it."""
    from datetime import UTC, datetime

    from ispb_platform.subscriptions.locking import suspend_unpaid
    from ispb_platform.subscriptions.payments import record_payment
    from ispb_platform.subscriptions.pricing import previous_month

    today = datetime.now(UTC).date()
    last_month = previous_month(today)[0]
    for operator in DEMO_OPERATORS:
        tenant = await get_tenant(db, operator.slug)
        bills = await db.pool.fetch(
            "SELECT id, period_start, status, total_minor, lock_on FROM platform.subscription_bill"
            " WHERE tenant_id = $1 AND kind = 'subscription' ORDER BY period_start",
            tenant.id,
        )
        assert [b["period_start"] for b in bills] == [previous_month(last_month)[0], last_month]
        assert all(b["total_minor"] > 0 for b in bills)
        overdue = [b for b in bills if b["status"] == "open" and b["lock_on"] <= today]
        assert len(overdue) == (1 if operator.slug == "padma-link" else 0)
    padma = await get_tenant(db, "padma-link")
    assert (await suspend_unpaid(db, today))["locked"] == 1

    async def locked() -> bool:
        return bool(
            await db.fetchval(
                "SELECT locked_at IS NOT NULL FROM platform.tenant_subscription WHERE tenant_id = $1", padma.id
            )
        )

    assert await locked()
    bill = await db.pool.fetchrow(
        "SELECT id, total_minor FROM platform.subscription_bill WHERE tenant_id = $1 AND status = 'open'"
        " AND lock_on <= $2",
        padma.id,
        today,
    )
    async with db.platform() as connection:
        await record_payment(
            connection, bill["id"], bill["total_minor"], method="bank", reference="T", recorded_by="t", paid_on=today
        )
    assert not await locked()
