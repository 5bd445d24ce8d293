"""Traffic graphs: ``netsync.rrd_update`` reads every API router's interface counters (RouterOS peer) into RRD
files; three polls give the rates back; the router page shows the graphs; another tenant's operator gets 404."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from factories import make_customer, make_package, make_router
from ispb_netsync.rrd import TrafficSample, interface_rrd
from ispb_platform.auth.passwords import hash_password
from ispb_platform.billing.fair_usage import enforce
from ispb_platform.demo.router import ROUTER_NAME
from ispb_platform.demo.traffic import one_minute, prepare_fair_usage
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.jobs import update_traffic_graphs
from ispb_platform.network.radius.usage import rollup
from ispb_platform.network.traffic.files import store
from ispb_tenants import Database, TenantRef
from peers.routeros import Fault, RouterOSPeer

SECRET = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY


def _png_width(png: bytes) -> int:
    """The image's width from its IHDR chunk."""
    return int.from_bytes(png[16:20], "big")


def _ctx(db: Database, tenant: TenantRef, data_dir: Path | None) -> JobContext:
    return JobContext(
        db=db, today=date(2026, 12, 2), now=datetime.now(UTC), tenant=tenant, secret_key=SECRET, data_dir=data_dir
    )


async def test_polls_become_rates_graphs_and_pages(
    db: Database, make_tenant, make_client, make_staff, sign_in, web_app
):
    data_dir = Path(web_app.state.runtime.settings.data_dir)
    tenant, other = await make_tenant("traffic"), await make_tenant("traffic-other")
    async with (
        RouterOSPeer(username="ispb", password="router-pass") as core,
        RouterOSPeer(username="ispb", password="router-pass") as down,
    ):
        down.fault = Fault.CLOSE_ON_ACCEPT
        async with db.tenant(tenant) as scope:
            router_id, _ = [
                await make_router(
                    scope, name=name, host=peer.host, api_port=peer.port, username="ispb",
                    password="router-pass", secret_key=SECRET,
                )
                for name, peer in (("Core", core), ("Down", down))
            ]  # fmt: skip
        first = await update_traffic_graphs(_ctx(db, tenant, data_dir))
        assert first["routers_read"] == 1 and first["routers_unreachable"] == 1
        assert first["interfaces_created"] == 2  # ether1, ether2: the first reading is the baseline
        path = interface_rrd(data_dir, tenant.slug, router_id, "ether1")
        assert path.exists()
        # two more polls 5 minutes apart (the job stamps the time it reads; here the store is fed the same way)
        start = datetime.now(UTC)
        for n in (1, 2):
            core.add_traffic("ether1", rx_bytes=300 * 1_000_000, tx_bytes=300 * 4_000_000)
            counters = {i["name"]: i for i in core.items("/interface")}
            store().update_many(
                [
                    TrafficSample(
                        path,
                        start + timedelta(seconds=300 * n),
                        int(counters["ether1"]["rx-byte"]),
                        int(counters["ether1"]["tx-byte"]),
                    )
                ]
            )
        rates = [r for r in store().fetch(path, start, start + timedelta(seconds=600)) if r.download is not None]
        assert rates and all(round(r.download) == 1_000_000 and round(r.upload) == 4_000_000 for r in rates)
        assert (await update_traffic_graphs(_ctx(db, tenant, None))) == {"no_data_dir": 1}

        operator = make_client()
        await sign_in(operator, await make_staff("operator_staff", tenant))
        page = await operator.get(f"/panel/routers/{router_id}")
        assert page.status_code == 200 and "Traffic" in page.text and "interface=ether1" in page.text
        graph = await operator.get(f"/panel/routers/{router_id}/traffic.png", params={"interface": "ether1"})
        assert graph.status_code == 200 and graph.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert graph.headers["content-type"] == "image/png"
        narrow = await operator.get(
            f"/panel/routers/{router_id}/traffic.png", params={"interface": "ether1", "size": "narrow"}
        )
        assert narrow.status_code == 200 and _png_width(narrow.content) < _png_width(graph.content)  # for phones
        assert "size=narrow" in page.text  # offered to small screens
        for params in (
            {"interface": "ether9"},
            {"interface": "ether1", "period": "decade"},
            {"interface": "ether1", "size": "huge"},
        ):
            missing = await operator.get(f"/panel/routers/{router_id}/traffic.png", params=params)
            assert missing.status_code == 404

        stranger = make_client()
        await sign_in(stranger, await make_staff("operator_staff", other))
        refused = await stranger.get(f"/panel/routers/{router_id}/traffic.png", params={"interface": "ether1"})
        assert refused.status_code == 404


