"""Suspension and reactivation end to end against the RouterOS API peer (real wire protocol, librouteros).

Unpaid bill past grace → ``billing.auto_suspend`` → customer suspended, Suspension Log row, session gone from the
router, address on ``ispb-suspended``; payment → auto-activation → address unlisted, package profile back.
A router that is down gets the command later, once; two workers log one suspension.
"""

import asyncio
import contextvars
from datetime import UTC, date, datetime

import pytest

from factories import make_customer, make_package, make_router
from ispb_billing import Money
from ispb_platform.billing.jobs import auto_suspend, generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_platform.network.jobs import run_due_commands
from ispb_platform.network.routers.commands import (
    SUSPENDED_LIST,
    SUSPENDED_PROFILE,
    enqueue_commands,
    package_profile,
)
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_tenants import Database, TenantRef
from peers.routeros import Fault, RouterOSPeer

SECRET = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY
NOV_1, NOV_12 = date(2026, 11, 1), date(2026, 11, 12)  # due 8 Nov + 3 grace days: suspended from the 12th


def _ctx(db: Database, tenant: TenantRef, today: date) -> JobContext:
    return JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant, secret_key=SECRET)


@pytest.fixture(name="router_peer")
async def fx_router_peer():
    async with RouterOSPeer(username="ispb", password="router-pass") as peer:
        yield peer


@pytest.fixture(name="wired")
async def fx_wired(db: Database, make_tenant, router_peer: RouterOSPeer):
    """A tenant whose customer Rahim is online through the peer router, billed on 1 November."""
    tenant = await make_tenant("svc")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(
            scope, name="Fiber 20", price_minor=80000, download_kbps=20000, upload_kbps=10000
        )
        router_id = await make_router(
            scope,
            name="Core",
            host=router_peer.host,
            api_port=router_peer.port,
            username="ispb",
            password="router-pass",
            secret_key=SECRET,
        )
        customer_id = await make_customer(
            scope,
            code="C1",
            name="Rahim",
            phone="+8801711000001",
            package_id=package_id,
            connection_date=date(2026, 1, 1),
            router_id=router_id,
            pppoe_username="rahim",
            pppoe_password="dial-in-pass",
            secret_key=SECRET,
        )
    router_peer.connect_ppp("rahim", "10.20.0.15")
    router_peer.connect_ppp("karim", "10.20.0.16")  # another customer, who must stay online
    await generate_bills(_ctx(db, tenant, NOV_1))
    return {"tenant": tenant, "customer_id": customer_id, "package_id": package_id, "router_id": router_id}


def _listed(peer: RouterOSPeer) -> list[str]:
    return [e["address"] for e in peer.items("/ip/firewall/address-list") if e["list"] == SUSPENDED_LIST]


def _secret_profile(peer: RouterOSPeer, name: str) -> str:
    return next(s["profile"] for s in peer.items("/ppp/secret") if s["name"] == name)


async def _fetch(db: Database, tenant: TenantRef, sql: str, *args: object) -> list[dict]:
    async with db.tenant(tenant) as scope:
        return [dict(r) for r in await scope.connection.fetch(sql, *args)]


