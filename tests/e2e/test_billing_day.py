"""Issue 4's "done when" in a real browser: this month's bills made by the job, a payment recorded in the
panel, the bill paid and the ledger balanced, and the customer downloading the invoice PDF from the portal."""

import asyncio
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from playwright.async_api import Page, expect

from factories import make_customer, make_package
from ispb_platform.auth.passwords import hash_password
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute, local_today
from ispb_tenants import Database, TenantRef

PASSWORD = "correct horse battery staple"
PORTAL_PASSWORD = "nasima-portal-2026"


async def _tenant_with_a_bill(db: Database, make_tenant: Callable[..., Awaitable[TenantRef]]) -> TenantRef:
    tenant = await make_tenant("bills")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(
            scope, name="Fiber 30", price_minor=100000, download_kbps=30000, upload_kbps=30000, vat_rate_bp=500
        )
        await make_customer(
            scope,
            code="C7001",
            name="Nasima Khatun",
            phone="+8801811000777",
            area="Uttara",
            package_id=package_id,
            connection_date=date(2025, 6, 1),
            password_hash=hash_password(PORTAL_PASSWORD),
        )
    run = await execute(db, get_job("billing.generate_bills"), tenant=tenant, trigger=Trigger.MANUAL, key="e2e")
    assert run.counts["billed"] == 1
    return tenant


async def test_operator_records_a_payment_and_customer_downloads_the_invoice(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
    tmp_path: Path,
) -> None:
    tenant = await _tenant_with_a_bill(db, make_tenant)
    page = await new_page()
    await page.goto("/login")
    await page.locator("input[name=email]").fill(await make_staff("operator_admin", tenant))
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/panel/$"))

    await page.get_by_role("link", name="Customer Bills").click()
    month = local_today(datetime.now(UTC), tenant).strftime("%Y-%m")  # the operator's month, not UTC's
    await expect(page.locator("input[name=month]")).to_have_value(month)
    row = page.locator("#bill-table tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Nasima Khatun")
    await expect(row).to_contain_text("1,050.00")  # 1,000.00 + 5 % VAT
    await shots(page, "customer-bills")

    await row.get_by_role("link", name=re.compile(r"^INV-")).click()
    await expect(page.get_by_role("heading", name=re.compile(r"Invoice INV-"))).to_be_visible()
    await page.get_by_role("link", name="Record payment").click()
    await expect(page.locator("input[name=amount]")).to_have_value("1050.00")  # what is due
    await page.locator("select[name=method]").select_option("mobile_money")
    await page.locator("#payment-form").get_by_role("button", name="Record payment").click()
    await expect(page.locator("label.has-error")).to_contain_text("transaction id")  # bKash needs its TrxID
    await page.locator("input[name=reference]").fill("BKX81724")
    await page.locator("#payment-form").get_by_role("button", name="Record payment").click()
    await expect(page).to_have_url(re.compile(r"/panel/customers/\d+\?paid=\d+$"))
    ledger = page.locator("#ledger")
    await expect(ledger).to_contain_text("settled")
    await expect(ledger).to_contain_text("Payment (mobile money, BKX81724)")
    await expect(ledger.locator("tbody tr").first.locator("td").last).to_have_text("0.00")  # balanced
    await shots(page, "ledger-balanced")
    await ledger.get_by_role("link", name=re.compile(r"^Bill INV-")).click()
    await expect(page.locator("h1 .badge")).to_have_text("paid")
    await shots(page, "bill-paid")

    portal = await new_page(width=390)
    await portal.goto(f"/portal/{tenant.slug}/login")
    await portal.locator("input[name=login]").fill("C7001")
    await portal.locator("input[name=password]").fill(PORTAL_PASSWORD)
    await portal.get_by_role("button", name="Sign in").click()
    bills = portal.locator("#bills")
    await expect(bills).to_contain_text("paid")
    await shots(portal, "portal-bills")
    async with portal.expect_download() as download_info:
        await bills.get_by_role("link", name="PDF").click()
    download = await download_info.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.name.startswith("INV-") and saved.suffix == ".pdf"
    command = [shutil.which("pdftotext") or "pdftotext", str(saved), "-"]
    text = (await asyncio.to_thread(subprocess.run, command, capture_output=True, check=True)).stdout.decode()
    assert "Nasima Khatun" in text and "Paid" in text
