"""Suspension and reactivation of many customers at once, on a real tenant schema (no router peer: the router
commands are checked as queued rows; the router side is tests/integration/test_service_control*.py).

A chunk of customers is decided under their row locks: a payment that commits while the run waits for a lock is
seen. Two runs at once suspend and log each customer once. ``reactivate_paid`` brings back exactly those who owe
nothing overdue, with their log rows, events, RADIUS rows and router commands.
"""

import asyncio
import contextvars
from datetime import date

import pytest

from factories import Line, make_bill, make_billing_profile, make_customer, make_package, make_payment, make_router
from ispb_billing import Money
from ispb_platform.billing.suspension import auto
from ispb_platform.billing.suspension.actions import activate_if_paid, reactivate_paid
from ispb_platform.billing.suspension.auto import suspend_overdue
from ispb_platform.network.radius.sync import sync_customer, sync_customers
from ispb_platform.network.routers.commands import enqueue_command, enqueue_commands
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_tenants import Database, TenantRef

KEY = "s" * 40
NOV_1, NOV_12 = date(2026, 11, 1), date(2026, 11, 12)  # bills due 8 November + 3 grace days: suspended from the 12th
PRICE = 80000


async def _overdue(db: Database, make_tenant, count: int) -> tuple[TenantRef, list[int]]:
    """``count`` customers with November's bill unpaid: even ones on an API router, odd ones on a RADIUS router
    with their FreeRADIUS rows."""
    tenant = await make_tenant("sets")
    ids = []
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, price_minor=PRICE, download_kbps=20000, upload_kbps=10000)
        api = await make_router(scope, name="Core", secret_key=KEY)
        radius = await make_router(
            scope, name="Edge", mode="radius", radius_secret="nas", nas_address="192.0.2.7", secret_key=KEY
        )
        for n in range(count):
            customer_id = await make_customer(
                scope,
                code=f"C{n:03d}",
                phone=f"+88017110{n:05d}",
                package_id=package_id,
                connection_date=date(2026, 1, 1),
                router_id=api if n % 2 == 0 else radius,
                pppoe_username=f"user{n}",
                pppoe_password=f"pass-{n}",
                secret_key=KEY,
            )
            await make_bill(scope, customer_id=customer_id, period_start=NOV_1, lines=[Line(net_minor=PRICE)])
            ids.append(customer_id)
        await sync_customers(scope.connection, KEY, ids)
    return tenant, ids


async def _rows(db: Database, tenant: TenantRef, sql: str, *args: object) -> list[dict]:
    async with db.tenant(tenant) as scope:
        return [dict(r) for r in await scope.connection.fetch(sql, *args)]


async def _value(db: Database, tenant: TenantRef, sql: str, *args: object) -> object:
    async with db.tenant(tenant) as scope:
        return await scope.connection.fetchval(sql, *args)


async def _waiting_for_a_lock(db: Database) -> None:
    """Until a backend of this database waits for a row lock (the run, on the customer the payment holds)."""
    for _ in range(200):
        waiting = await db.pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the run never waited for the customer's lock")


async def test_a_payment_that_commits_while_the_run_waits_for_its_lock_keeps_that_customer_active(
    db: Database, make_tenant, monkeypatch: pytest.MonkeyPatch
):
    """The run reads its candidates before the payment commits (the payer is one of them), then waits for the
    payer's lock; what it decides on is read after the lock, so the payer stays active and is not logged."""
    monkeypatch.setattr(auto, "CHUNK", 4)
    tenant, ids = await _overdue(db, make_tenant, 6)
    payer = ids[1]
    async with db.tenant(tenant) as scope:
        await record_payment(
            scope.connection,
            customer_id=payer,
            amount=Money(PRICE, tenant.currency),
            method=PaymentMethod.CASH,
            reference="",
            received_on=NOV_12,
            received_by="test",
        )
        run = asyncio.create_task(suspend_overdue(db, tenant, NOV_12, KEY), context=contextvars.Context())
        await _waiting_for_a_lock(db)
        assert not run.done()
    counts = await run  # the payment committed as the scope closed
    assert (counts["suspended"], counts["not_due"], counts["already_handled"]) == (5, 1, 0)
    statuses = {r["id"]: r["status"] for r in await _rows(db, tenant, "SELECT id, status FROM customer")}
    assert statuses == {i: "active" if i == payer else "suspended" for i in ids}
    logged = await _rows(db, tenant, "SELECT customer_id, action FROM suspension_log ORDER BY customer_id")
    assert logged == [{"customer_id": i, "action": "suspended"} for i in ids if i != payer]
    events = await _rows(db, tenant, "SELECT customer_id FROM domain_event WHERE name = 'customer.suspended'")
    assert sorted(e["customer_id"] for e in events) == [i for i in ids if i != payer]
    again = await suspend_overdue(db, tenant, NOV_12, KEY)
    assert again["suspended"] == 0
    assert await _value(db, tenant, "SELECT count(*) FROM suspension_log") == 5