async def test_overdue_customer_is_suspended_on_the_router_and_a_payment_brings_them_back(
    db: Database, wired, router_peer: RouterOSPeer, make_client, make_staff, sign_in
):
    tenant, customer_id = wired["tenant"], wired["customer_id"]
    early = await auto_suspend(_ctx(db, tenant, date(2026, 11, 11)))
    assert early["suspended"] == 0 and early["not_due"] == 1  # still inside the grace period

    counts = await auto_suspend(_ctx(db, tenant, NOV_12))
    assert counts["suspended"] == 1 and counts["router_done"] == 1
    [log] = await _fetch(db, tenant, "SELECT * FROM suspension_log")
    assert (log["action"], log["actor"], log["amount_due_minor"]) == (
        "suspended",
        "system (billing.auto_suspend)",
        80000,
    )
    assert log["bill_id"] is not None and "3 grace days" in log["rule"] and "unpaid" in log["reason"]
    assert [s["name"] for s in router_peer.items("/ppp/active")] == ["karim"]  # Rahim's session is gone
    assert _listed(router_peer) == ["10.20.0.15"]
    assert _secret_profile(router_peer, "rahim") == SUSPENDED_PROFILE
    [status] = await _fetch(
        db, tenant, "SELECT status, host(last_address) AS last_address FROM customer WHERE id = $1", customer_id
    )
    assert status == {"status": "suspended", "last_address": "10.20.0.15"}

    # a rerun, and two workers at once, change nothing more
    again = await asyncio.gather(*(auto_suspend(_ctx(db, tenant, NOV_12)) for _ in range(2)))
    assert all(run["suspended"] == 0 for run in again)
    assert len(await _fetch(db, tenant, "SELECT id FROM suspension_log")) == 1

    operator = make_client()
    token = await sign_in(operator, await make_staff("operator_admin", tenant))
    portal = await make_client().get(f"/suspended/{tenant.slug}/")
    assert portal.status_code == 200 and "How to pay" in portal.text and "Rahim" not in portal.text  # not its address
    paid = await operator.post(
        f"/panel/customers/{customer_id}/payments/new",
        data={"_csrf_token": token, "amount": "800", "method": "cash"},
    )
    assert paid.status_code == 303
    [status] = await _fetch(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id)
    assert status["status"] == "active"
    await run_due_commands(_ctx(db, tenant, NOV_12))  # what the worker runs when the queue delivers the kick
    assert _listed(router_peer) == []
    assert _secret_profile(router_peer, "rahim") == package_profile(wired["package_id"])
    profile = next(p for p in router_peer.items("/ppp/profile") if p["name"] == package_profile(wired["package_id"]))
    assert profile["rate-limit"] in ("10M/20M", "10000000/20000000")  # upload/download as the router sees it
    actions = [r["action"] for r in await _fetch(db, tenant, "SELECT action FROM suspension_log ORDER BY id")]
    events = [r["name"] for r in await _fetch(db, tenant, "SELECT name FROM domain_event ORDER BY id")]
    assert actions == ["suspended", "activated"]
    assert events == ["customer.suspended", "payment.received", "customer.activated"]
    page = await operator.get(f"/panel/customers/{customer_id}")
    assert "On the router" in page.text and "10.20.0.15" in page.text
    assert "blocked 10.20.0.15" in page.text and "unblocked 10.20.0.15" in page.text  # results in words, not JSON
    log_page = await operator.get("/panel/logs/suspension")
    assert log_page.text.count("Rahim") == 2


async def test_a_router_that_is_down_gets_the_suspension_when_it_returns(
    db: Database, wired, router_peer: RouterOSPeer, make_client, make_staff, sign_in
):
    tenant, customer_id = wired["tenant"], wired["customer_id"]
    router_peer.fault = Fault.CLOSE_ON_ACCEPT
    counts = await auto_suspend(_ctx(db, tenant, NOV_12))
    assert counts["suspended"] == 1 and counts["router_retry"] == 1  # billing went on; the router waits
    [command] = await _fetch(db, tenant, "SELECT * FROM router_command")
    assert (command["status"], command["attempts"]) == ("pending", 1) and command["last_error"]
    [router] = await _fetch(db, tenant, "SELECT status, last_error FROM router")
    assert router["status"] == "down" and router["last_error"]
    operator = make_client()
    await sign_in(operator, await make_staff("operator_staff", tenant))
    assert "RouterUnreachable" in (await operator.get(f"/panel/routers/{wired['router_id']}")).text
    assert "RouterUnreachable" in (await operator.get(f"/panel/customers/{customer_id}")).text

    not_yet = await run_due_commands(_ctx(db, tenant, NOV_12))
    assert not_yet["done"] == 0  # backing off: the next try is 30 s later
    router_peer.fault = Fault.NONE
    async with db.tenant(tenant) as scope:  # time passes
        await scope.connection.execute("UPDATE router_command SET next_attempt_at = now()")
    done = await run_due_commands(_ctx(db, tenant, NOV_12))
    assert done["done"] == 1
    assert _listed(router_peer) == ["10.20.0.15"] and [s["name"] for s in router_peer.items("/ppp/active")] == ["karim"]
    again = await run_due_commands(_ctx(db, tenant, NOV_12))
    assert again["done"] == 0 and _listed(router_peer) == ["10.20.0.15"]  # nothing doubled
    [router] = await _fetch(db, tenant, "SELECT status FROM router")
    assert router["status"] == "up"


async def test_reactivation_before_the_router_got_the_suspension_supersedes_it(
    db: Database, wired, router_peer: RouterOSPeer, make_client, make_staff, sign_in
):
    tenant, customer_id = wired["tenant"], wired["customer_id"]
    router_peer.fault = Fault.CLOSE_ON_ACCEPT
    await auto_suspend(_ctx(db, tenant, NOV_12))
    operator = make_client()
    token = await sign_in(operator, await make_staff("operator_staff", tenant))
    back = await operator.post(
        f"/panel/customers/{customer_id}/activate", data={"_csrf_token": token, "reason": "promise"}
    )
    assert back.status_code == 303
    router_peer.fault = Fault.NONE
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE router_command SET next_attempt_at = now()")
    await run_due_commands(_ctx(db, tenant, NOV_12))
    statuses = [r["status"] for r in await _fetch(db, tenant, "SELECT status FROM router_command ORDER BY id")]
    assert statuses == ["superseded", "done"]
    assert _listed(router_peer) == [] and _secret_profile(router_peer, "rahim") == package_profile(wired["package_id"])
    assert not [w for w in router_peer.writes() if w.attributes.get("list") == SUSPENDED_LIST]  # never listed
    # the operator's reactivation is not overruled by the next run for the same bill
    assert (await auto_suspend(_ctx(db, tenant, date(2026, 11, 13))))["suspended"] == 0


