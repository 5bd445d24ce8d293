"""Every page of the route table (the panel, the portal, the admin console and the public pages) on a 390x844
phone and a 1280x800 screen (issue 13): no sideways scrolling, axe-core finds no critical or serious
accessibility violation, and the first load (browser cache off) takes at most 100 KB on the wire. Screenshots
of each page go to ``tests/artifacts/<test name>/`` so a person can look at what each screen shows."""

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from playwright.async_api import CDPSession, Page, expect

from factories import (
    make_bill,
    make_billing_profile,
    make_customer,
    make_discount,
    make_olt,
    make_onu,
    make_package,
    make_router,
)
from ispb_platform.auth.access import ACCESS, PUBLIC_ACCESS
from ispb_platform.auth.passwords import hash_password
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.customers.queries import PAGE_SIZE as CUSTOMERS_PAGE
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_platform.reports.jobs import bills_vs_payments
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import Database, TenantRef

PASSWORD = "correct horse battery staple"
PORTAL_PASSWORD = "phone-portal-2026"
SERVER_SECRET = "e" * 40  # the live server's ISPB_SECRET_KEY (conftest.py): sealed secrets must open there
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
FIRST_LOAD_LIMIT = 100_000  # bytes on the wire, compressed, headers included
ALWAYS_COUNTED = ["heading-order", "target-size"]
"""axe rules that fail the sweep whatever impact axe gives them: headings in order, 24 px targets (issue 13)."""
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # vendor/README.md

NOT_PAGES = {
    "/healthz": "a JSON health answer for the load balancer",
    "/favicon.ico": "a redirect to the icon, for browsers that ask without a link (tests/integration/test_assets.py)",
    "/static/{file_path:str}": "the pages' own CSS, JS and icon: weighed with every page",
    "/panel/bills/{bill_id:int}/pdf": "a PDF download",
    "/portal/{operator_slug:str}/bills/{bill_id:int}/pdf": "a PDF download (test_portal_on_a_phone.py taps it)",
    "/invoices/{token:str}": "a PDF download by signed link",
    "/panel/payments/import/{import_id:int}/refused.csv": "a CSV download",
    "/panel/payments/import/{import_id:int}/progress": "the progress of a confirmation that the import page's htmx"
    " polling swaps in (the whole page once done: test_payment_import.py)",
    "/panel/reports/{report:str}": "a CSV download of an Overview chart's table (tests/integration/test_reports.py)",
    "/panel/settings/backup/{backup_id:int}/download": "a backup file download (test_backup_pages.py)",
    "/panel/settings/backup/state": "the part of Backup Settings that its htmx polling swaps in while a backup runs",
    "/panel/routers/{router_id:int}/traffic.png": "a traffic graph image (tests/integration/test_traffic_graphs.py)",
    "/panel/customers/{customer_id:int}/traffic.png": "a traffic graph image, shown on the customer page",
    "/portal/{operator_slug:str}/traffic.png": "a traffic graph image, shown on the portal's home",
    "/payments/{operator_slug:str}/{provider:str}/return/{merchant_ref:str}": "a gateway's way back: confirms the"
    " payment and redirects to its result page (swept)",
    "/sms-credit/{provider:str}/return/{merchant_ref:str}": "a gateway's way back: redirects to the result page",
    "/panel/subscription/bills/{subscription_bill_id:int}/pdf": "a subscription bill's PDF download",
    "/admin/subscriptions/bills/{subscription_bill_id:int}/pdf": "a subscription bill's PDF download",
    "/admin/subscriptions/charts.csv": "a chart's numbers as a CSV download",
    "/subscription-pay/{provider:str}/return/{merchant_ref:str}": "a gateway's way back: redirects to the result page",
    "/status/live": "the part of the platform's status page that its htmx polling swaps in",
    "/status/{operator_slug:str}/live": "the part of an operator's status page that its htmx polling swaps in",
}
"""GET routes of the app that are not HTML pages; every other GET route is opened by the sweep."""


def _axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "vendor/axe.min.js is not the recorded axe-core"
    return source.decode()


def _app() -> Any:
    """The app as ``ispb web`` builds it (not started: only its route table is read)."""
    from ispb_platform.app import create_app
    from ispb_platform.settings import parse_settings

    return create_app(
        parse_settings({"ISPB_DATABASE_URL": "postgresql://unused@127.0.0.1/unused", "ISPB_SECRET_KEY": "t" * 40})
    )


