"""An operator records a payment with the keyboard alone (issue 13), on a phone and on a wide screen: sign in,
open the customer list, use the skip link, find the customer by typing, open the payment form, and record it.
No mouse, no tap, no URL typed after the sign-in page: only Tab, Enter and typing. Two refusals on the way
show that focus lands on the first field in error and that its message is linked by ``aria-describedby``.
Screenshots of each step go to ``tests/artifacts/<test name>/``."""

import re
from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from playwright.async_api import Page, expect

from factories import make_bill, make_customer, make_package
from ispb_tenants import Database, TenantRef

PASSWORD = "correct horse battery staple"
SIZES = [
    pytest.param({"width": 390, "height": 844}, id="phone"),
    pytest.param({"width": 1280, "height": 800}, id="desktop"),
]
MAX_TABS = 40  # the issue found 24 Tabs to the search and 26 to "Record payment" before the skip link

FOCUSED = """() => { const e = document.activeElement; return {
  tag: e.tagName.toLowerCase(), name: e.getAttribute('name') || '', text: (e.innerText || e.value || '').trim(),
  label: e.getAttribute('aria-label') || '', invalid: e.getAttribute('aria-invalid') || '',
  describedby: e.getAttribute('aria-describedby') || '',
  message: e.getAttribute('aria-describedby')
    ? (document.getElementById(e.getAttribute('aria-describedby')) || {}).textContent || '' : '' }; }"""


async def _focused(page: Page) -> dict[str, str]:
    return await page.evaluate(FOCUSED)


async def _tab_to(page: Page, wanted: Callable[[dict[str, str]], bool], what: str) -> int:
    """Press Tab until the focused element is ``wanted``; the number of presses (fails after ``MAX_TABS``)."""
    for presses in range(1, MAX_TABS + 1):
        await page.keyboard.press("Tab")
        if wanted(await _focused(page)):
            return presses
    raise AssertionError(f"{what} not reached in {MAX_TABS} Tabs; focus is on {await _focused(page)}")


async def _skip_to_content(page: Page) -> None:
    """The first Tab of a page reaches the skip link; Enter moves focus to the page's own content."""
    await page.keyboard.press("Tab")
    assert (await _focused(page))["text"] == "Skip to content"
    await page.keyboard.press("Enter")
    await expect(page.locator("main#main")).to_be_focused()


def _link(text: str) -> Callable[[dict[str, str]], bool]:
    return lambda focused: focused["tag"] in ("a", "summary") and focused["text"].startswith(text)


@pytest.mark.parametrize("size", SIZES)
async def test_an_operator_records_a_payment_with_the_keyboard_alone(
    size: dict[str, int],
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    tenant = await make_tenant("keyboard")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Home 20 Mbps", price_minor=80000)
        customer_id = await make_customer(
            scope, code="K2201", name="Nusrat Jahan", package_id=package_id, connection_date=date(2025, 3, 1)
        )
        await make_bill(scope, customer_id=customer_id, package_id=package_id)
        for number in range(1, 30):  # a list long enough that the customer is not simply the first link
            await make_customer(scope, code=f"K{3300 + number}", name=f"Other customer {number}", package_id=package_id)
    email = await make_staff("operator_admin", tenant)
    page = await new_page(**size)

    await page.goto("/login")  # the only URL typed: the e-mail field has focus when the page opens
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/panel/$"))

    if size["width"] < 700:  # on a phone the sections are behind the menu button
        await _tab_to(page, _link("☰"), "the menu button")
        await page.keyboard.press("Enter")
    await _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Customers", "the Customers link")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/panel/customers$"))

    await _skip_to_content(page)
    await _tab_to(page, lambda f: f["label"] == "Search customers", "the customer search")
    await page.keyboard.type("K2201")
    await expect(page.locator("#live-status")).to_have_text(re.compile(r"^1 customer"))  # announced
    await shots(page, "searched")
    await _tab_to(page, _link("K2201"), "the customer's link")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(rf"/panel/customers/{customer_id}$"))

    await _skip_to_content(page)
    tabs = await _tab_to(page, _link("Record payment"), "Record payment")
    assert tabs <= 6, f"{tabs} Tabs after the skip link"
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=re.compile("Record a payment"))).to_be_visible()
    assert (await _focused(page))["name"] == "amount"  # the form opens ready to type
    await shots(page, "payment-form")

    # two mistakes: an amount that is no number, a bank payment without its reference
    await page.keyboard.press("ControlOrMeta+A")  # the form offers the amount due; the operator types over it
    await page.keyboard.type("12 taka")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Bank")  # a closed <select> picks the option typed
    await _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Record payment", "the submit button")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert").first).to_be_visible()
    focused = await _focused(page)
    assert focused["name"] == "amount" and focused["invalid"] == "true", focused  # the first of the two
    assert focused["message"].startswith("Enter an amount such as 500"), focused
    await shots(page, "refused-amount")

    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type("800")
    await page.keyboard.press("Enter")
    await expect(page.locator('[name="amount"]')).to_have_attribute("aria-invalid", "false")
    focused = await _focused(page)
    assert focused["name"] == "reference" and focused["invalid"] == "true", focused  # now the only one
    assert focused["message"].startswith("Enter the transaction id or reference"), focused
    await shots(page, "refused-reference")

    await page.keyboard.type("DBBL-TRX-88412")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(rf"/panel/customers/{customer_id}(\?|$)"))
    confirmation = page.get_by_role("status").filter(has_text="Payment recorded")
    await expect(confirmation).to_be_visible()
    await expect(page.locator("#ledger")).to_contain_text("800.00")
    await shots(page, "payment-recorded")
    async with db.tenant(tenant) as scope:
        recorded = await scope.connection.fetchrow("SELECT amount_minor, method, reference FROM payment")
    assert dict(recorded) == {"amount_minor": 80000, "method": "bank", "reference": "DBBL-TRX-88412"}
