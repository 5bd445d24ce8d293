"""Logs → NetFlow on a phone (issue 14): an operator searches a customer's flows by typing the customer and a time
range; the flows found by the real nfdump in capture files a real nfcapd wrote (fed by a NetFlow v9 router on
loopback) show as labelled rows that fit the screen, axe finds nothing serious, and a bad address gets its
message next to the field."""

import asyncio
import ipaddress
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect
from test_phone_pages import PASSWORD, PHONE, SERVER_SECRET, Sweep, Wire, _axe_source, _sign_in

from factories import make_customer, make_router
from ispb_netsync.netflow import ExporterSource, Flow, NfcapdCollector, capture_files, source_dir
from ispb_tenants import Database, TenantRef
from peers.netflow import LoopbackExporter, free_udp_port
from processes import DATA_DIR

ADDRESS, INTERNET = "100.64.9.9", "203.0.113.80"


async def _capture(tenant: TenantRef, router_id: int, router: str, now: datetime) -> None:
    """A capture file for the router: nfcapd receives a few flows and closes its file."""

    async def quiet(line: str) -> None:
        pass

    port = free_udp_port()
    collector = NfcapdCollector(host="127.0.0.1", port=port, log=quiet)
    directory = source_dir(DATA_DIR, tenant.slug, router_id)
    await collector.apply([ExporterSource("e2e", ipaddress.ip_address(router), directory)])
    await asyncio.sleep(0.4)
    first = now - timedelta(minutes=15)
    LoopbackExporter(router, port).send(
        [Flow(ADDRESS, INTERNET, 41000 + n, 443, 6, 250_000 * (n + 1), 200, first, first + timedelta(minutes=3))
         for n in range(3)]
    )  # fmt: skip
    await asyncio.sleep(0.5)
    await collector.stop()
    assert capture_files(directory), "nfcapd wrote no file"


async def test_an_operator_finds_a_customers_flows_on_a_phone(
    db: Database,
    make_tenant: Callable[..., Awaitable[TenantRef]],
    make_staff: Callable[..., Awaitable[str]],
    new_page: Callable[..., Awaitable[Page]],
    shots: Callable[[Page, str], Awaitable[object]],
) -> None:
    tenant = await make_tenant("netflow-phone")
    router = f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    async with db.tenant(tenant) as scope:
        router_id = await make_router(scope, name="Uttara core", mode="radius", radius_secret="radius-secret",
                                      nas_address=router, secret_key=SERVER_SECRET)  # fmt: skip
        await make_customer(scope, code="C7701", name="Nasrin Sultana", pppoe_username="nasrin", router_id=router_id,
                            secret_key=SERVER_SECRET)  # fmt: skip
        await scope.connection.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, framedipaddress)"
            " VALUES ('e2e-1', 'e2e-1', 'nasrin', $1, $2, $3)",
            router,
            now - timedelta(hours=2),
            ADDRESS,
        )
    await _capture(tenant, router_id, router, now)

    page = await new_page(**PHONE)
    await _sign_in(page, "/login", {"email": await make_staff("operator_staff", tenant), "password": PASSWORD})
    await expect(page).to_have_url(re.compile(r"/panel/$"))
    await page.goto("/panel/logs/netflow")
    await expect(page.get_by_text("Search by customer or IP address to see flows")).to_be_visible()

    local = ZoneInfo(tenant.timezone)
    await page.get_by_label(re.compile(r"^\s*Customer")).fill("C7701")
    await page.get_by_label(re.compile(r"^\s*From")).fill(
        (now - timedelta(hours=1)).astimezone(local).strftime("%Y-%m-%dT%H:%M")
    )
    await page.get_by_label(re.compile(r"^\s*Until")).fill(
        (now + timedelta(minutes=5)).astimezone(local).strftime("%Y-%m-%dT%H:%M")
    )
    await page.get_by_role("button", name="Search flows").click()
    rows = page.locator("#netflow-flows tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first.get_by_role("link", name="C7701")).to_be_visible()
    await expect(page.get_by_text(f"who held {ADDRESS}")).to_be_visible()
    await shots(page, "netflow-customer-flows")

    sweep = Sweep(_axe_source(), shots, PHONE["width"])
    wire = await Wire.attach(page)
    await sweep.check(page, wire, page.url.removeprefix(page.url.split("/panel")[0]))
    assert sweep.problems == [], "\n".join(sweep.problems)

    await page.get_by_label(re.compile(r"^\s*IP address")).fill("100.64.9.9 or any")
    await page.get_by_role("button", name="Search flows").click()
    address = page.locator("label.field.has-error", has=page.locator("input[name=address]"))
    await expect(address.locator(".error")).to_contain_text("is not an IP address")
    await shots(page, "netflow-bad-address")