def page_routes() -> list[tuple[str, Any]]:
    """``(path template, access)`` of every GET page of the app's own route table."""
    found = []
    for route in _app().routes:
        if isinstance(route, HTTPRoute) and route.path not in NOT_PAGES:
            found += [(route.path, h.opt[ACCESS]) for h in route.route_handlers if "GET" in h.http_methods]
    return found


def test_every_not_page_is_still_a_route() -> None:
    """``NOT_PAGES`` cannot rot: each entry is a route the sweep would otherwise open."""
    assert set(NOT_PAGES) <= {route.path for route in _app().routes}
    assert len(page_routes()) >= 55


@dataclass
class Wire:
    """What a page load costs on the wire, read from Chromium's own network events: compressed bytes with
    headers (``encodedDataLength``) of the document and everything it loads. The browser cache is off, so each
    page counts as a phone's first visit, static files included."""

    cdp: CDPSession
    urls: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    @classmethod
    async def attach(cls, page: Page) -> "Wire":
        cdp = await page.context.new_cdp_session(page)
        wire = cls(cdp)
        cdp.on(
            "Network.requestWillBeSent",
            lambda event: wire.urls.__setitem__(event["requestId"], event["request"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda event: wire.sizes.__setitem__(event["requestId"], event["encodedDataLength"]),
        )
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        return wire

    def start(self) -> None:
        self.urls.clear()
        self.sizes.clear()

    def total(self) -> int:
        return int(sum(self.sizes.values()))

    def counted(self, suffix: str) -> bool:
        """Whether a request for a URL ending so was weighed (the static files too: the cache is really off)."""
        return any(self.urls.get(request, "").endswith(suffix) for request in self.sizes)

    def biggest(self) -> str:
        ranked = sorted(self.sizes.items(), key=lambda item: -item[1])[:4]
        return ", ".join(f"{self.urls.get(rid, rid).rsplit('/', 1)[-1]} {int(size):,}" for rid, size in ranked)


@dataclass
class Sweep:
    axe: str
    shots: Callable[[Page, str], Awaitable[object]]
    width: int
    problems: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)

    async def check(self, page: Page, wire: Wire, path: str) -> None:
        """Open ``path`` as a first visit; note its problems (overflow, serious axe violations, weight)."""
        wire.start()
        answer = await page.goto(path)
        assert answer is not None and answer.status == 200, f"{path}: {answer.status if answer else 'no answer'}"
        await page.wait_for_load_state("networkidle")
        self.weights[path] = weight = wire.total()
        assert wire.counted(".css") and wire.counted(".js"), f"{path}: the static files were not weighed"
        if weight > FIRST_LOAD_LIMIT:
            self.problems.append(f"{path}: {weight:,} bytes on first load ({wire.biggest()})")
        overflow = await page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            self.problems.append(f"{path}: {overflow}px wider than the {self.width}px screen")
        await self.shots(page, re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home")
        await page.evaluate(self.axe)  # through the DevTools protocol, which the page's CSP does not govern
        violations = await page.evaluate(
            "always => axe.run(document, {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}})"
            ".then(r => r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious'"
            " || always.includes(v.id))"
            ".map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))",
            ALWAYS_COUNTED,
        )
        self.problems.extend(f"{path}: axe {violation}" for violation in violations)


async def _sign_in(page: Page, login_path: str, fields: dict[str, str]) -> None:
    await page.goto(login_path)
    for name, value in fields.items():
        await page.locator(f"input[name={name}]").fill(value)
    await page.get_by_role("button", name="Sign in").click()


async def _world(db: Database, tenant: TenantRef, subject_email: str) -> dict[str, str]:
    """One of each object a page shows; the values for the route templates' ``{names}``."""
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
        await ensure_packages(scope)
        await seed_customers(scope, 2 * CUSTOMERS_PAGE)  # full lists, as an ISP's panel shows them
        discount_id = await make_discount(scope, customer_id=customer_id, percent_bp=1000)
        olt_id = await make_olt(scope, name="Uttara OLT 1", secret_key=SERVER_SECRET)
        onu_id = await make_onu(scope, olt_id=olt_id, serial="HWTC1A2B3C4D", port="0/1/3", index=7)
        await scope.connection.execute(
            "UPDATE onu SET customer_id = $2, mapping = 'auto', rx_dbm = -28.1, tx_dbm = 2.1, distance_m = 1840,"
            " description = 'C8801' WHERE id = $1",
            onu_id,
            customer_id,
        )
        await scope.connection.execute(
            "INSERT INTO onu_reading (onu_id, at, status, rx_dbm) SELECT $1, now() - n * interval '1 hour', 'online',"
            " -20 - n * 0.1 FROM generate_series(1, 48) AS n",
            onu_id,
        )
        import_id = await scope.connection.fetchval(
            "INSERT INTO payment_import (file_name, file_sha256, default_method, default_date, currency, uploaded_by)"
            " VALUES ('bkash-november.csv', repeat('0', 64), 'mobile_money', current_date, 'BDT', 'phone') RETURNING id"
        )
    await generate_bills(JobContext(db=db, today=date(2026, 12, 1), now=datetime.now(UTC), tenant=tenant))
    # the Overview's charts, tables and CSV links, as the hourly report job leaves them
    await bills_vs_payments(JobContext(db=db, today=datetime.now(UTC).date(), now=datetime.now(UTC), tenant=tenant))
    check_id, platform_check_id = await _monitoring(db, tenant)
    token = secrets.token_urlsafe(24)
    invitation_id = await db.fetchval(
        "INSERT INTO platform.staff_invitation (tenant_id, email, name, role, token_hash, expires_at)"
        " VALUES ($1, 'rafiq@isp.test', 'Rafiqul Islam', 'operator_staff', $2, now() + interval '1 day') RETURNING id",
        tenant.id,
        hashlib.sha256(token.encode()).hexdigest(),
    )
    user_id = await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", subject_email)
    # a backup row of the operator (its restore confirmation is a page; the file itself is never opened there)
    backup_id = await db.fetchval(
        "INSERT INTO platform.backup (kind, tenant_id, tenant_slug, period, trigger, destination, object_key,"
        " status, size_bytes, server_major, key_id, finished_at) VALUES ('tenant', $1, $2, current_date, 'manual',"
        " 'local', $3, 'succeeded', 3677486, 15, 'sweep', now()) RETURNING id",
        tenant.id, tenant.slug, f"tenants/{tenant.slug}/{tenant.slug}-20261203T020000Z-1.ispb-backup",
    )  # fmt: skip
    # a "Back up now" that failed: Backup Settings shows its state (badge and message) to axe and on a phone
    await db.pool.execute(
        "INSERT INTO platform.job_request (job, lane, tenant_id, requested_by, status, message, started_at,"
        " finished_at) VALUES ('backup.take_now', 'backup', $1, 'Sweep Admin <sweep@isp.test>', 'failed',"
        " 'The backup failed: the disk holding /var/lib/ispb/backups is full (No space left on device)', now(),"
        " now())",
        tenant.id,
    )
    merchant_ref = secrets.token_hex(10)  # an online payment and an SMS credit purchase, both pending
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO online_payment (customer_id, provider, amount_minor, currency, merchant_ref, origin)"
            " VALUES ($1, 'bkash', 105000, 'BDT', $2, 'portal')",
            customer_id,
            merchant_ref,
        )
    await db.pool.execute(
        "INSERT INTO platform.sms_credit_purchase (tenant_id, provider, segments, amount_minor, currency,"
        " merchant_ref, bought_by) VALUES ($1, 'bkash', 1000, 35000, 'BDT', $2, 'phone')",
        tenant.id,
        merchant_ref,
    )
    return {
        "customer_id": str(customer_id),
        "bill_id": str(bill_id),
        "discount_id": str(discount_id),
        "package_id": str(package_id),
        "profile_id": str(profile_id),
        "router_id": str(router_id),
        "olt_id": str(olt_id),
        "onu_id": str(onu_id),
        "import_id": str(import_id),
        "backup_id": str(backup_id),
        "invitation_id": str(invitation_id),
        "token": token,
        "user_id": str(user_id),
        "slug": tenant.slug,
        "operator_slug": tenant.slug,
        "provider": "bkash",
        "merchant_ref": merchant_ref,
        "check_id": str(check_id),
        "platform_check_id": str(platform_check_id),
        **await _subscription(db, tenant, merchant_ref),
    }


async def _subscription(db: Database, tenant: TenantRef, merchant_ref: str) -> dict[str, str]:
    """A plan, the operator on it with two months of counts, bills issued by the real job and a pending checkout."""
    from ispb_platform.subscriptions.issue import bill_operators

    plan_id = await db.fetchval(
        "INSERT INTO platform.subscription_plan (name) VALUES ($1) RETURNING id", f"Phone {tenant.slug}"
    )
    await db.pool.execute(
        "INSERT INTO platform.subscription_tier (plan_id, up_to, price) VALUES ($1, 200, 1000), ($1, NULL, 2500)",
        plan_id,
    )
    await db.pool.execute(
        "INSERT INTO platform.tenant_subscription (tenant_id, plan_id, started_on) VALUES ($1, $2, '2026-01-01')",
        tenant.id,
        plan_id,
    )
    await db.pool.execute(
        "INSERT INTO platform.customer_count (tenant_id, counted_on, active, suspended, disabled)"
        " VALUES ($1, '2026-10-15', 180, 4, 1), ($1, '2026-11-15', 230, 6, 2)",
        tenant.id,
    )
    await bill_operators(db, date(2026, 11, 2))
    await bill_operators(db, date(2026, 12, 2))
    bill_id = await db.fetchval(
        "SELECT max(id) FROM platform.subscription_bill WHERE tenant_id = $1 AND status = 'open'", tenant.id
    )
    await db.pool.execute(
        "INSERT INTO platform.subscription_checkout (tenant_id, bill_id, provider, amount_minor, currency,"
        " merchant_ref, started_by) VALUES ($1, $2, 'bkash', 250000, 'BDT', $3, 'phone')",
        tenant.id,
        bill_id,
        merchant_ref,
    )
    return {"plan_id": str(plan_id), "subscription_bill_id": str(bill_id)}


async def _monitoring(db: Database, tenant: TenantRef) -> tuple[int, int]:
    """Status checks with 90 days of history and incidents, the status pages published (operator's, platform's)."""
    history = (
        "UPDATE status_check SET monitored_since = now() - interval '95 days', last_checked_at = now(),"
        " shown = 'up', last_status = 'up', last_latency_ms = 12.5, last_message = 'answered 200' WHERE id = $1"
    )
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        check_id = await connection.fetchval(
            "INSERT INTO status_check (name, public_name, kind, target) VALUES"
            " ('Portal web server', 'Customer portal', 'http', 'https://portal.isp.test/') RETURNING id"
        )
        await connection.execute(history, check_id)
        await connection.execute(
            "INSERT INTO status_incident (check_id, started_at, ended_at, cause) VALUES"
            " ($1, now() - interval '3 days', now() - interval '3 days' + interval '40 minutes', 'answered 503')",
            check_id,
        )
        await connection.execute("UPDATE monitor_settings SET page_enabled = true, page_title = 'Network status'")
        down = await connection.fetchval(
            "INSERT INTO status_check (name, public_name, kind, target, port, shown, last_status, last_checked_at,"
            " monitored_since) VALUES ('Uttara RADIUS', 'Internet (Uttara)', 'tcp', '203.0.113.9', 1812, 'down',"
            " 'down', now(), now() - interval '10 days') RETURNING id"
        )
        await connection.execute(
            "INSERT INTO status_incident (check_id, started_at, cause) VALUES ($1, now() - interval '12 minutes',"
            " '203.0.113.9:1812 refused the connection')",
            down,
        )
        # what a Zabbix sync leaves: hosts and problems on the Monitoring dashboard
        await connection.execute(
            "UPDATE monitor_settings SET zabbix_url = 'https://zabbix.isp.test/', zabbix_synced_at = now()"
        )
        await connection.execute(
            "INSERT INTO zabbix_host VALUES ('10101', 'olt-uttara-1', 'OLT Uttara 1', true, false),"
            " ('10102', 'core-sw-mirpur', 'Core switch Mirpur', true, true)"
        )
        await connection.execute(
            "INSERT INTO zabbix_problem VALUES ('501', '301', 'OLT Uttara 1 temperature above 70°C', 5, false,"
            " now() - interval '8 minutes', 'OLT Uttara 1'), ('502', '302', 'Fan 2 speed low', 1, true,"
            " now() - interval '2 days', 'Core switch Mirpur')"
        )
    platform_check_id = await db.fetchval(
        "INSERT INTO platform.status_check (name, public_name, kind, target) VALUES ($1, 'Operator panel', 'http',"
        " 'https://panel.isp.test/healthz') RETURNING id",
        f"Panel {tenant.slug}",
    )
    await db.pool.execute(history.replace("UPDATE status_check", "UPDATE platform.status_check"), platform_check_id)
    await db.pool.execute("UPDATE platform.monitor_settings SET page_enabled = true")
    return check_id, platform_check_id


def _viewer(path: str, access: Any) -> str:
    if access == PUBLIC_ACCESS:
        return "anonymous"
    return {"admin": "admin", "portal": "customer", "panel": "operator"}[path.split("/")[1]]


QUERIES = {"/portal": "?provider={slug}"}
"""Pages that need a query to show anything but a 404 (the portal finder takes the provider's code)."""


def _concrete(path: str, ids: dict[str, str]) -> str:
    filled = re.sub(r"\{(\w+)(?::\w+)?\}", lambda match: ids[match.group(1)], path)
    return filled + QUERIES.get(path, "").format(**ids)


@pytest.mark.parametrize("size", SIZES)
async def test_every_page_fits_the_screen_passes_axe_and_loads_light(
    size: dict[str, int],
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    tenant = await make_tenant("screen-pages")
    ids = await _world(db, tenant, await make_staff("operator_staff", tenant))
    pages: dict[str, list[str]] = {"anonymous": [], "operator": [], "customer": [], "admin": []}
    for path, access in page_routes():
        pages[_viewer(path, access)].append(_concrete(path, ids))
    sweep = Sweep(_axe_source(), shots, size["width"])

    anonymous = await new_page(**size)
    wire = await Wire.attach(anonymous)
    for path in pages["anonymous"]:
        await sweep.check(anonymous, wire, path)

    operator = await new_page(**size)
    await _sign_in(operator, "/login", {"email": await make_staff("operator_admin", tenant), "password": PASSWORD})
    await expect(operator).to_have_url(re.compile(r"/panel/$"))
    wire = await Wire.attach(operator)
    for path in pages["operator"]:
        await sweep.check(operator, wire, path)
    await _navigation_marks_the_current_page(operator, size, shots)
    await _every_section_by_its_link(operator, size)

    customer = await new_page(**size)
    portal = f"/portal/{tenant.slug}"
    await _sign_in(customer, f"{portal}/login", {"login": "C8801", "password": PORTAL_PASSWORD})
    await expect(customer).to_have_url(re.compile(rf"{portal}/$"))
    wire = await Wire.attach(customer)
    for path in pages["customer"]:
        await sweep.check(customer, wire, path)
    await customer.goto(f"{portal}/")
    pdf = customer.locator("#bills").get_by_role("link", name=re.compile("PDF"))
    box = await pdf.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"], box
    assert box["height"] >= 44 and box["width"] >= 44, box  # a thumb's target, not 29x18

    admin = await new_page(**size)
    await _sign_in(admin, "/login", {"email": await make_staff("platform_admin"), "password": PASSWORD})
    await expect(admin).to_have_url(re.compile(r"/admin/?$"))
    wire = await Wire.attach(admin)
    for path in pages["admin"]:
        await sweep.check(admin, wire, path)

    assert len(pages["admin"]) >= 6 and len(pages["customer"]) >= 2 and len(pages["operator"]) >= 40
    print(f"\nfirst load at {size['width']}px, heaviest:", sorted(sweep.weights.items(), key=lambda w: -w[1])[:5])
    assert sweep.problems == [], "\n".join(sweep.problems)


async def _navigation_marks_the_current_page(
    page: Page, size: dict[str, int], shots: Callable[[Page, str], Awaitable[object]]
) -> None:
    """A phone gets the menu button (the sections' links under their titles, the current page marked); a wide
    screen the sidebar with the same marks."""
    await page.goto("/panel/bills")
    if size is PHONE:
        await expect(page.locator(".sidebar")).to_be_hidden()
        await page.get_by_text("Menu", exact=False).first.click()
        links = page.locator(".nav-menu")
    else:
        await expect(page.locator(".nav-menu")).to_be_hidden()
        links = page.locator(".sidebar")
    current = links.get_by_role("link", name="Customer Bills")
    await expect(current).to_be_visible()
    await expect(current).to_have_attribute("aria-current", "page")
    await expect(links.get_by_text("SMS and Notifications")).to_be_visible()
    await shots(page, "panel-navigation")


async def _every_section_by_its_link(page: Page, size: dict[str, int]) -> None:
    """From the dashboard, every section's page is one link away: behind the menu button on a phone, in the
    sidebar on a wide screen; the page reached marks its own link as current."""
    where = ".nav-menu" if size is PHONE else ".sidebar"
    await page.goto("/panel/")
    for item in (item for section in PANEL_NAV for item in section.items):
        if size is PHONE:
            await page.locator(".nav-menu summary").click()
        await page.locator(where).get_by_role("link", name=item.label, exact=True).click()
        await expect(page).to_have_url(re.compile(re.escape(item.path) + "$"))
        await expect(page.locator(f'{where} a[aria-current="page"]')).to_have_text(item.label)
