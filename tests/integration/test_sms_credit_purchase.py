"""Operators buy SMS credit online through the platform's own gateway account (bKash peer): the credit rises
once per paid purchase, whatever the number of callbacks, and ``payments.recheck_sms_purchases`` credits a
purchase whose callback was lost."""

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from ispb_notify import OutboundPolicy
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.registry import get_job
from ispb_platform.payments.online.accounts import PLATFORM_ACCOUNTS, GatewayAccount, save_account
from ispb_platform.payments.online.gateway import Provider
from ispb_tenants import Database
from peers.bkash import BkashPeer

KEY = "t" * 40


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture(name="platform_bkash")
async def fx_platform_bkash(db: Database, allow_outbound):
    async with BkashPeer(app_key="platform-key", username="platform") as peer:
        allow_outbound(f"127.0.0.1:{peer.port}")
        account = GatewayAccount(
            Provider.BKASH,
            True,
            "sandbox",
            peer.base_url,
            peer.app_key,
            {"app_secret": peer.app_secret, "username": peer.username, "password": peer.password},
        )
        async with db.platform() as connection:
            await save_account(connection, PLATFORM_ACCOUNTS, KEY, account)
        yield peer
        async with db.platform() as connection:
            await connection.execute("DELETE FROM platform.payment_gateway")


async def _credit(db: Database, tenant_id: int) -> int:
    return int(await db.fetchval("SELECT sms_credit FROM platform.tenant WHERE id = $1", tenant_id))


async def _buy(client, token: str, peer: BkashPeer) -> str:
    page = await client.get("/panel/notifications/gateway")
    assert "Buy SMS credit" in page.text and "1,000 SMS for 350.00 BDT" in page.text, page.text[-3000:]
    going = await client.post(
        "/panel/notifications/sms-credit", data={"_csrf_token": token, "pack": "1", "provider": "bkash"}
    )
    assert going.status_code == 200 and "Continue to bKash" in going.text, going.text[:400]
    payment_id = list(peer.payments)[-1]
    assert (peer.payments[payment_id].amount, peer.payments[payment_id].currency) == ("350.00", "BDT")
    return payment_id


async def test_operator_buys_sms_credit_and_it_rises_once(
    db: Database, make_tenant, make_staff, make_client, sign_in, platform_bkash: BkashPeer
):
    tenant = await make_tenant("smsb")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    before = await _credit(db, tenant.id)
    payment_id = await _buy(client, token, platform_bkash)
    callback = _local(platform_bkash.pay(payment_id))
    answers = await asyncio.gather(client.get(callback), client.get(callback))
    assert {a.status_code for a in answers} == {303}
    result = await client.get(answers[0].headers["location"])
    assert "1,000 SMS were added" in result.text
    assert await _credit(db, tenant.id) == before + 1000
    page = await client.get("/panel/notifications/gateway")
    assert "completed" in page.text and f"{before + 1000:,}" in page.text
    staff = make_client(ip="203.0.113.9")
    staff_token = await sign_in(staff, await make_staff("operator_staff", tenant))
    refused = await staff.post(
        "/panel/notifications/sms-credit", data={"_csrf_token": staff_token, "pack": "1", "provider": "bkash"}
    )
    assert refused.status_code == 403


async def test_recheck_job_credits_a_purchase_whose_callback_was_lost_and_refuses_a_tampered_one(
    db: Database, make_tenant, make_staff, make_client, sign_in, platform_bkash: BkashPeer
):
    tenant = await make_tenant("smsr")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    before = await _credit(db, tenant.id)
    lost = await _buy(client, token, platform_bkash)
    platform_bkash.pay(lost)  # paid; the browser never came back
    await db.pool.execute(
        "UPDATE platform.sms_credit_purchase SET created_at = created_at - interval '10 min' WHERE tenant_id = $1",
        tenant.id,
    )
    job = get_job("payments.recheck_sms_purchases")
    now = datetime.now(UTC)
    context = JobContext(db=db, today=now.date(), now=now, secret_key=KEY, outbound=OutboundPolicy.parse(
        f"127.0.0.1:{platform_bkash.port}"
    ))  # fmt: skip
    counts = await job.run(context)
    assert counts["completed"] >= 1
    assert await _credit(db, tenant.id) == before + 1000
    assert (await job.run(context)).get("completed", 0) == 0  # nothing twice
    tampered = await _buy(client, token, platform_bkash)
    platform_bkash.tamper = {"amount": "3.50"}
    await client.get(_local(platform_bkash.pay(tampered)))
    row = await db.pool.fetchrow(
        "SELECT status, last_answer FROM platform.sms_credit_purchase WHERE gateway_ref = $1", tampered
    )
    assert row["status"] == "refused" and "3.50" in row["last_answer"]
    assert await _credit(db, tenant.id) == before + 1000


async def test_platform_admin_sets_up_the_platform_gateways(db: Database, make_client, make_staff, sign_in):
    client = make_client()
    token = await sign_in(client, await make_staff("platform_admin"))
    page = await client.get("/admin/payments/gateways")
    assert page.status_code == 200 and "Platform payment gateways" in page.text and "Nagad" in page.text
    form = {"_csrf_token": token, "mode": "sandbox", "merchant_id": "store1", "store_password": "pw", "enabled": "on"}
    try:
        assert (await client.post("/admin/payments/gateways/sslcommerz", data=form)).status_code == 303
        sealed = await db.fetchval("SELECT secret_sealed FROM platform.payment_gateway WHERE provider = 'sslcommerz'")
        assert sealed.startswith("v2:")  # sealed, never the password itself
    finally:
        await db.pool.execute("DELETE FROM platform.payment_gateway")