async def test_auto_suspend_decides_after_a_payment_that_holds_the_customer_commits(db: Database, wired):
    """DESIGN 10: the job reads the account under the customer's row lock, so a payment being recorded while the
    job runs is seen, and the customer who paid is not suspended."""
    tenant, customer_id = wired["tenant"], wired["customer_id"]
    async with db.tenant(tenant) as scope:
        await record_payment(
            scope.connection,
            customer_id=customer_id,
            amount=Money(80000, "BDT"),
            method=PaymentMethod.CASH,
            reference="",
            received_on=NOV_12,
            received_by="test",
        )
        # the job runs in its own context (its own transaction), like a worker's
        job = asyncio.create_task(auto_suspend(_ctx(db, tenant, NOV_12)), context=contextvars.Context())
        await asyncio.sleep(1)
        assert not job.done()  # waiting for the customer's lock, which the payment holds
    counts = await job
    assert (counts["suspended"], counts["not_due"]) == (0, 1)
    [status] = await _fetch(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id)
    assert status["status"] == "active"


async def test_many_commands_sign_in_once_per_router_and_a_router_down_holds_up_no_other(db: Database, make_tenant):
    """30 suspensions over two routers: one API session per router (not one per command), every command done
    in order; a third router that is down gets its first command retried and its others left pending, while
    the two that answer finish. Reactivating asks the router for the customer's entries, not the whole list."""
    tenant = await make_tenant("many")
    async with (
        RouterOSPeer(username="ispb", password="router-pass") as north,
        RouterOSPeer(username="ispb", password="router-pass") as south,
        RouterOSPeer(username="ispb", password="router-pass") as down,
    ):
        down.fault = Fault.CLOSE_ON_ACCEPT
        async with db.tenant(tenant) as scope:
            package_id = await make_package(scope, name="Home", price_minor=50000)
            routers = [
                await make_router(
                    scope,
                    name=name,
                    host=peer.host,
                    api_port=peer.port,
                    username="ispb",
                    password="router-pass",
                    secret_key=SECRET,
                )
                for name, peer in (("North", north), ("South", south), ("Down", down))
            ]
            ids = [
                await make_customer(
                    scope,
                    code=f"M{n:02d}",
                    phone=f"+8801712{n:06d}",
                    package_id=package_id,
                    router_id=routers[n % 3],
                    pppoe_username=f"many{n}",
                    pppoe_password=f"pass-{n}",
                    secret_key=SECRET,
                )
                for n in range(45)
            ]
            await enqueue_commands(scope.connection, ids, "suspend")
        for n in range(45):
            (north, south, down)[n % 3].connect_ppp(f"many{n}", f"10.30.0.{n + 10}")
        counts = await run_due_commands(_ctx(db, tenant, NOV_12))
        assert counts == {"done": 30, "retry": 1, "busy": 0}
        for peer in (north, south):
            assert [r.command for r in peer.received].count("/login") == 1
            assert len([e for e in peer.items("/ip/firewall/address-list") if e["list"] == SUSPENDED_LIST]) == 15
        rows = await _fetch(db, tenant, "SELECT router_id, status, attempts FROM router_command ORDER BY id")
        on_down = [(r["status"], r["attempts"]) for r in rows if r["router_id"] == routers[2]]
        assert on_down == [("pending", 1)] + [("pending", 0)] * 14
        status = {r["id"]: r["status"] for r in await _fetch(db, tenant, "SELECT id, status FROM router")}
        assert status == {routers[0]: "up", routers[1]: "up", routers[2]: "down"}

        north.received.clear()
        async with db.tenant(tenant) as scope:
            await enqueue_commands(scope.connection, [ids[0]], "activate")
        assert (await run_due_commands(_ctx(db, tenant, NOV_12)))["done"] == 1
        listed = [e["address"] for e in north.items("/ip/firewall/address-list") if e["list"] == SUSPENDED_LIST]
        assert len(listed) == 14 and "10.30.0.10" not in listed
        list_reads = [r for r in north.received if r.command == "/ip/firewall/address-list/print"]
        assert list_reads and all(any(q.startswith(("comment=", "address=")) for q in r.queries) for r in list_reads)
