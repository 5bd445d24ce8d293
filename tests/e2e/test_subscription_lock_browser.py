"""In a real browser (issue 18): an operator with a subscription bill unpaid on its lock date is locked by
``subscription.suspend_unpaid``; its admin signs in, every panel page shows the locked page, they pay the bill
through the platform's bKash account (the bKash peer) and the panel is open again at once."""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from ispb_platform.payments.online.accounts import PLATFORM_ACCOUNTS, GatewayAccount, save_account
from ispb_platform.payments.online.gateway import Provider
from ispb_platform.subscriptions.issue import bill_operators
from ispb_platform.subscriptions.locking import suspend_unpaid
from ispb_tenants import Database, TenantRef
from peers.bkash import BkashPeer

SERVER_SECRET = "e" * 40  # the live server's ISPB_SECRET_KEY
PASSWORD = "correct horse battery staple"  # conftest make_staff's password


@pytest.fixture(name="platform_bkash")
async def fx_platform_bkash(db: Database) -> AsyncIterator[BkashPeer]:
    async with BkashPeer(app_key="platform-key", username="platform") as peer:
        account = GatewayAccount(
            Provider.BKASH, True, "sandbox", peer.base_url, peer.app_key,
            {"app_secret": peer.app_secret, "username": peer.username, "password": peer.password},
        )  # fmt: skip
        async with db.platform() as connection:
            await save_account(connection, PLATFORM_ACCOUNTS, SERVER_SECRET, account)
        yield peer
        await db.pool.execute("DELETE FROM platform.payment_gateway WHERE merchant_id = $1", peer.app_key)


async def _in_arrears(db: Database, tenant: TenantRef, today: date) -> str:
    """On a plan for a year, last-but-one month billed by the real job and unpaid past its lock date."""
    plan_id = await db.fetchval(
        "INSERT INTO platform.subscription_plan (name) VALUES ($1) RETURNING id", f"Browser {tenant.slug}"
    )
    await db.pool.execute(
        "INSERT INTO platform.subscription_tier (plan_id, price) VALUES ($1, $2)", plan_id, Decimal("1500")
    )
    await db.pool.execute(
        "INSERT INTO platform.tenant_subscription (tenant_id, plan_id, started_on) VALUES ($1, $2, $3)",
        tenant.id,
        plan_id,
        today - timedelta(days=400),
    )
    await bill_operators(db, (today - timedelta(days=40)).replace(day=2))
    assert (await suspend_unpaid(db, today))["locked"] >= 1
    return str(await db.fetchval("SELECT number FROM platform.subscription_bill WHERE tenant_id = $1", tenant.id))


async def test_a_locked_operator_pays_its_bill_online_and_the_panel_reopens(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
    platform_bkash: BkashPeer,
) -> None:
    tenant = await make_tenant("locked")
    number = await _in_arrears(db, tenant, datetime.now(UTC).date())
    page = await new_page(width=390, height=844)
    await page.goto("/login")
    await page.locator("input[name=email]").fill(await make_staff("operator_admin", tenant))
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Your panel is locked")).to_be_visible()
    await page.goto("/panel/customers")  # any panel page answers the locked page
    await expect(page).to_have_url(re.compile(r"/panel/locked$"))
    await expect(page.locator("#subscription-bills")).to_contain_text(number)
    await expect(page.locator("#platform-contact")).to_be_visible()
    await shots(page, "locked")
    await page.get_by_role("button", name=f"Pay {number} with bKash").click()
    await expect(page.get_by_role("heading", name="bKash (test peer)")).to_be_visible(timeout=15_000)
    await page.locator("#gateway-pay").click()
    await expect(page.locator("#payment-result")).to_contain_text("Paid.", timeout=15_000)
    await shots(page, "paid")
    await page.get_by_role("link", name="Back to the panel").click()
    await expect(page.get_by_role("heading", name="Subscription", exact=True)).to_be_visible()
    await page.goto("/panel/customers")
    await expect(page).to_have_url(re.compile(r"/panel/customers$"))
    await shots(page, "open-again")
    assert not await db.fetchval(
        "SELECT locked_at IS NOT NULL FROM platform.tenant_subscription WHERE tenant_id = $1", tenant.id
    )
    assert await db.fetchval("SELECT status FROM platform.subscription_bill WHERE number = $1", number) == "paid"
