"""Online payments through the bKash Tokenized Checkout peer: Pay now on the portal and the suspension portal,
recorded once after the server-to-server execute, refused when the gateway's answer does not match, and
``payments.recheck_pending`` capturing what a lost callback left pending."""

import asyncio
import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from factories import make_bill, make_billing_profile, make_customer
from ispb_notify import OutboundPolicy
from ispb_platform.auth.passwords import hash_password
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.online.accounts import GatewayAccount, save_account
from ispb_platform.payments.online.gateway import Provider
from ispb_platform.payments.online.service import Context, recheck_pending
from ispb_tenants import Database, TenantRef
from pages import csrf_from
from peers.bkash import BkashPeer

KEY = "t" * 40
PASSWORD = "portal-pass-1"


@pytest.fixture(name="bkash")
async def fx_bkash():
    async with BkashPeer() as peer:
        yield peer


async def _setup(db: Database, tenant: TenantRef, peer: BkashPeer) -> None:
    async with db.tenant(tenant) as scope:
        account = GatewayAccount(
            Provider.BKASH,
            True,
            "sandbox",
            peer.base_url,
            peer.app_key,
            {"app_secret": peer.app_secret, "username": peer.username, "password": peer.password},
        )
        await save_account(scope.connection, tenant.id, KEY, account)


async def _suspended_customer(db: Database, tenant: TenantRef, code: str = "S1", ip: str | None = None) -> int:
    """A suspended customer (auto-activating profile) owing one overdue 500.00 bill."""
    today = local_today(datetime.now(UTC), tenant)
    overdue = (today.replace(day=1) - timedelta(days=70)).replace(day=1)
    async with db.tenant(tenant) as scope:
        profile = await make_billing_profile(scope, auto_activate=True)
        customer_id = await make_customer(
            scope, code=code, billing_profile_id=profile, status="suspended", password_hash=hash_password(PASSWORD)
        )
        await make_bill(scope, customer_id=customer_id, period_start=overdue)
        if ip:
            await scope.connection.execute("UPDATE customer SET ip_address = $2 WHERE id = $1", customer_id, ip)
    return customer_id


async def _one(db: Database, tenant: TenantRef, sql: str, *args: Any) -> Any:
    async with db.tenant(tenant) as scope:
        return await scope.connection.fetchrow(sql, *args)


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def _start_from_portal(client, tenant: TenantRef, bkash: BkashPeer) -> str:
    """Sign in, press Pay now; returns the bKash paymentID the checkout got."""
    token = csrf_from((await client.get(f"/portal/{tenant.slug}/login")).text)
    await client.post(f"/portal/{tenant.slug}/login", data={"login": "S1", "password": PASSWORD, "_csrf_token": token})
    dashboard = await client.get(f"/portal/{tenant.slug}/")
    assert "Pay now with bKash" in dashboard.text
    token = csrf_from(dashboard.text)
    # the form itself carries the token (a browser posts the form, not the meta tag)
    assert (
        f'action="/portal/{tenant.slug}/pay" class="pay-now">\n  <input type="hidden" name="_csrf_token" value="'
        in (dashboard.text)
    )
    going = await client.post(f"/portal/{tenant.slug}/pay", data={"provider": "bkash", "_csrf_token": token})
    assert going.status_code == 200 and "Continue to bKash" in going.text, going.text[:500]
    [payment_id] = list(bkash.payments)
    assert f"{bkash.base_url}/checkout/{payment_id}" in going.text
    return payment_id


