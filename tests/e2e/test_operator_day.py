"""An operator's first day in a real browser, then their customer in the portal (issue 3's browser scenario).

Drives the live server through the pages a person uses: nothing is posted behind the page's back, so htmx
(vendored, CSP without inline script), CSRF headers, redirects and error swaps are all exercised for real.
"""

import re
from collections.abc import Awaitable, Callable

from playwright.async_api import Locator, Page, expect

from ispb_tenants import TenantRef

PASSWORD = "correct horse battery staple"
PORTAL_PASSWORD = "rahima-portal-2026"


def _field(page: Page, label: str) -> Locator:
    """The control whose label starts with ``label`` (labels also hold a required mark and a hint)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}(\s|\*|$)"))


async def _sign_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await _field(page, "E-mail").fill(email)
    await _field(page, "Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/panel/$"))


async def _create_package(page: Page) -> None:
    await page.get_by_role("link", name="Master Packages").click()
    await page.get_by_role("link", name="New package").click()
    await _field(page, "Name").fill("Fiber 20")
    await _field(page, "Type").select_option("pppoe")
    await _field(page, "Price (BDT)").fill("800.00")
    await _field(page, "VAT rate (%)").fill("5")
    await _field(page, "Download (Mbps)").fill("20")
    await _field(page, "Upload (Mbps)").fill("20")
    await _field(page, "Validity (days)").fill("30")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("cell", name="Fiber 20")).to_be_visible()


async def _create_customer(page: Page, shots: Callable[[Page, str], Awaitable[object]]) -> None:
    await page.goto("/panel/customers")
    await page.get_by_role("link", name="New customer").click()
    await _field(page, "Customer id").fill("C900001")
    await _field(page, "Name").fill("Rahima Akter")
    await _field(page, "Mobile").fill("12345")  # wrong on purpose: the error must appear beside the field
    await _field(page, "Area").fill("Mirpur")
    await _field(page, "Package").select_option(label="Fiber 20")
    await _field(page, "Portal password").fill(PORTAL_PASSWORD)
    await page.get_by_role("button", name="Save").click()

    mobile = page.locator("label.field.has-error", has=page.locator("input[name=phone]"))
    await expect(mobile.locator(".error")).to_be_visible()
    await expect(_field(page, "Name")).to_have_value("Rahima Akter")  # nothing typed is lost
    await expect(_field(page, "Package")).to_have_value(re.compile(r"\d+"))
    await shots(page, "customer-form-error")

    await _field(page, "Mobile").fill("01711-223344")
    await _field(page, "Portal password").fill(PORTAL_PASSWORD)  # passwords are never echoed back
    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(re.compile(r"/panel/customers/\d+$"))
    await expect(page.get_by_role("heading", name=re.compile("Rahima Akter"))).to_be_visible()
    await expect(page.get_by_text("Fiber 20")).to_be_visible()


async def _live_search(page: Page) -> None:
    await page.goto("/panel/customers")
    table = page.locator("#customer-table")
    await expect(table.get_by_text("Karim Uddin")).to_be_visible()  # imported before, so there are two
    async with page.expect_response(lambda r: "/panel/customers?" in r.url and "q=rahima" in r.url):
        await _field(page, "Search customers").press_sequentially("rahima", delay=30)
    await expect(table.get_by_text("Karim Uddin")).to_have_count(0)
    await expect(table.get_by_role("link", name="C900001")).to_be_visible()
    await expect(table.locator(".count")).to_have_text("1 customer")
    await expect(page).to_have_url(re.compile(r"q=rahima"))  # the search is in the address bar


async def _import_csv(page: Page) -> None:
    await page.goto("/panel/customers/import")
    csv = (
        "code,name,phone,area,package\n"
        "C900002,Karim Uddin,01811-556677,Uttara,Fiber 20\n"
        "C900003,Bad Phone,not-a-phone,Uttara,Fiber 20\n"
    )
    await _field(page, "CSV file").set_input_files(
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    await page.get_by_role("button", name="Import").click()
    report = page.locator("#import-report")
    await expect(report).to_contain_text("Imported 1 customer; 1 row rejected.")
    error_row = report.locator("table.row-errors tbody tr")
    await expect(error_row).to_have_count(1)
    await expect(error_row.locator("td").nth(0)).to_have_text("3")  # line 3 of the file
    await expect(error_row.locator("td").nth(1)).to_have_text("phone")


async def _add_staff(page: Page) -> None:
    await page.get_by_role("link", name="Staff Users").click()
    form = page.locator("#add-staff")
    await _field(page, "Name").fill("Nasrin Sultana")
    await _field(page, "E-mail").fill("nasrin@web.test")
    await form.get_by_role("button", name="Invite person").click()
    await expect(page.locator("#invitation-link")).to_contain_text("Invitation for nasrin@web.test created")
    await expect(page.locator("#invitations").get_by_role("cell", name="nasrin@web.test")).to_be_visible()


async def test_operator_creates_package_and_customer_imports_and_customer_signs_in(
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    tenant = await make_tenant("web")
    operator = await make_staff("operator_admin", tenant)

    page = await new_page()
    await _sign_in(page, operator)
    await shots(page, "dashboard")
    await _create_package(page)
    await shots(page, "packages")
    await _create_customer(page, shots)
    await shots(page, "customer")
    await _import_csv(page)
    await shots(page, "import-report")
    await _live_search(page)
    await shots(page, "live-search")

    await page.goto("/panel/logs/activity")
    for what in ("customer.created", "package.created", "customer.imported"):
        await expect(page.get_by_text(what).first).to_be_visible()
    await shots(page, "activity-log")
    await _add_staff(page)
    await shots(page, "staff-users")

    await page.set_viewport_size({"width": 390, "height": 844})  # the same panel on a phone
    await page.goto("/panel/customers")
    await expect(page.locator("#customer-table").get_by_role("link", name="C900002")).to_be_visible()
    await shots(page, "customers-on-phone")

    phone = await new_page(width=390)  # the customer, on a phone
    await phone.goto(f"/portal/{tenant.slug}/login")
    await _field(phone, "Customer id or mobile number").fill("01711223344")
    await _field(phone, "Password").fill(PORTAL_PASSWORD)
    await phone.get_by_role("button", name="Sign in").click()
    await expect(phone.get_by_role("heading", name="Hello, Rahima Akter")).to_be_visible()
    await expect(phone.get_by_text("Fiber 20")).to_be_visible()
    await shots(phone, "portal-dashboard")
