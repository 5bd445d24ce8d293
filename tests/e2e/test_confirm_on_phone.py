"""A drastic action on a phone (issue 11): an operator suspends a customer through the confirmation page.

The page must fit a phone's width, its reason field must be found by its label, a blank reason must come back
as an error the screen reader reads with the field (``aria-describedby``), and the reason must reach the
Suspension Log.
"""

import re
from collections.abc import Awaitable, Callable

from playwright.async_api import Page, expect

from factories import make_customer, make_package
from ispb_tenants import Database, TenantRef

PASSWORD = "correct horse battery staple"
PHONE = 390


async def _fits_the_screen(page: Page) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


async def test_an_operator_suspends_a_customer_on_a_phone_giving_a_reason(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    tenant = await make_tenant("phone")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Fiber 20", price_minor=80000, download_kbps=1, upload_kbps=1)
        customer_id = await make_customer(scope, code="C555", name="Rahima Akter", package_id=package_id)
    page = await new_page(width=PHONE)
    await page.goto("/login")
    await page.get_by_label(re.compile(r"^\s*E-mail")).fill(await make_staff("operator_staff", tenant))
    await page.get_by_label(re.compile(r"^\s*Password")).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/panel/$"))

    await page.goto(f"/panel/customers/{customer_id}")
    await page.get_by_role("link", name="Suspend…").click()
    await expect(page.get_by_role("heading", name="Suspend C555 Rahima Akter?")).to_be_visible()
    await _fits_the_screen(page)
    reason = page.get_by_label("Reason")
    await expect(reason).to_have_accessible_description(re.compile("Kept in the Suspension Log"))
    await shots(page, "confirm-on-phone")

    await reason.fill("   ")  # passes the browser's "required", not the server
    await page.get_by_role("button", name="Suspend customer").click()
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(reason).to_have_accessible_description(re.compile("Say why"))
    await _fits_the_screen(page)
    await shots(page, "blank-reason-refused")
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT status FROM customer WHERE id = $1", customer_id) == "active"

    await reason.fill("Asked to pause while abroad")
    await page.get_by_role("button", name="Suspend customer").click()
    await expect(page.get_by_text("Customer suspended")).to_be_visible()
    await expect(page.locator("h1 .badge.suspended")).to_be_visible()
    await page.goto("/panel/logs/suspension")
    await expect(page.get_by_role("cell", name="Asked to pause while abroad")).to_be_visible()
    await shots(page, "suspension-log")
