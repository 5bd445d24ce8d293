"""Settings → Staff Users: an operator admin adds, edits, disables and re-enables the panel's people."""

import pytest

from ispb_tenants import Database, TenantRef

NEW_PASSWORD = "a staff password 2026"


@pytest.fixture(name="admin")
async def fx_admin(make_tenant, make_staff, make_client, sign_in):
    """A signed-in operator admin: (client, csrf token, tenant, own e-mail)."""
    tenant = await make_tenant("staff")
    email = await make_staff("operator_admin", tenant)
    client = make_client()
    return client, await sign_in(client, email), tenant, email


async def _user_id(db: Database, email: str) -> int:
    return int(await db.fetchval("SELECT id FROM platform.platform_user WHERE lower(email) = lower($1)", email))


async def _add(client, token: str, email: str, role: str = "operator_staff"):
    return await client.post(
        "/panel/staff/",
        data={
            "_csrf_token": token,
            "user_name": "Nasrin Sultana",
            "email": email,
            "password": NEW_PASSWORD,
            "role": role,
        },
    )


async def _activity(db: Database, tenant: TenantRef) -> list[str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT action FROM activity_log WHERE object_type = 'staff' ORDER BY id")
    return [row["action"] for row in rows]


async def test_admin_adds_a_person_who_can_then_sign_in(admin, db: Database, make_client, sign_in):
    client, token, tenant, _ = admin
    email = f"nasrin.{tenant.slug}@isp.test"
    answer = await _add(client, token, email)
    assert answer.status_code == 303 and answer.headers["location"] == "/panel/staff"
    page = await client.get("/panel/staff")
    assert "Nasrin Sultana" in page.text and email in page.text
    stored = await db.fetchval("SELECT password_hash FROM platform.platform_user WHERE email = $1", email)
    assert stored.startswith("$argon2id$")
    assert await _activity(db, tenant) == ["staff.added"]

    newcomer = make_client()
    await sign_in(newcomer, email, NEW_PASSWORD)
    assert (await newcomer.get("/panel/customers")).status_code == 200
    assert (await newcomer.get("/panel/staff")).status_code == 403  # staff do not manage staff
    assert 'href="/panel/staff"' not in (await newcomer.get("/panel/")).text  # nor see the link


async def test_bad_input_is_shown_beside_the_field_and_kept(admin):
    client, token, _, admin_email = admin
    answer = await client.post(
        "/panel/staff/",
        data={"_csrf_token": token, "user_name": "Kamal", "email": "kamal-at-isp", "password": "short", "role": "x"},
    )
    assert answer.status_code == 422
    assert "Enter an e-mail address" in answer.text and "Use at least 10 characters" in answer.text
    assert 'value="Kamal"' in answer.text and 'value="kamal-at-isp"' in answer.text
    assert "short" not in answer.text  # a password is never echoed back
    taken = await _add(client, token, admin_email.upper())
    assert taken.status_code == 422 and "Another user already has this e-mail address." in taken.text


async def test_disabling_ends_sessions_and_enabling_lets_them_back(admin, db, make_client, sign_in):
    client, token, tenant, _ = admin
    email = f"rafiq.{tenant.slug}@isp.test"
    await _add(client, token, email)
    person = make_client()
    await sign_in(person, email, NEW_PASSWORD)
    user_id = await _user_id(db, email)

    disabled = await client.post(f"/panel/staff/{user_id}/status", data={"_csrf_token": token, "status": "disabled"})
    assert disabled.status_code == 303
    assert (await person.get("/panel/customers")).status_code == 303  # signed out at once, sent to /login
    refused = await make_client().post("/login", data={"email": email, "password": NEW_PASSWORD})
    assert refused.status_code != 303

    enabled = await client.post(f"/panel/staff/{user_id}/status", data={"_csrf_token": token, "status": "active"})
    assert enabled.status_code == 303
    await sign_in(make_client(), email, NEW_PASSWORD)
    assert await _activity(db, tenant) == ["staff.added", "staff.disabled", "staff.enabled"]


async def test_password_reset_and_role_change(admin, db, make_client, sign_in):
    client, token, tenant, _ = admin
    email = f"mitu.{tenant.slug}@isp.test"
    await _add(client, token, email)
    user_id = await _user_id(db, email)
    person = make_client()
    await sign_in(person, email, NEW_PASSWORD)

    form = {"_csrf_token": token, "user_name": "Mitu Akter", "role": "operator_admin", "password": "another long one"}
    saved = await client.post(f"/panel/staff/{user_id}/edit", data=form)
    assert saved.status_code == 303
    assert (await person.get("/panel/")).status_code == 303  # a new password signs them out everywhere
    promoted = make_client()
    await sign_in(promoted, email, "another long one")
    assert (await promoted.get("/panel/staff")).status_code == 200  # now an operator admin
    row = await db.pool.fetchrow("SELECT name, role FROM platform.platform_user WHERE id = $1", user_id)
    assert tuple(row) == ("Mitu Akter", "operator_admin")


async def test_an_operator_cannot_lock_itself_out(admin, db):
    client, token, tenant, admin_email = admin
    me = await _user_id(db, admin_email)
    own = await client.post(f"/panel/staff/{me}/status", data={"_csrf_token": token, "status": "disabled"})
    assert own.status_code == 409 and "cannot disable your own account" in own.text
    demote = await client.post(
        f"/panel/staff/{me}/edit", data={"_csrf_token": token, "user_name": "Me", "role": "operator_staff"}
    )
    assert demote.status_code == 422 and "cannot remove your own admin role" in demote.text

    other_admin = f"second.{tenant.slug}@isp.test"
    await _add(client, token, other_admin, role="operator_admin")
    other_id = await _user_id(db, other_admin)
    # with two admins, the other one may be demoted; then it is the only admin left and cannot be disabled
    ok = await client.post(
        f"/panel/staff/{other_id}/edit", data={"_csrf_token": token, "user_name": "Second", "role": "operator_staff"}
    )
    assert ok.status_code == 303
    assert await db.fetchval("SELECT role FROM platform.platform_user WHERE id = $1", me) == "operator_admin"


async def test_another_operators_people_are_not_found(admin, make_tenant, make_staff, db):
    client, token, _, _ = admin
    stranger = await _user_id(db, await make_staff("operator_staff", await make_tenant("other")))
    assert (await client.get(f"/panel/staff/{stranger}/edit")).status_code == 404
    answer = await client.post(f"/panel/staff/{stranger}/status", data={"_csrf_token": token, "status": "disabled"})
    assert answer.status_code == 404
    assert await db.fetchval("SELECT is_active FROM platform.platform_user WHERE id = $1", stranger) is True
