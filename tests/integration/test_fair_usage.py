"""Fair usage end to end: customers over their package's data allowance get the FUP speed without losing their
session (a CoA with the FUP Mikrotik-Rate-Limit to the RADIUS router, the FUP PPP profile on the API router),
a ``customer.fup_applied`` event, and full speed back with the next cycle or when the allowance is raised; a
customer under the allowance is untouched. Usage comes from accounting through the real rollup."""

from datetime import date

import pytest

from factories import make_customer, make_package, make_router
from ispb_netsync.radius import Code
from ispb_notify import DEFAULT_TEMPLATES, Event, render
from ispb_platform.billing.fair_usage import enforce
from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.network.routers.commands import fair_usage_profile, fair_usage_queue, package_profile
from ispb_tenants import Database, TenantRef
from peers.nas import nas_listener
from peers.routeros import RouterOSPeer

SECRET = "t" * 40
NAS, NAS_SECRET = "127.0.0.5", "nas-secret-5"
MB = 1024 * 1024
DEC_20, JAN_2 = date(2026, 12, 20), date(2027, 1, 2)


async def _session(scope, username: str, nas: str, download_mb: int) -> None:
    await scope.connection.execute(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,"
        " acctinputoctets, acctoutputoctets) VALUES ($1, $1, $2, $3, now(), now(), $4, $5)",
        f"s-{username}",
        username,
        nas,
        MB,
        download_mb * MB,
    )


async def _value(db: Database, tenant: TenantRef, sql: str, *args: object) -> object:
    async with db.tenant(tenant) as scope:
        return await scope.connection.fetchval(sql, *args)


@pytest.fixture(name="world")
async def fx_world(db: Database, make_tenant):
    tenant = await make_tenant("fup")
    async with (
        RouterOSPeer(username="ispb", password="router-pass") as peer,
        nas_listener(NAS, NAS_SECRET) as (
            coa_port,
            nas,
        ),
    ):
        async with db.tenant(tenant) as scope:
            package_id = await make_package(
                scope, name="Home 1 GB", download_kbps=20000, upload_kbps=10000, data_allowance_mb=1024
            )
            await scope.connection.execute(
                "UPDATE package SET fup_download_kbps = 1000, fup_upload_kbps = 512 WHERE id = $1", package_id
            )
            api = await make_router(
                scope, name="Core", host=peer.host, api_port=peer.port, username="ispb", password="router-pass",
                secret_key=SECRET,
            )  # fmt: skip
            radius = await make_router(
                scope, name="Edge", host=NAS, username="ispb", password="x", mode="radius", radius_secret=NAS_SECRET,
                nas_address=NAS, coa_port=coa_port, secret_key=SECRET,
            )  # fmt: skip
            heavy_radius, heavy_api, light = [
                await make_customer(
                    scope, code=code, phone=f"+88017160000{n}", package_id=package_id, router_id=router,
                    pppoe_username=code.lower(), pppoe_password="pw", secret_key=SECRET,
                )
                for n, (code, router) in enumerate((("F1", radius), ("F2", api), ("F3", radius)))
            ]  # fmt: skip
            await sync_customers(scope.connection, SECRET, [heavy_radius, heavy_api, light])
            await _session(scope, "f1", NAS, 1500)  # over 1 GB
            await _session(scope, "f2", "192.0.2.1", 2000)  # over 1 GB
            await _session(scope, "f3", NAS, 300)  # under
        peer.connect_ppp("f2", "10.40.0.2", rate_limit="10M/20M")  # online, at the package's speed
        yield {"tenant": tenant, "package_id": package_id, "peer": peer, "nas": nas,
               "customers": (heavy_radius, heavy_api, light)}  # fmt: skip