async def test_portal_customer_pays_through_bkash_and_is_recorded_once_and_reactivated(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer
):
    tenant = await make_tenant("pay")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    customer_id = await _suspended_customer(db, tenant)
    client = make_client()
    payment_id = await _start_from_portal(client, tenant, bkash)
    assert bkash.payments[payment_id].amount == "500.00" and bkash.payments[payment_id].currency == "BDT"

    # the browser's return alone records nothing: without the customer's approval the execute fails
    premature = await client.get(
        _local(bkash.payments[payment_id].callback_url + f"?paymentID={payment_id}&status=success")
    )
    assert premature.status_code == 303
    assert (await _one(db, tenant, "SELECT count(*) AS n FROM payment"))["n"] == 0

    callback = _local(bkash.pay(payment_id))
    first, second = await asyncio.gather(client.get(callback), client.get(callback))  # callback twice, at once
    assert first.status_code == second.status_code == 303
    result = await client.get(first.headers["location"])
    assert "Payment received" in result.text and "back on" in result.text
    assert bkash.executions == 1
    payment = await _one(db, tenant, "SELECT count(*) AS n, min(method) AS method, min(reference) AS ref FROM payment")
    assert (payment["n"], payment["method"], payment["ref"]) == (1, "gateway", bkash.payments[payment_id].trx_id)
    state = await _one(
        db,
        tenant,
        "SELECT c.status, a.balance_minor, (SELECT status FROM bill WHERE customer_id = c.id) AS bill,"
        " (SELECT count(*) FROM domain_event WHERE name = 'payment.received') AS received,"
        " (SELECT count(*) FROM suspension_log WHERE action = 'activated') AS reactivations"
        " FROM customer c JOIN customer_account a ON a.customer_id = c.id WHERE c.id = $1",
        customer_id,
    )
    assert dict(state) == {"status": "active", "balance_minor": 0, "bill": "paid", "received": 1, "reactivations": 1}
    # a third delivery much later changes nothing either
    assert (await client.get(callback)).status_code == 303
    assert (await _one(db, tenant, "SELECT count(*) AS n FROM payment"))["n"] == 1


