"""Monitoring pages: an operator admin adds, edits, tests and pauses checks; staff see but cannot change; the
public status page is a 404 until enabled, then shows public names only (never hosts) and updates itself;
the Zabbix settings are sealed and the sync fills the dashboard from a Zabbix peer (problems by severity, then
age, linking out); the platform admin's platform-wide checks and the platform's status page."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from ispb_notify import OutboundPolicy
from ispb_platform.monitoring.rounds import run_round
from ispb_platform.monitoring.zabbix_sync import sync
from ispb_tenants import Database
from peers.zabbix import Severity, ZabbixSimulator

SECRET = "t" * 40
LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")


@contextlib.asynccontextmanager
async def http_server():
    async def serve(reader, writer):
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while await reader.readline() not in (b"\r\n", b""):
                pass
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nall ok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.fixture(name="admin")
async def fx_admin(make_tenant, make_staff, make_client, sign_in):
    tenant = await make_tenant("monp")
    client = make_client()
    return client, await sign_in(client, await make_staff("operator_admin", tenant)), tenant


def _check_form(token: str, **fields: str) -> dict[str, str]:
    return {"_csrf_token": token, "kind": "http", "timeout_s": "5", "confirm_count": "2", **fields}


async def test_checks_add_test_pause_and_the_status_page(
    admin, allow_outbound, db: Database, make_client, make_staff, sign_in
):
    client, token, tenant = admin
    async with http_server() as port:
        url = f"http://127.0.0.1:{port}/health"
        bad = await client.post("/panel/monitoring/checks/new", data=_check_form(token, name="", target="nope"))
        assert bad.status_code == 422 and "Name the check" in bad.text and "Enter the page" in bad.text
        saved = await client.post(
            "/panel/monitoring/checks/new",
            data=_check_form(
                token, name="Portal server", public_name="Customer portal", target=url, body_contains="ok"
            ),
        )
        assert saved.status_code == 303
        async with db.tenant(tenant) as scope:
            check_id = await scope.connection.fetchval("SELECT id FROM status_check WHERE name = 'Portal server'")
        # the outbound policy: loopback is refused until the administrator allows it
        refused = await client.post(f"/panel/monitoring/checks/{check_id}/test", data={"_csrf_token": token})
        assert refused.status_code == 200 and "loopback" in refused.text
        allow_outbound("127.0.0.1")
        tested = await client.post(f"/panel/monitoring/checks/{check_id}/test", data={"_csrf_token": token})
        assert "Portal server</strong>: up" in tested.text
        edit = await client.get(f"/panel/monitoring/checks/{check_id}/edit")
        assert edit.status_code == 200 and url in edit.text
        # two rounds: results and an uptime bar
        start = datetime.now(UTC)
        for minute in range(2):
            await run_round(db, secret_key=SECRET, outbound=LOOPBACK, now=start + timedelta(minutes=minute),
                            tenants=[tenant], include_platform=False)  # fmt: skip
    assert (await client.get(f"/status/{tenant.slug}")).status_code == 404  # not enabled yet
    enabled = await client.post(
        "/panel/monitoring/settings/page", data={"_csrf_token": token, "page_enabled": "on", "page_title": "Net status"}
    )
    assert enabled.status_code == 303
    public = await make_client().get(f"/status/{tenant.slug}")
    assert public.status_code == 200 and "Customer portal" in public.text and "Operational" in public.text
    assert "127.0.0.1" not in public.text and "Portal server" not in public.text  # public names only, no hosts
    assert f'hx-get="/status/{tenant.slug}/live"' in public.text and "every 30s" in public.text
    live = await make_client().get(f"/status/{tenant.slug}/live")
    assert live.status_code == 200 and 'id="status-live"' in live.text and "<html" not in live.text
    assert (await make_client().get("/status/no-such-operator")).status_code == 404

    # a check that is down: the panel's Overview says so, with the time in the operator's zone
    down = await client.post(
        "/panel/monitoring/checks/new",
        data=_check_form(token, name="Billing DB", kind="tcp", target="127.0.0.1", port="1", confirm_count="1"),
    )
    assert down.status_code == 303
    await run_round(db, secret_key=SECRET, outbound=LOOPBACK, now=datetime.now(UTC) + timedelta(minutes=5),
                    tenants=[tenant], include_platform=False)  # fmt: skip
    overview = await client.get("/panel/")
    assert 'id="monitor-down"' in overview.text and "Billing DB</strong> is down since" in overview.text
    assert "Billing DB</strong> is down since" in (await client.get("/panel/monitoring")).text
    assert "Billing DB" not in (await make_client().get(f"/status/{tenant.slug}")).text  # no public name

    paused = await client.post(f"/panel/monitoring/checks/{check_id}/pause", data={"_csrf_token": token})
    assert paused.status_code == 303
    listing = await client.get("/panel/monitoring/checks")
    assert "Paused" in listing.text and "Resume" in listing.text

    staff = make_client()
    staff_token = await sign_in(staff, await make_staff("operator_staff", tenant))
    assert (await staff.get("/panel/monitoring")).status_code == 200
    assert (await staff.get("/panel/monitoring/checks")).status_code == 200
    forbidden = await staff.post("/panel/monitoring/checks/new", data=_check_form(staff_token, name="x", target=url))
    assert forbidden.status_code == 403


async def test_zabbix_settings_sync_and_dashboard(admin, allow_outbound, db: Database) -> None:
    client, token, tenant = admin
    simulator = ZabbixSimulator(version="6.0.30", token="zbx-token")
    core = simulator.add_host("core-sw1", "Core switch 1")
    olt = simulator.add_host("olt-north", "OLT North", available=False)
    simulator.raise_problem(core, "High CPU on core", Severity.WARNING, age_s=600)
    simulator.raise_problem(olt, "OLT North unreachable", Severity.DISASTER, age_s=60)
    simulator.raise_problem(core, "Fan failure", Severity.DISASTER, age_s=7200)
    async with simulator.serving() as url:
        refused = await client.post(
            "/panel/monitoring/settings/zabbix",
            data={"_csrf_token": token, "zabbix_url": url, "zabbix_token": "zbx-token"},
        )
        assert refused.status_code == 422 and "loopback" in refused.text
        allow_outbound("127.0.0.1")
        saved = await client.post(
            "/panel/monitoring/settings/zabbix",
            data={"_csrf_token": token, "zabbix_url": url, "zabbix_token": "zbx-token"},
        )
        assert saved.status_code == 303
        async with db.tenant(tenant) as scope:
            sealed = await scope.connection.fetchval("SELECT zabbix_token_sealed FROM monitor_settings")
        assert sealed.startswith("v2:") and "zbx-token" not in sealed
        counts = await sync(db, tenant, secret_key=SECRET, outbound=LOOPBACK)
        assert counts == {"hosts": 2, "problems": 3}
    page = (await client.get("/panel/monitoring")).text
    order = [page.index(name) for name in ("Fan failure", "OLT North unreachable", "High CPU on core")]
    assert order == sorted(order)  # disaster before warning; the older disaster first
    assert "tr_events.php?triggerid=" in page and "Core switch 1" in page
    # Zabbix is gone now: the picture stays, the error is shown
    assert (await sync(db, tenant, secret_key=SECRET, outbound=LOOPBACK)) == {"failed": 1}
    page = (await client.get("/panel/monitoring")).text
    assert "The last sync failed" in page and "Fan failure" in page


async def test_platform_checks_and_the_platform_status_page(make_client, make_staff, sign_in, db: Database) -> None:
    client = make_client()
    token = await sign_in(client, await make_staff("platform_admin"))
    page = await client.get("/admin/monitoring/")
    assert page.status_code == 200 and "Platform status checks" in page.text
    radius = await client.post(
        "/admin/monitoring/checks/new", data=_check_form(token, name="R", kind="radius", target="10.0.0.1", secret="s")
    )
    assert radius.status_code == 422  # no secrets on platform-wide checks
    saved = await client.post(
        "/admin/monitoring/checks/new",
        data=_check_form(token, name="Platform web", public_name="Panel", target="https://isp.example.net/healthz"),
    )
    assert saved.status_code == 303
    try:
        async with db.platform() as connection:  # the platform's settings row is shared: start from "off"
            await connection.execute("UPDATE monitor_settings SET page_enabled = false")
        assert (await make_client().get("/status")).status_code == 404  # not enabled yet
        await client.post("/admin/monitoring/settings/page", data={"_csrf_token": token, "page_enabled": "on"})
        public = await make_client().get("/status")
        assert public.status_code == 200 and "Panel" in public.text and "isp.example.net" not in public.text
        operator = make_client()
        await sign_in(operator, await make_staff("group_admin"))
        assert (await operator.get("/admin/monitoring/")).status_code == 403
    finally:
        async with db.platform() as connection:
            await connection.execute("DELETE FROM status_check WHERE name = 'Platform web'")
            await connection.execute("UPDATE monitor_settings SET page_enabled = false")
