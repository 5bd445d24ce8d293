"""Routers and Packages → Routers: an operator admin adds, edits and tests routers; the pages show their state."""

import json
import socket

import pytest

from ispb_platform.secrets_box import Binding, Purpose, reveal
from ispb_tenants import Database, TenantRef
from peers.routeros import RouterOSPeer

SECRET = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY


@pytest.fixture(name="admin")
async def fx_admin(make_tenant, make_staff, make_client, sign_in):
    """A signed-in operator admin: (client, csrf token, tenant)."""
    tenant = await make_tenant("rtr")
    client = make_client()
    return client, await sign_in(client, await make_staff("operator_admin", tenant)), tenant


def _form(token: str, **fields: str) -> dict[str, str]:
    base = {"name": "Mirpur core", "host": "10.0.0.1", "api_port": "8728", "username": "ispb", "password": "api-pass"}
    return {"_csrf_token": token, "mode": "api", "coa_port": "3799", **base, **fields}


async def _router(db: Database, tenant: TenantRef, router_id: int) -> dict:
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow("SELECT * FROM router WHERE id = $1", router_id)
    return dict(row)


async def _activity(db: Database, tenant: TenantRef) -> list[str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT summary FROM activity_log WHERE action = 'router.saved' ORDER BY id"
        )
    return [row["summary"] for row in rows]


async def test_admin_adds_a_router_with_its_password_sealed(admin, db: Database):
    client, token, tenant = admin
    added = await client.post("/panel/routers/new", data=_form(token))
    assert added.status_code == 303
    router_id = int(added.headers["location"].rsplit("/", 1)[1])
    stored = await _router(db, tenant, router_id)
    assert (stored["name"], stored["host"], stored["api_port"]) == ("Mirpur core", "10.0.0.1", 8728)
    assert stored["mode"] == "api"
    assert stored["status"] == "unknown" and stored["radius_secret_sealed"] is None
    binding = Binding(tenant.id, Purpose.ROUTER_API_PASSWORD, router_id)
    assert reveal(SECRET, stored["password_sealed"], binding) == "api-pass"
    assert await _activity(db, tenant) == ["Saved router Mirpur core (10.0.0.1:8728, api)"]
    listing = await client.get("/panel/routers/")
    assert listing.status_code == 200 and "Mirpur core" in listing.text and "api-pass" not in listing.text


async def test_a_duplicate_name_comes_back_beside_the_field_without_the_secrets(admin, db: Database):
    client, token, tenant = admin
    assert (await client.post("/panel/routers/new", data=_form(token))).status_code == 303
    again = await client.post("/panel/routers/new", data=_form(token, host="10.0.0.2", password="other-secret"))
    assert again.status_code == 422
    assert "A router named &#39;Mirpur core&#39; already exists." in again.text and "10.0.0.2" in again.text
    assert "other-secret" not in again.text
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM router") == 1


async def test_a_duplicate_name_comes_back_with_the_other_field_errors(admin):
    client, token, _ = admin
    assert (await client.post("/panel/routers/new", data=_form(token))).status_code == 303
    again = await client.post("/panel/routers/new", data=_form(token, host="10.0.0.2", api_port="99999", username=""))
    assert again.status_code == 422
    assert "A router named &#39;Mirpur core&#39; already exists." in again.text
    assert again.text.count('<small class="error"') >= 3  # the name, the port and the user name, in one answer


async def test_editing_without_a_password_keeps_the_stored_one(admin, db: Database):
    client, token, tenant = admin
    added = await client.post(
        "/panel/routers/new", data=_form(token, mode="radius", nas_address="10.9.0.1", radius_secret="radius-secret")
    )
    router_id = int(added.headers["location"].rsplit("/", 1)[1])
    before = await _router(db, tenant, router_id)
    form = await client.get(f"/panel/routers/{router_id}/edit")
    assert form.status_code == 200 and 'value="10.9.0.1"' in form.text and "radius-secret" not in form.text

    edited = await client.post(
        f"/panel/routers/{router_id}/edit",
        data=_form(token, name="Mirpur edge", mode="radius", nas_address="10.9.0.2", password="", radius_secret=""),
    )
    assert edited.status_code == 303
    after = await _router(db, tenant, router_id)
    assert (after["name"], str(after["nas_address"])) == ("Mirpur edge", "10.9.0.2")
    assert after["password_sealed"] == before["password_sealed"]
    assert after["radius_secret_sealed"] == before["radius_secret_sealed"]
    assert after["updated_at"] >= before["updated_at"]
    assert (await client.get("/panel/routers/999999/edit")).status_code == 404