async def test_suspension_portal_pay_now_reaches_bkash_for_the_customer_at_that_address(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer
):
    tenant = await make_tenant("spay")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    customer_id = await _suspended_customer(db, tenant, ip="198.51.100.23")
    client = make_client(ip="198.51.100.23")
    page = await client.get(f"/suspended/{tenant.slug}/")
    assert "Pay now with bKash" in page.text
    assert re.search(
        r'action="/suspended/[^"]+/pay" class="pay-now">\s*<input type="hidden" name="_csrf_token"', page.text
    )
    going = await client.post(
        f"/suspended/{tenant.slug}/pay", data={"provider": "bkash", "_csrf_token": csrf_from(page.text)}
    )
    assert going.status_code == 200
    [payment_id] = list(bkash.payments)
    done = await client.get(_local(bkash.pay(payment_id)))
    assert "Payment received" in (await client.get(done.headers["location"])).text
    row = await _one(db, tenant, "SELECT status, origin, customer_id FROM online_payment")
    assert dict(row) == {"status": "completed", "origin": "suspension", "customer_id": customer_id}
    command = await _one(db, tenant, "SELECT count(*) AS n FROM suspension_log WHERE action = 'activated'")
    assert command["n"] == 1
    # someone at another address gets no checkout
    stranger = make_client(ip="198.51.100.99")
    page = await stranger.get(f"/suspended/{tenant.slug}/")
    refused = await stranger.post(
        f"/suspended/{tenant.slug}/pay", data={"provider": "bkash", "_csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 400 and len(bkash.payments) == 1


@pytest.mark.parametrize(
    ("tamper", "status", "reason"),
    [
        ({"amount": "5.00"}, "refused", "the amount '5.00' is not the 500.00 asked for"),
        ({"amount": "500.001"}, "refused", "the amount '500.001' is not the 500.00 asked for"),
        ({"currency": "USD"}, "refused", "currency 'USD'"),
        # an answer about another checkout says nothing about this one: it stays pending, for the recheck
        ({"merchantInvoiceNumber": "someone-elses-invoice"}, "pending", "invoice number"),
    ],
)
async def test_an_answer_that_does_not_match_what_was_asked_is_refused_and_never_credited(
    db: Database,
    make_tenant,
    make_client,
    make_staff,
    sign_in,
    allow_outbound,
    bkash: BkashPeer,
    tamper,
    status,
    reason,
):
    status_now = status
    tenant = await make_tenant("tamp")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    customer_id = await _suspended_customer(db, tenant)
    client = make_client()
    payment_id = await _start_from_portal(client, tenant, bkash)
    bkash.tamper = tamper
    done = await client.get(_local(bkash.pay(payment_id)))
    shown = (await client.get(done.headers["location"])).text
    assert ("Not paid" if status == "refused" else "Waiting for bKash") in shown
    row = await _one(db, tenant, "SELECT status, last_answer FROM online_payment")
    assert row["status"] == status and reason in row["last_answer"]
    assert (await _one(db, tenant, "SELECT count(*) AS n FROM payment"))["n"] == 0
    status = await _one(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id)
    assert status["status"] == "suspended"
    operator = make_client(ip="203.0.113.50")
    await sign_in(operator, await make_staff("operator_staff", tenant))
    listed = await operator.get("/panel/payments/online")
    assert listed.status_code == 200 and "S1" in listed.text and f"badge {status_now}" in listed.text
    assert reason in html.unescape(listed.text)


async def _age(db: Database, tenant: TenantRef, minutes: int) -> None:
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "UPDATE online_payment SET created_at = created_at - make_interval(mins => $1)", minutes
        )


def _context(db: Database, bkash: BkashPeer) -> Context:
    return Context(db, KEY, OutboundPolicy.parse(f"127.0.0.1:{bkash.port}"))


async def test_recheck_captures_a_payment_whose_callback_never_came_and_the_late_callback_adds_nothing(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer
):
    tenant = await make_tenant("rchk")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    customer_id = await _suspended_customer(db, tenant)
    client = make_client()
    payment_id = await _start_from_portal(client, tenant, bkash)
    callback = _local(bkash.pay(payment_id))  # the customer paid; the browser never came back
    now, today = datetime.now(UTC), local_today(datetime.now(UTC), tenant)
    young = await recheck_pending(_context(db, bkash), tenant, today, now)
    assert young["checked"] == 0  # still in the customer's hands
    await _age(db, tenant, 10)
    counts = await recheck_pending(_context(db, bkash), tenant, today, now)
    assert (counts["checked"], counts["completed"], counts["reactivated"]) == (1, 1, 1)
    assert (await recheck_pending(_context(db, bkash), tenant, today, now))["checked"] == 0
    late = await client.get(callback)  # the callback after the recheck
    assert "Payment received" in (await client.get(late.headers["location"])).text
    assert (await _one(db, tenant, "SELECT count(*) AS n FROM payment"))["n"] == 1
    assert bkash.executions == 1
    row = await _one(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id)
    assert row["status"] == "active"


async def test_lost_execute_answer_then_recheck_and_a_failing_gateway_leaves_the_checkout_pending(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer
):
    tenant = await make_tenant("drop")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    await _suspended_customer(db, tenant)
    client = make_client()
    payment_id = await _start_from_portal(client, tenant, bkash)
    callback = _local(bkash.pay(payment_id))
    bkash.drop_next(1, call="/execute")  # bKash takes the money; its answer never arrives
    done = await client.get(callback)
    assert "Waiting for bKash" in (await client.get(done.headers["location"])).text
    pending = await _one(db, tenant, "SELECT status, last_answer FROM online_payment")
    assert pending["status"] == "pending" and "could not be reached" in pending["last_answer"]
    assert bkash.payments[payment_id].status == "Completed"  # paid at bKash, not recorded yet
    await _age(db, tenant, 10)
    now, today = datetime.now(UTC), local_today(datetime.now(UTC), tenant)
    bkash.fail_next(1, status=500)  # gateway 500 on the recheck's grant
    counts = await recheck_pending(_context(db, bkash), tenant, today, now)
    assert (counts["unanswered"], counts["pending"]) == (1, 1)
    answer = await _one(db, tenant, "SELECT status, last_answer, checks FROM online_payment")
    assert answer["status"] == "pending" and "HTTP 500" in answer["last_answer"]
    counts = await recheck_pending(_context(db, bkash), tenant, today, now)
    assert counts["completed"] == 1
    assert (await _one(db, tenant, "SELECT count(*) AS n FROM payment"))["n"] == 1


async def test_cancelled_checkout_is_closed_and_an_unpaid_one_expires_after_a_day(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer
):
    tenant = await make_tenant("canc")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    await _suspended_customer(db, tenant)
    client = make_client()
    first = await _start_from_portal(client, tenant, bkash)
    done = await client.get(_local(bkash.cancel(first)))
    assert "Not paid" in (await client.get(done.headers["location"])).text
    token = csrf_from((await client.get(f"/portal/{tenant.slug}/")).text)
    await client.post(f"/portal/{tenant.slug}/pay", data={"provider": "bkash", "_csrf_token": token})
    await _age(db, tenant, 60 * 25)
    now, today = datetime.now(UTC), local_today(datetime.now(UTC), tenant)
    counts = await recheck_pending(_context(db, bkash), tenant, today, now)
    assert counts["expired"] == 1
    rows = await _one(db, tenant, "SELECT array_agg(status ORDER BY id) AS s FROM online_payment")
    assert rows["s"] == ["failed", "expired"]


async def test_payment_gateways_page_seals_credentials_and_keeps_them_when_left_empty(
    db: Database, make_tenant, make_staff, make_client, sign_in
):
    tenant = await make_tenant("gwp")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    page = await client.get("/panel/payments/gateways")
    assert page.status_code == 200 and "bKash" in page.text
    form = {"_csrf_token": token, "mode": "sandbox", "base_url": "", "merchant_id": "app-key-1", "enabled": "on"}
    missing = await client.post("/panel/payments/gateways/bkash", data=form)
    assert missing.status_code == 422 and "to switch this gateway on" in missing.text
    saved = await client.post(
        "/panel/payments/gateways/bkash",
        data=form | {"app_secret": "very-secret-1", "username": "merchant", "password": "pw-123"},
    )
    assert saved.status_code == 303
    stored = await _one(db, tenant, "SELECT merchant_id, secret_sealed, enabled FROM payment_gateway")
    assert stored["merchant_id"] == "app-key-1" and stored["enabled"]
    assert stored["secret_sealed"].startswith("v2:") and "very-secret-1" not in stored["secret_sealed"]
    again = await client.post("/panel/payments/gateways/bkash", data=form | {"mode": "live"})
    assert again.status_code == 303  # the stored credentials kept
    page = await client.get("/panel/payments/gateways")
    assert "very-secret-1" not in page.text and "Stored; leave empty to keep it" in page.text
    staff = make_client(ip="203.0.113.8")
    token = await sign_in(staff, await make_staff("operator_staff", tenant))
    assert (await staff.post("/panel/payments/gateways/bkash", data=form | {"_csrf_token": token})).status_code == 403
    assert (await client.post("/panel/payments/gateways/paypal", data=form)).status_code == 404


async def test_bkash_refund_gives_a_completed_payment_back_and_refuses_anything_else(bkash: BkashPeer):
    from ispb_billing import Money
    from ispb_platform.payments.online.bkash import Bkash, BkashAccount
    from ispb_platform.payments.online.gateway import Checkout, GatewayRejected, Pending

    account = BkashAccount(bkash.base_url, bkash.app_key, bkash.app_secret, bkash.username, bkash.password)
    adapter = Bkash(account, OutboundPolicy.parse(f"127.0.0.1:{bkash.port}"))
    amount = Money(120050, "BDT")
    started = await adapter.start(Checkout("f" * 20, amount, "C1", "01711000001", "https://isp.test/back"))
    pending = Pending("f" * 20, started.gateway_ref, amount)
    with pytest.raises(GatewayRejected, match="2071"):  # not paid yet: nothing to give back
        await adapter.refund(pending, "TRXNONE", "customer asked")
    bkash.pay(started.gateway_ref)
    verdict = await adapter.confirm(pending, {"status": "success", "paymentID": started.gateway_ref})
    assert (verdict.amount, verdict.transaction_id) == ("1200.50", bkash.payments[started.gateway_ref].trx_id)
    refund = await adapter.refund(pending, verdict.transaction_id, "customer asked")
    assert refund == f"RF{verdict.transaction_id}"


async def test_execute_timing_out_after_bkash_took_the_money_is_captured_by_the_recheck(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer, monkeypatch: pytest.MonkeyPatch
):
    from ispb_platform.payments.online import http

    monkeypatch.setattr(http, "TIMEOUT_S", 1.0)  # the 30 s bKash asks for, shortened for the test
    tenant = await make_tenant("tmo")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    await _suspended_customer(db, tenant)
    client = make_client()
    payment_id = await _start_from_portal(client, tenant, bkash)
    bkash.stall_next(1, call="/execute", seconds=2)  # timeout, then success at bKash
    done = await client.get(_local(bkash.pay(payment_id)))
    assert "Waiting for bKash" in (await client.get(done.headers["location"])).text
    row = await _one(db, tenant, "SELECT status, last_answer FROM online_payment")
    assert row["status"] == "pending" and "did not answer" in row["last_answer"]
    await asyncio.sleep(1.2)  # the stalled answer is written to a client that is gone
    assert bkash.payments[payment_id].status == "Completed"
    await _age(db, tenant, 10)
    now = datetime.now(UTC)
    counts = await recheck_pending(_context(db, bkash), tenant, local_today(now, tenant), now)
    assert (counts["completed"], counts["reactivated"]) == (1, 1)
    assert bkash.executions == 1
    assert (await _one(db, tenant, "SELECT count(*) AS n FROM payment"))["n"] == 1


async def test_a_customer_opens_only_a_few_checkouts_in_a_while(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer
):
    """The suspension portal's Pay now is public (by address): each press is a call to the gateway, so a script
    at a suspended customer's address gets 5 checkouts in 10 minutes, then a clear refusal."""
    tenant = await make_tenant("spam")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    await _suspended_customer(db, tenant, ip="198.51.100.41")
    client = make_client(ip="198.51.100.41")
    token = csrf_from((await client.get(f"/suspended/{tenant.slug}/")).text)
    answers = [
        await client.post(f"/suspended/{tenant.slug}/pay", data={"provider": "bkash", "_csrf_token": token})
        for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [200] * 5 + [400]
    assert "started several payments" in answers[-1].text and len(bkash.payments) == 5


async def test_the_gateway_is_sent_back_to_the_configured_public_url_not_the_requests_host(
    db: Database, make_tenant, make_client, allow_outbound, bkash: BkashPeer, web_app: Any, monkeypatch
):
    """The return address a gateway sends the paying customer's browser to is built from ISPB_PUBLIC_URL when it
    is set: a request with a forged Host header cannot point it at another site (unset, it would:
    https://pay.attacker.example/payments/...)."""
    tenant = await make_tenant("pubu")
    allow_outbound(f"127.0.0.1:{bkash.port}")
    await _setup(db, tenant, bkash)
    await _suspended_customer(db, tenant)
    runtime = web_app.state.runtime
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, public_url="https://billing.example.net"))
    client = make_client()
    client.headers["host"] = "pay.attacker.example"
    payment_id = await _start_from_portal(client, tenant, bkash)
    callback = bkash.payments[payment_id].callback_url
    assert callback.startswith(f"https://billing.example.net/payments/{tenant.slug}/bkash/return/"), callback