async def test_two_concurrent_runs_suspend_log_and_announce_each_customer_once(
    db: Database, make_tenant, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(auto, "CHUNK", 3)
    tenant, ids = await _overdue(db, make_tenant, 11)
    runs = [
        asyncio.create_task(suspend_overdue(db, tenant, NOV_12, KEY), context=contextvars.Context()) for _ in range(2)
    ]
    results = await asyncio.gather(*runs)
    assert sum(r["suspended"] for r in results) == len(ids)
    assert await _value(db, tenant, "SELECT count(*) FROM customer WHERE status = 'suspended'") == len(ids)
    per_customer = await _rows(
        db,
        tenant,
        "SELECT c.id, (SELECT count(*) FROM suspension_log l WHERE l.customer_id = c.id) AS logged,"
        " (SELECT count(*) FROM domain_event e WHERE e.customer_id = c.id AND e.name = 'customer.suspended') AS events,"
        " (SELECT count(*) FROM router_command k WHERE k.customer_id = c.id AND k.action = 'suspend') AS commands,"
        " (SELECT count(*) FROM radusergroup g WHERE g.username = c.pppoe_username) AS grouped,"
        " (SELECT count(*) FROM radcheck r WHERE r.username = c.pppoe_username) AS checks"
        " FROM customer c ORDER BY c.id",
    )
    radius = {i for n, i in enumerate(ids) if n % 2 == 1}
    assert per_customer == [
        {
            "id": i,
            "logged": 1,
            "events": 1,
            "commands": 1,
            "grouped": 1 if i in radius else 0,
            "checks": 2 if i in radius else 0,  # the password and Simultaneous-Use, not doubled
        }
        for i in ids
    ]
    [log] = await _rows(db, tenant, "SELECT * FROM suspension_log WHERE customer_id = $1", ids[0])
    assert (log["amount_due_minor"], log["rule"], log["actor"]) == (
        PRICE,
        "3 grace days after the due date",
        "system (billing.auto_suspend)",
    )
    assert log["reason"].startswith("Suspend: bill ") and "unpaid after 3 grace days" in log["reason"]
    [event] = await _rows(db, tenant, "SELECT payload FROM domain_event WHERE customer_id = $1", ids[0])
    assert '"amount_due_minor": 80000' in event["payload"] and str(log["bill_id"]) in event["payload"]


async def test_each_customer_is_decided_by_its_own_profile_and_credit(db: Database, make_tenant):
    tenant, ids = await _overdue(db, make_tenant, 3)
    no_auto, half_paid, plain = ids
    async with db.tenant(tenant) as scope:
        manual = await make_billing_profile(scope, auto_suspend=False)
        await scope.connection.execute("UPDATE customer SET billing_profile_id = $2 WHERE id = $1", no_auto, manual)
        await make_payment(scope, customer_id=half_paid, amount_minor=PRICE // 2)
        # paid before the bill was issued: advance credit, applied to the bill only on the 1st (advance_debit)
        covered = await make_customer(scope, code="ADV", phone="+8801799999998", connection_date=date(2026, 1, 1))
        await make_payment(scope, customer_id=covered, amount_minor=PRICE, received_on=date(2026, 10, 30))
        await make_bill(scope, customer_id=covered, period_start=NOV_1, lines=[Line(net_minor=PRICE)])
    counts = await suspend_overdue(db, tenant, NOV_12, KEY)
    assert counts == {"suspended": 2, "not_due": 1, "already_handled": 0, "rule_off": 1}
    logged = await _rows(db, tenant, "SELECT customer_id, amount_due_minor FROM suspension_log ORDER BY customer_id")
    assert logged == [
        {"customer_id": half_paid, "amount_due_minor": PRICE - PRICE // 2},
        {"customer_id": plain, "amount_due_minor": PRICE},
    ]


async def test_reactivate_paid_brings_back_exactly_those_who_owe_nothing_overdue(db: Database, make_tenant):
    tenant, ids = await _overdue(db, make_tenant, 5)
    paid_api, paid_radius, half_paid, not_auto, unpaid = ids
    await suspend_overdue(db, tenant, NOV_12, KEY)
    async with db.tenant(tenant) as scope:
        manual = await make_billing_profile(scope, auto_activate=False)
        await scope.connection.execute("UPDATE customer SET billing_profile_id = $2 WHERE id = $1", not_auto, manual)
        for customer_id in (paid_api, paid_radius, not_auto):
            await make_payment(scope, customer_id=customer_id, amount_minor=PRICE)
        await make_payment(scope, customer_id=half_paid, amount_minor=PRICE // 2)
        batch = [unpaid, paid_radius, half_paid, paid_api, not_auto]
        changes = await reactivate_paid(scope.connection, tenant, batch, NOV_12, secret_key=KEY, actor="test batch")
    assert [c.customer_id for c in changes] == [paid_api, paid_radius]
    assert all(c.command_id is not None for c in changes)
    statuses = {r["id"]: r["status"] for r in await _rows(db, tenant, "SELECT id, status FROM customer")}
    assert statuses == {
        paid_api: "active",
        paid_radius: "active",
        half_paid: "suspended",
        not_auto: "suspended",
        unpaid: "suspended",
    }
    activated = await _rows(
        db, tenant, "SELECT customer_id, reason, actor FROM suspension_log WHERE action = 'activated' ORDER BY id"
    )
    assert activated == [
        {"customer_id": i, "reason": "Paid: nothing overdue any more", "actor": "test batch"}
        for i in (paid_api, paid_radius)
    ]
    events = await _rows(db, tenant, "SELECT customer_id FROM domain_event WHERE name = 'customer.activated'")
    assert sorted(e["customer_id"] for e in events) == [paid_api, paid_radius]
    commands = await _rows(
        db,
        tenant,
        "SELECT customer_id, action, status FROM router_command WHERE customer_id = ANY($1) ORDER BY id",
        [paid_api, paid_radius],
    )
    assert commands == [  # the suspensions never reached the routers: only the latest intent will
        {"customer_id": paid_api, "action": "suspend", "status": "superseded"},
        {"customer_id": paid_radius, "action": "suspend", "status": "superseded"},
        {"customer_id": paid_api, "action": "activate", "status": "pending"},
        {"customer_id": paid_radius, "action": "activate", "status": "pending"},
    ]
    reply = await _rows(db, tenant, "SELECT attribute, value FROM radreply WHERE username = 'user1'")
    assert reply == [{"attribute": "Mikrotik-Rate-Limit", "value": "10M/20M"}]
    assert await _value(db, tenant, "SELECT count(*) FROM radusergroup WHERE username = 'user1'") == 0
    async with db.tenant(tenant) as scope:  # a second pass, and the one-customer path, change nothing more
        assert await reactivate_paid(scope.connection, tenant, ids, NOV_12, secret_key=KEY, actor="again") == []
        assert await activate_if_paid(scope.connection, tenant, paid_api, NOV_12, secret_key=KEY, actor="x") is None


async def test_sync_customers_writes_what_one_by_one_syncs_would(db: Database, make_tenant):
    tenant, ids = await _overdue(db, make_tenant, 6)
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute("UPDATE customer SET status = 'suspended' WHERE id = $1", ids[1])
        await connection.execute("UPDATE customer SET status = 'disabled' WHERE id = $1", ids[3])
        await connection.execute("UPDATE customer SET pppoe_password_sealed = NULL WHERE id = $1", ids[5])
        await connection.execute("UPDATE customer SET pppoe_username = 'renamed' WHERE id = $1", ids[1])
        tables = ("radcheck", "radreply", "radusergroup")

        async def snapshot() -> dict[str, list[tuple]]:
            found = {}
            for table in tables:
                rows = await connection.fetch(f"SELECT * FROM {table}")
                found[table] = sorted(tuple(v for k, v in r.items() if k != "id") for r in rows)
            return found

        synced = await sync_customers(connection, KEY, ids, old_usernames={ids[1]: "user1"})
        together = await snapshot()
        for table in tables:
            await connection.execute(f"DELETE FROM {table}")
        for n, customer_id in enumerate(ids):
            await sync_customer(connection, KEY, customer_id, old_username="user1" if n == 1 else None)
        assert await snapshot() == together
    assert synced == {ids[1]}  # odd ones are on the RADIUS router: 3 disabled, 5 without a password
    assert ("renamed", "ispb-suspended", 0) in together["radusergroup"]
    assert not [row for row in together["radcheck"] if row[0] == "user1"]


async def test_sync_customers_writes_only_the_rows_that_differ_and_removes_strays(db: Database, make_tenant):
    """A suspension leaves the password rows FreeRADIUS reads on every sign-in as they were (same row ids);
    a stray row added by hand goes, a wanted row deleted by hand comes back."""
    tenant, ids = await _overdue(db, make_tenant, 2)
    radius_customer = ids[1]  # odd ones are on the RADIUS router
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        before = await connection.fetch("SELECT id, attribute, value FROM radcheck WHERE username = 'user1'")
        await connection.execute("UPDATE customer SET status = 'suspended' WHERE id = $1", radius_customer)
        await connection.execute(
            "INSERT INTO radreply (username, attribute, op, value) VALUES ('user1', 'X', ':=', 'y')"
        )
        await sync_customers(connection, KEY, ids)
        after = await connection.fetch("SELECT id, attribute, value FROM radcheck WHERE username = 'user1'")
        groups = await connection.fetch("SELECT groupname FROM radusergroup WHERE username = 'user1'")
        replies = {
            r["attribute"] for r in await connection.fetch("SELECT attribute FROM radreply WHERE username = 'user1'")
        }
        await connection.execute("DELETE FROM radcheck WHERE username = 'user1' AND attribute = 'Cleartext-Password'")
        await sync_customers(connection, KEY, ids)
        healed = await connection.fetchval(
            "SELECT value FROM radcheck WHERE username = 'user1' AND attribute = 'Cleartext-Password'"
        )
    assert before and sorted(map(tuple, after)) == sorted(map(tuple, before))
    assert [g["groupname"] for g in groups] == ["ispb-suspended"]
    assert "X" not in replies and "Mikrotik-Rate-Limit" not in replies
    assert healed == "pass-1"


async def test_enqueue_commands_supersedes_only_the_same_customers_pending_suspend_or_activate(
    db: Database, make_tenant
):
    tenant, ids = await _overdue(db, make_tenant, 3)
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        no_router = await make_customer(scope, code="NR", phone="+8801799999999")
        first = await enqueue_command(connection, customer_id=ids[0], action="suspend")
        package = await enqueue_command(connection, customer_id=ids[0], action="apply_package")
        other = await enqueue_command(connection, customer_id=ids[1], action="suspend")
        queued = await enqueue_commands(connection, [ids[0], ids[2], no_router], "activate")
        statuses = {r["id"]: r["status"] for r in await connection.fetch("SELECT id, status FROM router_command")}
    assert set(queued) == {ids[0], ids[2]}
    assert statuses == {
        first: "superseded",
        package: "pending",
        other: "pending",
        queued[ids[0]]: "pending",
        queued[ids[2]]: "pending",
    }
