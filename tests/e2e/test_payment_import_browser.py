"""Issue 12 in a real browser, on a phone: Customer Bills → Import payments, a bKash statement previewed line by
line (the refused ones with their reason), then recorded, and the bill paid."""

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

from playwright.async_api import Page, expect

from factories import make_customer, make_package
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute, local_today
from ispb_tenants import Database, TenantRef

PASSWORD = "correct horse battery staple"


async def test_an_operator_imports_a_bkash_statement_from_a_phone(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
    tmp_path: Path,
) -> None:
    tenant = await make_tenant("stmt")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Fiber 10", price_minor=80000)
        await make_customer(
            scope,
            code="C7001",
            name="Nasima Khatun",
            phone="+8801811000777",
            package_id=package_id,
            connection_date=date(2025, 6, 1),  # a whole month billed, no pro-rata
        )
    run = await execute(db, get_job("billing.generate_bills"), tenant=tenant, trigger=Trigger.MANUAL, key="e2e")
    assert run.counts["billed"] == 1
    today = local_today(datetime.now(UTC), tenant).strftime("%d/%m/%Y")
    statement = tmp_path / "bkash-december.csv"
    statement.write_text(
        "Date,Time,Transaction Type,TrxID,Sender / Receiver,Amount,Reference,Balance\r\n"
        f"{today},10:15 AM,Payment,9L2K3J4H,01811-000777,800.00,C7001,15800.00\r\n"
        f"{today},10:20 AM,Payment,9L2K3J4J,01999-000000,500.00,,16300.00\r\n",
        encoding="utf-8-sig",
    )

    page = await new_page(width=390)
    await page.goto("/login")
    await page.locator("input[name=email]").fill(await make_staff("operator_admin", tenant))
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/panel/$"))
    await page.goto("/panel/bills")
    await page.locator(".heading-row .actions").get_by_role("link", name=re.compile("Import payments")).click()
    await expect(page.get_by_role("heading", name="Import payments from a statement")).to_be_visible()
    await page.locator("input[name=file]").set_input_files(statement)
    await shots(page, "upload")
    await page.get_by_role("button", name="Preview").click()

    await expect(page.get_by_role("heading", name="bkash-december.csv")).to_be_visible()
    refused = page.locator("table.import-lines tbody tr")
    await expect(refused).to_have_count(1)
    await expect(refused).to_contain_text("Unknown customer")
    await expect(refused).to_contain_text("No customer has the phone +8801999000000")
    await shots(page, "preview-refused")
    await page.get_by_role("button", name="Record 1 payment").click()

    progress = page.locator("#import-progress")
    await expect(progress).to_contain_text("Waiting for the worker to record 1 payment")
    await shots(page, "recording")
    # the worker's part, run here (a real worker on the session's queue would also run every other test's jobs)
    confirm = await execute(db, get_job("payments.confirm_imports"), tenant=tenant, trigger=Trigger.MANUAL, key="e2e")
    assert confirm.counts["payments"] == 1
    # the page's polling (every 2 s) sees it done and shows the whole page with the result
    await expect(page.locator(".stats")).to_contain_text("Payments recorded (800.00 BDT)", timeout=15_000)
    await expect(progress).to_have_count(0)
    await shots(page, "recorded")
    async with db.tenant(tenant) as scope:
        bill = await scope.connection.fetchrow("SELECT paid_minor, status FROM bill")
    assert (bill["paid_minor"], bill["status"]) == (80000, "paid")