async def test_a_customers_usage_and_graph_on_the_customer_page_and_in_the_portal(
    db: Database, make_tenant, make_client, make_staff, sign_in, csrf_of, web_app
):
    data_dir = Path(web_app.state.runtime.settings.data_dir)
    tenant, other = await make_tenant("usage"), await make_tenant("usage-other")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Home 1 GB", data_allowance_mb=2048)
        customer_id = await make_customer(
            scope, code="U1", name="Nusrat Jahan", package_id=package_id, pppoe_username="nusrat",
            password_hash=hash_password("portal password 1"),
        )  # fmt: skip
        await scope.connection.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,"
            " acctinputoctets, acctoutputoctets) VALUES ('s1', 'u1', 'nusrat', '192.0.2.9', now(), now(), $1, $2)",
            100 * 1024**2,
            500 * 1024**2,
        )
    counts = await update_traffic_graphs(_ctx(db, tenant, data_dir))
    assert counts["sessions_rolled_up"] == 1 and counts["customers_created"] == 1

    operator = make_client()
    await sign_in(operator, await make_staff("operator_staff", tenant))
    page = await operator.get(f"/panel/customers/{customer_id}")
    assert "Usage this cycle" in page.text and "500 MB down" in page.text and "100 MB up" in page.text
    assert "600 MB of 2 GB used" in page.text and f"/panel/customers/{customer_id}/traffic.png" in page.text
    graph = await operator.get(f"/panel/customers/{customer_id}/traffic.png", params={"period": "week"})
    assert graph.status_code == 200 and graph.content[:4] == b"\x89PNG"

    customer = make_client()
    token = csrf_of((await customer.get(f"/portal/{tenant.slug}/login")).text)
    await customer.post(
        f"/portal/{tenant.slug}/login", data={"login": "U1", "password": "portal password 1", "_csrf_token": token}
    )
    home = await customer.get(f"/portal/{tenant.slug}/")
    assert "Your data use" in home.text and "600 MB of 2 GB used" in home.text and 'value="29"' in home.text
    own = await customer.get(f"/portal/{tenant.slug}/traffic.png")
    assert own.status_code == 200 and own.content[:4] == b"\x89PNG"

    stranger = make_client()
    await sign_in(stranger, await make_staff("operator_staff", other))
    assert (await stranger.get(f"/panel/customers/{customer_id}/traffic.png")).status_code == 404
    assert (await make_client().get(f"/portal/{tenant.slug}/traffic.png")).status_code in (302, 303, 401)


async def test_the_demos_made_up_traffic_reaches_usage_and_the_router_counters(db: Database, make_tenant):
    tenant = await make_tenant("demo-traffic")
    async with RouterOSPeer(username="ispb", password="router-pass") as peer:
        async with db.tenant(tenant) as scope:
            router_id = await make_router(
                scope, name=ROUTER_NAME, host=peer.host, api_port=peer.port, username="ispb",
                password="router-pass", secret_key=SECRET,
            )  # fmt: skip
            ids = [
                await make_customer(scope, code=f"D{n}", phone=f"+88017150000{n}", router_id=router_id,
                                    pppoe_username=f"demo{n}")
                for n in range(3)
            ]  # fmt: skip
        assert await one_minute(db, tenant, peer, ROUTER_NAME, 1) == 0  # the sessions open
        assert await one_minute(db, tenant, peer, ROUTER_NAME, 1) == 3  # and grow
        counts = await rollup(db, tenant)
        async with db.tenant(tenant) as scope:
            used = await scope.connection.fetchval("SELECT sum(download_octets) FROM customer_usage_daily")
            open_sessions = await scope.connection.fetchval("SELECT count(*) FROM radacct WHERE acctstoptime IS NULL")
        counters = {i["name"]: int(i["tx-byte"]) for i in peer.items("/interface")}
    assert counts["sessions"] == 3 and open_sessions == 3 and used > 0
    assert counters["ether2"] == used and ids


async def test_the_demos_portal_customer_crosses_the_fair_usage_allowance_within_minutes(db: Database, make_tenant):
    tenant = await make_tenant("demo-fup")
    today = local_today(datetime.now(UTC), tenant)
    async with RouterOSPeer(username="ispb", password="router-pass") as peer:
        async with db.tenant(tenant) as scope:
            router_id = await make_router(
                scope, name=ROUTER_NAME, host=peer.host, api_port=peer.port, username="ispb",
                password="router-pass", secret_key=SECRET,
            )  # fmt: skip
            first = await make_customer(scope, code="C000001", router_id=router_id, pppoe_username="c000001")
        assert first == 1  # the demo's portal login is its first customer
        await prepare_fair_usage(db, tenant, today)
        await prepare_fair_usage(db, tenant, today)  # twice: the same state
        assert (await enforce(db, tenant, today, SECRET))["reduced"] == 0  # 1.9 of 2 GB
        for _ in range(5):  # five made-up minutes
            await one_minute(db, tenant, peer, ROUTER_NAME, 1)
        assert (await enforce(db, tenant, today, SECRET))["reduced"] == 1
