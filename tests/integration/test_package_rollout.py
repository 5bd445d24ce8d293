"""A package's speed edit reaches the network: RADIUS reply rows of its customers in the edit's transaction, the
PPP profile on each API-managed router (RouterOS peer) and a CoA to each live RADIUS session (a NAS listener),
and the package page shows how far the rollout got. Nothing is sent when the speed did not change.
"""

from datetime import UTC, date, datetime

import pytest

from factories import make_customer, make_package, make_router
from ispb_netsync.radius import Code
from ispb_platform.catalog.rollout import roll_out_package
from ispb_platform.jobs.job import JobContext
from ispb_platform.network.jobs import run_due_commands
from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.network.routers.commands import package_profile
from ispb_tenants import Database, TenantRef
from peers.nas import nas_listener
from peers.routeros import Fault, RouterOSPeer

SECRET = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY
NAS, NAS_SECRET = "127.0.0.4", "nas-secret-9"


def _ctx(db: Database, tenant: TenantRef) -> JobContext:
    return JobContext(db=db, today=date(2026, 12, 2), now=datetime.now(UTC), tenant=tenant, secret_key=SECRET)


@pytest.fixture(name="world")
async def fx_world(db: Database, make_tenant):
    """A package on two API routers (peers) and a RADIUS router (a NAS listener); 3 customers on each, one RADIUS
    customer online; another package's customer on the same routers."""
    tenant = await make_tenant("rollout")
    async with (
        RouterOSPeer(username="ispb", password="router-pass") as north,
        RouterOSPeer(username="ispb", password="router-pass") as south,
        nas_listener(NAS, NAS_SECRET) as (coa_port, nas),
    ):
        async with db.tenant(tenant) as scope:
            package_id = await make_package(scope, name="Home 10", download_kbps=10000, upload_kbps=5000)
            other = await make_package(scope, name="Home 20", download_kbps=20000, upload_kbps=10000)
            routers = [
                await make_router(
                    scope,
                    name=name,
                    host=peer.host,
                    api_port=peer.port,
                    username="ispb",
                    password="router-pass",
                    secret_key=SECRET,
                )
                for name, peer in (("North", north), ("South", south))
            ]
            routers.append(
                await make_router(
                    scope,
                    name="Edge",
                    host=NAS,
                    username="ispb",
                    password="x",
                    mode="radius",
                    radius_secret=NAS_SECRET,
                    nas_address=NAS,
                    coa_port=coa_port,
                    secret_key=SECRET,
                )
            )
            customers = []
            for n in range(9):
                customers.append(
                    await make_customer(
                        scope,
                        code=f"P{n}",
                        phone=f"+8801713{n:06d}",
                        package_id=package_id,
                        router_id=routers[n % 3],
                        pppoe_username=f"home{n}",
                        pppoe_password=f"pw-{n}",
                        secret_key=SECRET,
                    )
                )
            bystander = await make_customer(
                scope,
                code="Q1",
                phone="+8801714000001",
                package_id=other,
                router_id=routers[2],
                pppoe_username="other1",
                pppoe_password="pw",
                secret_key=SECRET,
            )
            await sync_customers(scope.connection, SECRET, [*customers, bystander])
            await scope.connection.execute(  # home2 is online on the RADIUS router
                "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime,"
                " acctupdatetime, framedipaddress) VALUES ('s-2', 'u-2', 'home2', $1, now(), now(), '100.64.0.2')",
                NAS,
            )
        yield {
            "tenant": tenant,
            "package_id": package_id,
            "peers": (north, south),
            "nas": nas,
            "customers": customers,
            "routers": routers,
        }


async def _rate_limits(db: Database, tenant: TenantRef) -> dict[str, str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT username, value FROM radreply WHERE attribute = 'Mikrotik-Rate-Limit' ORDER BY username"
        )
    return {r["username"]: r["value"] for r in rows}


