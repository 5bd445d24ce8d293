"""Every page of the panel, the portal and the admin console on a 390x844 phone (issue 13): no sideways
scrolling, and axe-core finds no critical or serious accessibility violation. Screenshots of each page go to
``tests/artifacts/<test name>/`` so a person can look at what a phone shows."""

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from playwright.async_api import Page, expect

from factories import make_bill, make_billing_profile, make_customer, make_discount, make_package, make_router
from ispb_platform.auth.passwords import hash_password
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import Database, TenantRef

PASSWORD = "correct horse battery staple"
PORTAL_PASSWORD = "phone-portal-2026"
SERVER_SECRET = "e" * 40  # the live server's ISPB_SECRET_KEY (conftest.py): sealed secrets must open there
PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # vendor/README.md


def _axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "vendor/axe.min.js is not the recorded axe-core"
    return source.decode()


async def _check(page: Page, path: str, shots: Callable[[Page, str], Awaitable[object]], axe: str) -> list[str]:
    """Open ``path`` at phone size; the problems found there (overflow, serious axe violations)."""
    answer = await page.goto(path)
    assert answer is not None and answer.status == 200, f"{path}: {answer.status if answer else 'no answer'}"
    await page.wait_for_load_state("networkidle")
    problems = []
    overflow = await page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{path}: {overflow}px wider than the phone")
    await shots(page, re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home")
    await page.evaluate(axe)  # through the DevTools protocol, which the page's CSP does not govern
    violations = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'critical' || v.impact === 'serious')"
        ".map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"
    )
    problems.extend(f"{path}: axe {violation}" for violation in violations)
    return problems


async def _sign_in(page: Page, login_path: str, fields: dict[str, str]) -> None:
    await page.goto(login_path)
    for name, value in fields.items():
        await page.locator(f"input[name={name}]").fill(value)
    await page.get_by_role("button", name="Sign in").click()


async def test_every_page_fits_a_phone_and_passes_axe(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    axe = _axe_source()
    tenant = await make_tenant("phone-pages")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Fiber 30 Mbps Unlimited", price_minor=105000, vat_rate_bp=500)
        profile_id = await make_billing_profile(scope, name="Monthly on the 5th", billing_day=5)
        router_id = await make_router(scope, name="Uttara core", secret_key=SERVER_SECRET)
        customer_id = await make_customer(
            scope,
            code="C8801",
            name="Mohammad Abdur Rahman Chowdhury",
            phone="+8801811000888",
            area="Uttara Sector 10",
            package_id=package_id,
            billing_profile_id=profile_id,
            connection_date=date(2025, 6, 1),
            password_hash=hash_password(PORTAL_PASSWORD),
            secret_key=SERVER_SECRET,
        )
        bill_id = (await make_bill(scope, customer_id=customer_id, package_id=package_id)).id
        discount_id = await make_discount(scope, customer_id=customer_id, percent_bp=1000)

    panel_pages = [item.path for section in PANEL_NAV for item in section.items]
    panel_pages += [
        "/panel/customers/new",
        f"/panel/customers/{customer_id}",
        f"/panel/customers/{customer_id}/edit",
        f"/panel/customers/{customer_id}/payments/new",
        f"/panel/customers/{customer_id}/suspend",
        f"/panel/customers/{customer_id}/disable",
        f"/panel/customers/{customer_id}/discounts/{discount_id}/remove",
        f"/panel/bills/{bill_id}",
        f"/panel/bills/{bill_id}/void",
        "/panel/packages/new",
        f"/panel/packages/{package_id}/edit",
        "/panel/billing-profiles/new",
        f"/panel/billing-profiles/{profile_id}/edit",
        "/panel/routers/new",
        f"/panel/routers/{router_id}",
        f"/panel/routers/{router_id}/edit",
    ]
    problems: list[str] = []

    operator = await new_page(**PHONE)
    await _sign_in(operator, "/login", {"email": await make_staff("operator_admin", tenant), "password": PASSWORD})
    await expect(operator).to_have_url(re.compile(r"/panel/$"))
    for path in panel_pages:
        problems += await _check(operator, path, shots, axe)

    # the menu button: the sections' links under their titles, the current page marked
    await operator.goto("/panel/bills")
    await expect(operator.locator(".sidebar")).to_be_hidden()
    await operator.get_by_text("Menu", exact=False).first.click()
    current = operator.get_by_role("link", name="Customer Bills")
    await expect(current).to_be_visible()
    await expect(current).to_have_attribute("aria-current", "page")
    await expect(operator.locator(".nav-menu").get_by_text("SMS and Notifications")).to_be_visible()
    await shots(operator, "panel-menu-open")

    customer = await new_page(**PHONE)
    portal = f"/portal/{tenant.slug}"
    problems += await _check(customer, f"{portal}/login", shots, axe)
    await _sign_in(customer, f"{portal}/login", {"login": "C8801", "password": PORTAL_PASSWORD})
    await expect(customer).to_have_url(re.compile(rf"{portal}/$"))
    for path in (f"{portal}/", f"{portal}/profile"):
        problems += await _check(customer, path, shots, axe)
    await customer.goto(f"{portal}/")
    pdf = customer.locator("#bills").get_by_role("link", name=re.compile("PDF"))
    box = await pdf.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["height"] >= 44 and box["width"] >= 44, box  # a thumb's target, not 29x18

    admin = await new_page(**PHONE)
    problems += await _check(admin, "/login", shots, axe)
    await _sign_in(admin, "/login", {"email": await make_staff("platform_admin"), "password": PASSWORD})
    for path in (
        "/admin/",
        "/admin/operators/new",
        f"/admin/operators/{tenant.slug}",
        f"/admin/operators/{tenant.slug}/edit",
    ):
        problems += await _check(admin, path, shots, axe)

    assert problems == [], "\n".join(problems)
