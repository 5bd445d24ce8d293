"""A customer on a 390x844 phone (and on a wide screen): signs in, sees what is due, and has a bill's PDF in two
taps, the sign-in button and the bill's "Download PDF" (issue 13). Screenshots of the due amount and the bills go
to ``tests/artifacts/<test name>/``."""

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from factories import Line, make_bill, make_customer, make_package
from ispb_platform.auth.passwords import hash_password
from ispb_tenants import Database, TenantRef

PORTAL_PASSWORD = "portal-on-a-phone-26"
SIZES = [
    pytest.param({"width": 390, "height": 844, "touch": True}, id="phone"),
    pytest.param({"width": 1280, "height": 800}, id="desktop"),
]


async def _press(target: Locator, touch: bool) -> None:
    """A tap with a finger on a phone, a click on a wide screen."""
    await (target.tap() if touch else target.click())


@pytest.mark.parametrize("screen", SIZES)
async def test_a_customer_sees_what_is_due_and_gets_a_bill_pdf_in_two_taps(
    screen: dict[str, int],
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    tenant = await make_tenant("portal-phone")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Home 20 Mbps", price_minor=80000)
        customer_id = await make_customer(
            scope,
            code="P7701",
            name="Fatema Khatun",
            package_id=package_id,
            connection_date=date(2025, 9, 1),
            password_hash=hash_password(PORTAL_PASSWORD),
        )
        older = await make_bill(
            scope,
            customer_id=customer_id,
            package_id=package_id,
            period_start=date(2026, 10, 1),
            lines=(Line(net_minor=80000),),
        )
        newer = await make_bill(
            scope,
            customer_id=customer_id,
            package_id=package_id,
            period_start=date(2026, 11, 1),
            lines=(Line(net_minor=80000),),
        )
    touch = bool(screen.get("touch"))
    page = await new_page(**screen)

    await page.goto(f"/portal/{tenant.slug}/login")  # the link the provider sent
    await page.locator("input[name=login]").fill("P7701")
    await page.locator("input[name=password]").fill(PORTAL_PASSWORD)
    await _press(page.get_by_role("button", name="Sign in"), touch)  # tap 1
    await expect(page).to_have_url(re.compile(rf"/portal/{tenant.slug}/$"))

    due = page.locator(".stat").filter(has_text="Amount due")
    await expect(due).to_contain_text("1,600.00")
    box = await due.bounding_box()
    assert box is not None and box["y"] + box["height"] <= screen["height"], box  # seen without scrolling
    bills = page.locator("#bills .bill-card")
    await expect(bills).to_have_count(2)
    await shots(page, "due-and-bills")

    first = bills.filter(has_text=newer.number)
    button = first.get_by_role("link", name=re.compile("Download PDF"))
    async with page.expect_download(timeout=60_000) as downloading:
        await _press(button, touch)  # tap 2
    download = await downloading.value
    assert download.suggested_filename == f"{newer.number}.pdf"
    pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    assert older.number != newer.number
    await expect(page).to_have_url(re.compile(rf"/portal/{tenant.slug}/$"))  # the customer stays where they were