async def test_a_speed_edit_reaches_radius_rows_router_profiles_and_live_sessions(
    db: Database, world, make_client, make_staff, sign_in
):
    tenant, package_id = world["tenant"], world["package_id"]
    north, south = world["peers"]
    before = await _rate_limits(db, tenant)
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    form = {
        "_csrf_token": token,
        "name": "Home 10",
        "service_type": "pppoe",
        "price": "500",
        "vat_rate": "0",
        "download_mbps": "15",
        "upload_mbps": "8",
        "validity_days": "30",
        "is_active": "on",
    }
    saved = await client.post(f"/panel/packages/{package_id}/edit", data=form)
    assert saved.status_code == 303
    after = await _rate_limits(db, tenant)  # in the edit's own transaction
    assert {after[f"home{n}"] for n in (2, 5, 8)} == {"8M/15M"} and after["other1"] == before["other1"]

    page = await client.get(f"/panel/packages/{package_id}/edit")
    assert "New speed on the network" in page.text and "2 waiting" in page.text  # two router profiles queued

    counts = await run_due_commands(_ctx(db, tenant))
    assert counts["done"] == 3 and counts["retry"] == 0  # two router profiles, one live session
    for peer in (north, south):
        [profile] = [p for p in peer.items("/ppp/profile") if p["name"] == package_profile(package_id)]
        assert profile["rate-limit"] in ("8000k/15000k", "8M/15M", "8000000/15000000")
    [coa] = world["nas"].requests
    assert coa.code == Code.COA_REQUEST and coa.get("User-Name") == "home2"
    assert coa.get("Mikrotik-Rate-Limit") == "8M/15M"
    page = await client.get(f"/panel/packages/{package_id}/edit")
    assert "Router profiles" in page.text and "2 done" in page.text and "Live sessions" in page.text

    # a save that keeps the speed sends nothing
    renamed = await client.post(f"/panel/packages/{package_id}/edit", data=form | {"name": "Home 15"})
    assert renamed.status_code == 303
    async with db.tenant(tenant) as scope:
        pending = await scope.connection.fetchval("SELECT count(*) FROM router_command WHERE status = 'pending'")
    assert pending == 0


async def test_a_router_that_is_down_shows_as_failing_and_a_newer_edit_supersedes_its_command(db: Database, world):
    tenant, package_id = world["tenant"], world["package_id"]
    north, _ = world["peers"]
    north.fault = Fault.CLOSE_ON_ACCEPT
    async with db.tenant(tenant) as scope:
        edited = await scope.connection.fetchval(
            "UPDATE package SET download_kbps = 12000, updated_at = now() WHERE id = $1 RETURNING updated_at",
            package_id,
        )
        first = await roll_out_package(scope.connection, package_id, edited, secret_key=SECRET)
    assert (first.radius_customers, first.router_commands, first.session_commands) == (3, 2, 1)
    counts = await run_due_commands(_ctx(db, tenant))
    assert counts == {"done": 2, "retry": 1, "busy": 0}
    async with db.tenant(tenant) as scope:
        edited = await scope.connection.fetchval(
            "UPDATE package SET download_kbps = 14000, updated_at = now() + interval '1 second' WHERE id = $1"
            " RETURNING updated_at",
            package_id,
        )
        await roll_out_package(scope.connection, package_id, edited, secret_key=SECRET)
        states = await scope.connection.fetch(
            "SELECT router_id, status FROM router_command WHERE action = 'apply_profile' ORDER BY id"
        )
    on_north = [r["status"] for r in states if r["router_id"] == world["routers"][0]]
    assert on_north == ["superseded", "pending"]  # only the latest edit needs to reach the router
    north.fault = Fault.NONE
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE router_command SET next_attempt_at = now() WHERE status = 'pending'")
    await run_due_commands(_ctx(db, tenant))
    [profile] = [p for p in north.items("/ppp/profile") if p["name"] == package_profile(package_id)]
    assert profile["rate-limit"] in ("5000k/14000k", "5M/14M", "5000000/14000000")