async def test_over_the_allowance_is_reduced_live_and_restored_with_the_next_cycle(db: Database, world):
    tenant, package_id, peer, nas = world["tenant"], world["package_id"], world["peer"], world["nas"]
    heavy_radius, heavy_api, light = world["customers"]

    counts = await enforce(db, tenant, DEC_20, SECRET)
    assert counts["reduced"] == 2 and counts["restored"] == 0 and counts["router_done"] == 2
    until = {c: await _value(db, tenant, "SELECT fup_until FROM customer WHERE id = $1", c) for c in world["customers"]}
    assert until == {heavy_radius: date(2026, 12, 31), heavy_api: date(2026, 12, 31), light: None}
    rate = "SELECT value FROM radreply WHERE username = $1 AND attribute = 'Mikrotik-Rate-Limit'"
    assert await _value(db, tenant, rate, "f1") == "512k/1M" and await _value(db, tenant, rate, "f3") == "10M/20M"
    [coa] = nas.requests  # the live session is changed, not ended
    assert coa.code == Code.COA_REQUEST and coa.get("User-Name") == "f1" and coa.get("Mikrotik-Rate-Limit") == "512k/1M"
    secret = next(s for s in peer.items("/ppp/secret") if s["name"] == "f2")
    assert secret["profile"] == fair_usage_profile(package_id)
    fup_profile = next(p for p in peer.items("/ppp/profile") if p["name"] == fair_usage_profile(package_id))
    assert fup_profile["rate-limit"] in ("512k/1M", "512000/1000000")
    # the live API session slows down at once: a queue on its interface, placed before its dynamic queue
    assert peer.queue_order() == [fair_usage_queue("f2"), "<pppoe-f2>"]
    live = next(q for q in peer.items("/queue/simple") if q["name"] == fair_usage_queue("f2"))
    assert live["target"] == "<pppoe-f2>" and live["max-limit"] == "512000/1000000"  # never an address
    assert [s["name"] for s in peer.items("/ppp/active")] == ["f2"]  # still connected
    payload = await _value(
        db, tenant, "SELECT payload::text FROM domain_event WHERE name = 'customer.fup_applied' AND customer_id = $1",
        heavy_radius,
    )  # fmt: skip
    assert payload is not None and '"reset_date": "2027-01-01"' in str(payload)
    events = await _value(db, tenant, "SELECT count(*) FROM domain_event WHERE name = 'customer.fup_applied'")
    assert events == 2

    again = await enforce(db, tenant, DEC_20, SECRET)  # twice changes nothing
    assert again == {"reduced": 0, "restored": 0}

    restored = await enforce(db, tenant, JAN_2, SECRET)  # a new cycle: full speed again
    assert restored["restored"] == 2
    assert await _value(db, tenant, rate, "f1") == "10M/20M"
    assert next(s for s in peer.items("/ppp/secret") if s["name"] == "f2")["profile"] == package_profile(package_id)
    assert peer.queue_order() == ["<pppoe-f2>"] and [s["name"] for s in peer.items("/ppp/active")] == ["f2"]
    assert nas.requests[-1].get("Mikrotik-Rate-Limit") == "10M/20M"


async def test_raising_the_allowance_restores_at_once(db: Database, world):
    tenant, package_id = world["tenant"], world["package_id"]
    await enforce(db, tenant, DEC_20, SECRET)
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE package SET data_allowance_mb = 4096 WHERE id = $1", package_id)
    counts = await enforce(db, tenant, DEC_20, SECRET)
    assert counts["restored"] == 2 and counts["reduced"] == 0


def test_the_fup_sms_reads_well():
    text = render(
        DEFAULT_TEMPLATES[Event.FUP_APPLIED.value],
        {"customer_name": "Nusrat Jahan", "package": "Home 1 GB", "fup_speed": "1 Mbps down, 512 kbps up",
         "reset_date": "1 Jan 2027", "operator_name": "Dhaka Net"},
    )  # fmt: skip
    assert text == (
        "Dear Nusrat Jahan, you have used this cycle's data of Home 1 GB, so your speed is 1 Mbps down, 512 kbps"
        " up. Full speed returns on 1 Jan 2027. Dhaka Net"
    )
