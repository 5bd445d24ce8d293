"""Routers and Packages → OLTs: an operator admin adds an OLT (credentials sealed), tests the connection
(sysDescr), sees ONUs problems first, an ONU's Rx history, maps one by hand; the customer page shows its ONU and
the portal a plain signal word. Pages of another tenant's OLT are 404."""

from datetime import UTC, datetime

from factories import make_customer
from ispb_netsync.olt.reading import OltReading
from ispb_platform.auth.passwords import hash_password
from ispb_platform.network.olts import queries, service
from ispb_platform.network.olts.sync import SyncOptions, sync_olts
from ispb_platform.network.olts.sync import _write as sync_write
from ispb_platform.secrets_box import Binding, Purpose, reveal
from ispb_tenants import Database
from peers.snmp_olt import onus_of, simulated_olts

SECRET = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY
FAST = SyncOptions(timeout=0.5, retries=1, olt_within=20, retry_pause=-1)


async def test_olt_pages_from_adding_to_the_portal(
    db: Database, make_tenant, make_client, make_staff, sign_in, csrf_of
):
    tenant, other = await make_tenant("oltpages"), await make_tenant("oltpages-other")
    async with db.tenant(tenant) as scope:
        customer_id = await make_customer(
            scope, code="C-0003", name="Nusrat Jahan", password_hash=hash_password("portal password 1")
        )
    admin = make_client()
    token = await sign_in(admin, await make_staff("operator_admin", tenant))
    with simulated_olts({"mirpur": ("zte_gpon", onus_of("zte_gpon", 5, weak=[3], down=[2]))}) as simulator:
        form = {
            "_csrf_token": token, "name": "Mirpur OLT", "site": "Mirpur POP", "vendor": "zte_gpon",
            "host": "127.0.0.1", "snmp_port": str(simulator.port), "snmp_version": "v2c", "community": "mirpur",
        }  # fmt: skip
        bad = await admin.post("/panel/olts/new", data=form | {"community": "", "vendor": "acme"})
        assert bad.status_code == 422 and "Choose the OLT" in bad.text and "read community" in bad.text
        added = await admin.post("/panel/olts/new", data=form)
        assert added.status_code == 303
        olt_id = int(added.headers["location"].rsplit("/", 1)[1])
        async with db.tenant(tenant) as scope:
            sealed = await scope.connection.fetchval("SELECT community_sealed FROM olt WHERE id = $1", olt_id)
        assert (
            sealed != "mirpur" and reveal(SECRET, sealed, Binding(tenant.id, Purpose.OLT_COMMUNITY, olt_id)) == "mirpur"
        )

        tested = await admin.post(f"/panel/olts/{olt_id}/test", data={"_csrf_token": token})
        assert tested.status_code == 200 and "zte_gpon mirpur" in tested.text  # the simulator's sysDescr
        assert (await sync_olts(db, tenant, SECRET, FAST))["onus_seen"] == 5

    listing = await admin.get("/panel/olts/")
    assert (
        listing.status_code == 200
        and "Mirpur OLT" in listing.text
        and "2 ONUs offline or with weak signal" in listing.text
    )
    onus = await admin.get("/panel/olts/onus")
    order = [onus.text.index(f"1/2/3:{n}<") for n in (2, 3, 1)]
    assert order == sorted(order)  # the LOS ONU, then the weak one, then the rest
    assert "weak</strong>" in onus.text
    async with db.tenant(tenant) as scope:
        onu_id = await scope.connection.fetchval("SELECT id FROM onu WHERE onu_index = 3")
        assert await scope.connection.fetchval("SELECT customer_id FROM onu WHERE id = $1", onu_id) == customer_id
        await scope.connection.execute(  # an older reading, so the page has a line to draw
            "INSERT INTO onu_reading (onu_id, at, status, rx_dbm)"
            " VALUES ($1, now() - interval '2 hours', 'online', -21)",
            onu_id,
        )
    page = await admin.get(f"/panel/olts/onus/{onu_id}")
    assert (
        page.status_code == 200
        and "<svg" in page.text
        and "<polyline" in page.text
        and "mapped by the rule" in page.text
    )
    unknown = await admin.post(f"/panel/olts/onus/{onu_id}/map", data={"_csrf_token": token, "customer_code": "C-9999"})
    assert unknown.status_code == 422 and "No customer has the code" in unknown.text
    assert (
        await admin.post(f"/panel/olts/onus/{onu_id}/map", data={"_csrf_token": token, "customer_code": "C-0003"})
    ).status_code == 303
    assert "set by hand" in (await admin.get(f"/panel/olts/onus/{onu_id}")).text

    customer_page = await admin.get(f"/panel/customers/{customer_id}")
    assert "Fibre (ONU)" in customer_page.text and "-29.40 dBm" in customer_page.text and "weak" in customer_page.text

    settings = await admin.post(
        "/panel/olts/settings",
        data={
            "_csrf_token": token,
            "rx_threshold_dbm": "-30",
            "match_onu_field": "description",
            "match_customer_field": "code",
        },
    )
    assert settings.status_code == 303
    assert (
        await admin.post("/panel/olts/settings", data={"_csrf_token": token, "rx_threshold_dbm": "x"})
    ).status_code == 422

    portal = make_client()
    csrf = csrf_of((await portal.get(f"/portal/{tenant.slug}/login")).text)
    await portal.post(
        f"/portal/{tenant.slug}/login", data={"login": "C-0003", "password": "portal password 1", "_csrf_token": csrf}
    )
    home = await portal.get(f"/portal/{tenant.slug}/")
    assert "Signal good" in home.text  # -29.4 dBm is above the new -30 dBm threshold
    assert "dBm" not in home.text

    stranger = make_client()
    await sign_in(stranger, await make_staff("operator_admin", other))
    assert (await stranger.get(f"/panel/olts/{olt_id}")).status_code == 404
    assert (await stranger.get(f"/panel/olts/onus/{onu_id}")).status_code == 404

    # Removing the OLT asks first, needs a reason, is for operator admins only, and takes the ONUs with it.
    staff = make_client()
    staff_token = await sign_in(staff, await make_staff("operator_staff", tenant))
    assert (await staff.get(f"/panel/olts/{olt_id}/remove")).status_code == 403
    assert (await stranger.get(f"/panel/olts/{olt_id}/remove")).status_code == 404
    question = await admin.get(f"/panel/olts/{olt_id}/remove")
    assert question.status_code == 200 and "Remove the OLT Mirpur OLT" in question.text and "5 ONUs" in question.text
    assert (
        await staff.post(f"/panel/olts/{olt_id}/remove", data={"_csrf_token": staff_token, "reason": "x"})
    ).status_code == 403
    unexplained = await admin.post(f"/panel/olts/{olt_id}/remove", data={"_csrf_token": token, "reason": "  "})
    assert unexplained.status_code == 422 and "reason is required" in unexplained.text
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM onu WHERE olt_id = $1", olt_id) == 5
    removed = await admin.post(
        f"/panel/olts/{olt_id}/remove", data={"_csrf_token": token, "reason": "POP closed, ONUs moved to Uttara"}
    )
    assert removed.status_code == 303 and removed.headers["location"] == "/panel/olts"
    assert "Mirpur OLT removed with its 5 ONUs" in (await admin.get("/panel/olts/")).text
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        assert await connection.fetchval("SELECT count(*) FROM olt") == 0
        assert await connection.fetchval("SELECT count(*) FROM onu") == 0
        assert await connection.fetchval("SELECT count(*) FROM onu_reading") == 0
        assert await connection.fetchval("SELECT count(*) FROM customer WHERE id = $1", customer_id) == 1
        logged = await connection.fetchrow("SELECT summary, details FROM activity_log WHERE action = 'olt.removed'")
    assert "POP closed, ONUs moved to Uttara" in logged["summary"] and '"customers_unlinked": 1' in logged["details"]
    assert (await admin.get(f"/panel/olts/{olt_id}")).status_code == 404
    assert (await admin.get(f"/panel/olts/onus/{onu_id}")).status_code == 404
    assert "Fibre (ONU)" not in (await admin.get(f"/panel/customers/{customer_id}")).text


async def test_a_walk_of_an_olt_removed_meanwhile_writes_nothing(db: Database, make_tenant):
    tenant = await make_tenant("oltgone")
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO olt (id, name, host, snmp_port, snmp_version, vendor, community_sealed)"
            " VALUES (1, 'Old', '127.0.0.1', 161, 'v2c', 'zte_gpon', 'sealed')"
        )
        olt = await queries.get_olt(1)
        assert olt is not None
        removed = await service.remove_olt(scope, 1)
        assert removed is not None and removed.name == "Old" and removed.onus == 0
        assert await service.remove_olt(scope, 1) is None  # a second removal finds nothing
    reading = OltReading(onus=onus_of("zte_gpon", 3), garbled=0, values=30)
    assert await sync_write(db, tenant, olt, reading, datetime.now(UTC)) == {"olts_removed_meanwhile": 1}
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM onu") == 0
