"""In a real browser (issue 17): a portal customer pays a bill through the bKash peer and sees it paid; a
suspended customer pays from the suspension portal and is back online. The live ``ispb web`` talks to the peer
on loopback (``ISPB_OUTBOUND_ALLOW=127.0.0.1`` in conftest.py)."""

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from factories import make_bill, make_billing_profile, make_customer
from ispb_platform.auth.passwords import hash_password
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.online.accounts import GatewayAccount, save_account
from ispb_platform.payments.online.gateway import Provider
from ispb_tenants import Database, TenantRef
from peers.bkash import BkashPeer

SERVER_SECRET = "e" * 40  # the live server's ISPB_SECRET_KEY
PASSWORD = "pay-online-2026"


@pytest.fixture(name="bkash")
async def fx_bkash():
    async with BkashPeer() as peer:
        yield peer


async def _shop(db: Database, tenant: TenantRef, peer: BkashPeer, *, status: str, ip: str | None) -> int:
    today = local_today(datetime.now(UTC), tenant)
    overdue = (today.replace(day=1) - timedelta(days=70)).replace(day=1)
    async with db.tenant(tenant) as scope:
        account = GatewayAccount(
            Provider.BKASH, True, "sandbox", peer.base_url, peer.app_key,
            {"app_secret": peer.app_secret, "username": peer.username, "password": peer.password},
        )  # fmt: skip
        await save_account(scope.connection, tenant.id, SERVER_SECRET, account)
        profile = await make_billing_profile(scope, auto_activate=True)
        customer_id = await make_customer(
            scope, code="W1", name="Nusrat Jahan", billing_profile_id=profile, status=status,
            password_hash=hash_password(PASSWORD), secret_key=SERVER_SECRET,
        )  # fmt: skip
        await make_bill(scope, customer_id=customer_id, period_start=overdue)
        if ip:
            await scope.connection.execute("UPDATE customer SET ip_address = $2 WHERE id = $1", customer_id, ip)
    return customer_id


async def _pay_at_bkash(page: Page) -> None:
    """The interstitial sends the browser on to the gateway by itself; the customer confirms there."""
    await expect(page.get_by_role("heading", name="bKash (test peer)")).to_be_visible(timeout=15_000)
    await page.locator("#gateway-pay").click()


@pytest.mark.parametrize("screen", [{"width": 390, "height": 844}], ids=["phone"])
async def test_portal_customer_pays_a_bill_online_and_sees_it_paid(
    screen: dict[str, int],
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
    bkash: BkashPeer,
) -> None:
    tenant = await make_tenant("paybrowser")
    await _shop(db, tenant, bkash, status="active", ip=None)
    page = await new_page(**screen)
    await page.goto(f"/portal/{tenant.slug}/login")
    await page.locator("input[name=login]").fill("W1")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    bill = page.locator("#bills .bill-card").first
    await expect(bill).to_contain_text("open")
    await shots(page, "bill-open")
    await bill.get_by_role("button", name=re.compile("Pay now with bKash")).click()
    await _pay_at_bkash(page)
    await expect(page.locator("#payment-result")).to_contain_text("Payment received", timeout=15_000)
    await shots(page, "payment-received")
    await page.get_by_role("link", name="Your account").click()
    await expect(page.locator("#bills .bill-card").first).to_contain_text("paid")
    await expect(page.locator("#how-to-pay")).to_have_count(0)  # nothing owed any more
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM payment WHERE method = 'gateway'") == 1


async def test_suspended_customer_pays_from_the_suspension_portal_and_is_back_online(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
    bkash: BkashPeer,
) -> None:
    tenant = await make_tenant("paysusp")
    customer_id = await _shop(db, tenant, bkash, status="suspended", ip="127.0.0.1")  # the browser's address
    page = await new_page(width=390, height=844)
    await page.goto(f"/suspended/{tenant.slug}/")
    await expect(page.get_by_text("Your internet service is suspended")).to_be_visible()
    await shots(page, "suspension-portal")
    await page.get_by_role("button", name="Pay now with bKash").click()
    await _pay_at_bkash(page)
    result = page.locator("#payment-result")
    await expect(result).to_contain_text("Payment received", timeout=15_000)
    await expect(result).to_contain_text("Your internet service is back on")
    await shots(page, "back-online")
    async with db.tenant(tenant) as scope:
        status = await scope.connection.fetchval("SELECT status FROM customer WHERE id = $1", customer_id)
        reactivated = await scope.connection.fetchval(
            "SELECT count(*) FROM suspension_log WHERE customer_id = $1 AND action = 'activated'", customer_id
        )
    assert (status, reactivated) == ("active", 1)
