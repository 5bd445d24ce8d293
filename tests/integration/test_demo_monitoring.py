"""The demo's monitoring, as ``ispb demo`` wires it: the public status page of an operator shows components with
uptime bars (made-up history), its simulated router stopping turns "Internet" red at the next round and green
after it returns with the incident listed, and the Monitoring dashboard shows the demo Zabbix's hosts and
problems. The demo's routes (stop/start) are driven by the functions behind them."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ispb_netsync.routeros.simulator import RouterOSPeer
from ispb_notify import OutboundPolicy
from ispb_platform.demo.monitoring import DemoPorts, demo_zabbix
from ispb_platform.demo.router import ROUTER_NAME, ROUTER_PASSWORD, ROUTER_USER
from ispb_platform.demo.setup import DEMO_OPERATORS, prepare_demo
from ispb_platform.monitoring import queries, service
from ispb_platform.monitoring.rounds import run_round
from ispb_platform.monitoring.zabbix_sync import sync
from ispb_tenants import Database, drop_tenant, get_tenant

SECRET = "d" * 40


@contextlib.asynccontextmanager
async def web(port: int):
    """Stands in for the demo's own web server (the portal and /healthz checks)."""

    async def serve(reader, writer):
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while await reader.readline() not in (b"\r\n", b""):
                pass
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nSign in")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


async def test_the_demo_status_page_router_outage_and_zabbix(db: Database) -> None:
    ports = DemoPorts.free(1)
    web_port = DemoPorts.free(0).zabbix
    policy = ports.allow(OutboundPolicy()).allowing("127.0.0.1", web_port)
    try:
        await prepare_demo(
            db, secret_key=SECRET, customers_per_operator=30, web_url=f"http://127.0.0.1:{web_port}",
            zabbix_url=ports.zabbix_url,
        )  # fmt: skip
        tenant = await get_tenant(db, DEMO_OPERATORS[0].slug)
        others = [await get_tenant(db, o.slug) for o in DEMO_OPERATORS[1:]]
        zone = ZoneInfo(tenant.timezone)
        peer = RouterOSPeer(username=ROUTER_USER, password=ROUTER_PASSWORD, identity="ISPB demo core 1")
        peer.port = ports.routers[0]
        async with db.tenant(tenant) as scope:
            await scope.connection.execute("UPDATE router SET api_port = $2 WHERE name = $1", ROUTER_NAME, peer.port)
        start = datetime.now(UTC)

        async def minute(n: int) -> dict[str, int]:
            return await run_round(
                db, secret_key=SECRET, outbound=policy, now=start + timedelta(minutes=n), tenants=[tenant],
                include_platform=False,
            )  # fmt: skip

        async def page() -> service.StatusPageModel:
            async with db.tenant(tenant) as scope:
                assert (await queries.settings(scope.connection))["page_enabled"]
                return await service.status_model(scope.connection, zone, public_only=True)

        async with web(web_port), peer, demo_zabbix().serving(port=ports.zabbix):
            assert (await minute(0))["down"] == 0
            shown = await page()
            assert {c.name for c in shown.components} == {
                "Internet (core network)",
                "Customer portal",
                "Online bill payment",
            }
            assert shown.overall == "up" and all(len(c.bars) == 90 for c in shown.components)
            levels = {bar.level for c in shown.components for bar in c.bars}
            assert {"full", "maintenance"} <= levels and levels & {"high", "mid", "low", "bad"}  # the made-up past
            assert len(shown.recent_incidents) == 1  # 4 days ago, the portal

            await peer.stop_listening()  # the visitor stops the router (/demo/router/stop)
            counts = await minute(1)
            assert counts["opened"] == 1  # confirm count 1: red at the first round after it stopped
            internet = next(c for c in (await page()).components if c.name == "Internet (core network)")
            assert internet.state == "down" and (await page()).open_incidents[0].name == "Internet (core network)"

            await peer.__aenter__()  # and starts it again
            assert (await minute(2))["closed"] == 1
            back = await page()
            assert next(c for c in back.components if c.name.startswith("Internet")).state == "up"
            assert back.open_incidents == [] and back.recent_incidents[0].name == "Internet (core network)"

            assert await sync(db, tenant, secret_key=SECRET, outbound=policy) == {"hosts": 5, "problems": 5}
            async with db.tenant(tenant) as scope:
                hosts, problems = await queries.zabbix_view(scope.connection)
            assert (
                len(hosts) == 5
                and problems[0]["severity"] == 5
                and [p["severity"] for p in problems] == sorted((p["severity"] for p in problems), reverse=True)
            )
        for other in others:
            async with db.tenant(other) as scope:
                assert await scope.connection.fetchval("SELECT count(*) FROM status_check") == 3
    finally:
        for operator in DEMO_OPERATORS:
            with contextlib.suppress(LookupError):
                await drop_tenant(db, operator.slug)


async def test_the_demo_router_page_stops_and_starts_the_operators_router(
    db: Database, web_app, make_tenant, make_staff, sign_in, csrf_of
) -> None:
    """``/demo/router/`` (the demo app only): an operator admin stops and starts their own simulated router; the
    port refuses connections while it is stopped; staff and other operators cannot."""
    import httpx

    from ispb_platform.app import create_app
    from ispb_platform.demo.monitoring import ROUTES

    runtime = web_app.state.runtime
    app = create_app(runtime.settings, runtime=runtime, extra_routes=ROUTES)
    tenant, other = await make_tenant("demo-router"), await make_tenant("demo-other")
    async with RouterOSPeer(username=ROUTER_USER, password=ROUTER_PASSWORD) as peer:
        app.state.demo_router_peers = {tenant.slug: peer}
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4711))
        async with (
            httpx.AsyncClient(transport=transport, base_url="https://isp.test") as admin,
            httpx.AsyncClient(transport=transport, base_url="https://isp.test") as staff,
            httpx.AsyncClient(transport=transport, base_url="https://isp.test") as stranger,
        ):
            token = await sign_in(admin, await make_staff("operator_admin", tenant))
            page = await admin.get("/demo/router/")
            assert page.status_code == 200 and "Stop the router" in page.text
            stopped = await admin.post("/demo/router/stop", data={"_csrf_token": token})
            assert stopped.status_code == 303
            with pytest.raises(OSError):
                await asyncio.open_connection("127.0.0.1", peer.port)
            assert "Start the router" in (await admin.get("/demo/router/")).text
            assert (await admin.post("/demo/router/start", data={"_csrf_token": token})).status_code == 303
            _, writer = await asyncio.open_connection("127.0.0.1", peer.port)
            writer.close()
            staff_token = await sign_in(staff, await make_staff("operator_staff", tenant))
            assert (await staff.post("/demo/router/stop", data={"_csrf_token": staff_token})).status_code == 403
            await sign_in(stranger, await make_staff("operator_admin", other))
            assert (await stranger.get("/demo/router/")).status_code == 404  # no simulated router of theirs