async def test_the_pages_count_customers_and_show_each_commands_result(admin, db: Database):
    client, token, tenant = admin
    added = await client.post("/panel/routers/new", data=_form(token))
    router_id = int(added.headers["location"].rsplit("/", 1)[1])
    async with db.tenant(tenant) as scope:
        customer_id = await scope.connection.fetchval(
            "INSERT INTO customer (code, name, phone, router_id) VALUES ('C-77', 'Rahim', '+8801711000077', $1)"
            " RETURNING id",
            router_id,
        )
        await scope.connection.execute(
            "INSERT INTO router_command (router_id, customer_id, action, status, payload) VALUES"
            " ($1, $2, 'suspend', 'done', $3::jsonb), ($1, $2, 'activate', 'pending', '{}')",
            router_id,
            customer_id,
            json.dumps({"result": {"listed": ["10.20.0.15"]}}),
        )
    listing = await client.get("/panel/routers/")
    row = listing.text.split(f'href="/panel/routers/{router_id}"')[1].split("</tr>")[0]
    assert '<td class="num">1</td><td class="num">1</td>' in row  # one customer, one pending command
    detail = await client.get(f"/panel/routers/{router_id}")
    assert detail.status_code == 200
    assert "C-77" in detail.text and "Rahim" in detail.text and "10.20.0.15" in detail.text
    assert detail.text.index("activate") < detail.text.index("suspend")  # newest first
    customer = await client.get(f"/panel/customers/{customer_id}")
    assert "On the router" in customer.text and "Mirpur core" in customer.text and "10.20.0.15" in customer.text
    assert (await client.get("/panel/routers/999999")).status_code == 404


async def test_test_connection_shows_the_routers_answer_and_records_it(admin, db: Database):
    client, token, tenant = admin
    async with RouterOSPeer(username="ispb", password="router-pass") as peer:
        added = await client.post(
            "/panel/routers/new",
            data=_form(token, host=peer.host, api_port=str(peer.port), password="router-pass"),
        )
        router_id = int(added.headers["location"].rsplit("/", 1)[1])
        answer = await client.post(f"/panel/routers/{router_id}/test", data={"_csrf_token": token})
    assert answer.status_code == 200 and "The router answered" in answer.text
    stored = await _router(db, tenant, router_id)
    assert stored["status"] == "up" and stored["identity"] and stored["last_checked_at"] is not None
    assert (await client.post("/panel/routers/999999/test", data={"_csrf_token": token})).status_code == 404


async def test_a_router_that_does_not_answer_is_marked_down_with_its_error(admin, db: Database):
    client, token, tenant = admin
    async with RouterOSPeer(username="ispb", password="router-pass") as peer:
        added = await client.post(
            "/panel/routers/new",
            data=_form(token, host=peer.host, api_port=str(peer.port), password="wrong-pass"),
        )
        router_id = int(added.headers["location"].rsplit("/", 1)[1])
        answer = await client.post(f"/panel/routers/{router_id}/test", data={"_csrf_token": token})
    assert "The router refused the user &#39;ispb&#39; or its password. Check the API user on the router" in answer.text
    assert "<small>RouterLoginFailed: " in answer.text  # the technical detail, in the small line
    stored = await _router(db, tenant, router_id)
    assert stored["status"] == "down" and stored["last_error"] and stored["identity"] == ""


async def test_a_closed_api_port_is_explained_in_words_an_operator_acts_on(admin, db: Database):
    client, token, tenant = admin
    with socket.socket() as probe:  # a free port: bound here, released before the test connects
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    added = await client.post("/panel/routers/new", data=_form(token, host="127.0.0.1", api_port=str(port)))
    router_id = int(added.headers["location"].rsplit("/", 1)[1])
    answer = await client.post(f"/panel/routers/{router_id}/test", data={"_csrf_token": token})
    assert answer.status_code == 200
    check = answer.text.split('id="router-check">')[1].split("</div>")[0]
    advice, detail = check.split("<small>")
    assert f"Nothing answered at 127.0.0.1:{port}: the router refused the connection." in advice
    assert "API service is enabled" in advice and "firewall allows ISPB" in advice
    assert "RouterRefused" not in advice and "Connect call failed" not in advice and "Errno" not in advice
    assert detail.startswith(f"RouterRefused: 127.0.0.1:{port}: ")
    stored = await _router(db, tenant, router_id)
    assert stored["status"] == "down" and stored["last_error"].startswith("RouterRefused: ")
