"""Settings → Staff Users: an operator admin invites, edits, disables and re-enables the panel's people."""

import hashlib
import re
from datetime import timedelta

import httpx
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


async def _invite(client, token: str, email: str, role: str = "operator_staff") -> httpx.Response:
    return await client.post(
        "/panel/staff/", data={"_csrf_token": token, "user_name": "Nasrin Sultana", "email": email, "role": role}
    )


def _link(answer: httpx.Response) -> str:
    """The invitation link's path, shown once on the answer to "add a person"."""
    match = re.search(r'value="https://isp\.test(/invite/[A-Za-z0-9_-]{43})"', answer.text)
    assert match, "no invitation link on the page"
    return match.group(1)


async def _accept(client, csrf_of, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    token = csrf_of((await client.get(path)).text)
    data = {"_csrf_token": token, "password": password, "password_again": password if again is None else again}
    return await client.post(path, data=data)


async def _add(client, token: str, email: str, make_client, csrf_of, role: str = "operator_staff") -> None:
    """Invite the person and accept the invitation as them."""
    invited = await _invite(client, token, email, role)
    assert invited.status_code == 200, invited.text[:300]
    assert (await _accept(make_client(), csrf_of, _link(invited))).status_code == 303


async def _activity(db: Database, tenant: TenantRef) -> list[str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT action FROM activity_log WHERE object_type = 'staff' ORDER BY id")
    return [row["action"] for row in rows]


async def test_admin_invites_a_person_who_chooses_a_password_and_can_then_sign_in(
    admin, db: Database, make_client, sign_in, csrf_of
):
    client, token, tenant, _ = admin
    email = f"nasrin.{tenant.slug}@isp.test"
    answer = await _invite(client, token, email)
    assert answer.status_code == 200 and f"Invitation for {email} created" in answer.text
    path = _link(answer)
    assert 'id="invitations"' in answer.text and email in answer.text  # listed as invited
    assert "/invite/" not in (await client.get("/panel/staff")).text  # the link is shown once
    stored = await db.pool.fetchrow(
        "SELECT token_hash, expires_at - created_at AS lifetime FROM platform.staff_invitation WHERE email = $1", email
    )
    assert stored["token_hash"] == hashlib.sha256(path.rsplit("/", 1)[1].encode()).hexdigest()  # only its hash
    assert stored["lifetime"] == timedelta(hours=72)
    assert await db.fetchval("SELECT count(*) FROM platform.platform_user WHERE email = $1", email) == 0

    newcomer = make_client()
    page = await newcomer.get(path)
    assert page.status_code == 200 and "Join Test ISP" in page.text and email in page.text
    mismatch = await _accept(newcomer, csrf_of, path, again="something else entirely")
    assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.text
    assert NEW_PASSWORD not in mismatch.text
    short = await _accept(newcomer, csrf_of, path, password="short")
    assert short.status_code == 422 and "Use at least 10 characters." in short.text
    joined = await _accept(newcomer, csrf_of, path)
    assert joined.status_code == 303 and joined.headers["location"] == "/panel/"
    assert (await newcomer.get("/panel/customers")).status_code == 200  # signed in as the new person
    stored_hash = await db.fetchval("SELECT password_hash FROM platform.platform_user WHERE email = $1", email)
    assert stored_hash.startswith("$argon2id$")
    assert await _activity(db, tenant) == ["staff.added"]
    used = await make_client().get(path)  # single use
    assert used.status_code == 410 and "This invitation has been used" in used.text
    assert 'id="invitations"' not in (await client.get("/panel/staff")).text  # no longer pending

    newcomer = make_client()
    await sign_in(newcomer, email, NEW_PASSWORD)
    assert (await newcomer.get("/panel/customers")).status_code == 200
    assert (await newcomer.get("/panel/staff")).status_code == 403  # staff do not manage staff
    assert 'href="/panel/staff"' not in (await newcomer.get("/panel/")).text  # nor see the link


async def test_a_pending_invitation_can_be_withdrawn_and_its_link_then_says_so(
    admin, db: Database, make_client, make_tenant, make_staff, sign_in, csrf_of
):
    client, token, tenant, _ = admin
    email = f"withdrawn.{tenant.slug}@isp.test"
    path = _link(await _invite(client, token, email))
    invitation_id, expires_at = await db.pool.fetchrow(
        "SELECT id, expires_at FROM platform.staff_invitation WHERE email = $1", email
    )
    listed = (await client.get("/panel/staff")).text.split('id="invitations"')[1].split("</table>")[0]
    assert email in listed and expires_at.strftime("%Y-%m-%d %H:%M") in listed  # pending, with its expiry
    revoke = f"/panel/staff/invitations/{invitation_id}/revoke"
    assert f'href="{revoke}"' in listed

    page = await client.get(revoke)
    assert page.status_code == 200 and 'id="confirm-form"' in page.text and email in page.text
    blank = await client.post(revoke, data={"_csrf_token": token, "reason": " "})
    assert blank.status_code == 422 and 'id="reason-message">Say why' in blank.text
    assert (await make_client().get(path)).status_code == 200  # still works: nothing changed
    other_admin = make_client()  # another operator's admin cannot see or withdraw it
    other_token = await sign_in(other_admin, await make_staff("operator_admin", await make_tenant("other")))
    assert (await other_admin.get(revoke)).status_code == 404
    assert (await other_admin.post(revoke, data={"_csrf_token": other_token, "reason": "x"})).status_code == 404

    done = await client.post(revoke, data={"_csrf_token": token, "reason": "Sent to the wrong address"})
    assert done.status_code == 303 and done.headers["location"] == "/panel/staff"
    staff_page = (await client.get("/panel/staff")).text
    assert f"Invitation of {email} withdrawn" in staff_page and 'id="invitations"' not in staff_page
    opened = await make_client().get(path)
    assert opened.status_code == 410 and "This invitation was withdrawn" in opened.text
    assert 'name="password"' not in opened.text
    accepted = await _accept(make_client(), csrf_of, path)
    assert accepted.status_code == 410 and "This invitation was withdrawn" in accepted.text
    assert await db.fetchval("SELECT count(*) FROM platform.platform_user WHERE email = $1", email) == 0
    async with db.tenant(tenant) as scope:
        logged = await scope.connection.fetchval(
            "SELECT summary FROM activity_log WHERE action = 'staff.invitation_revoked'"
        )
    assert logged == f"Withdrew the invitation of Nasrin Sultana <{email}>: Sent to the wrong address"
    assert logged in (await client.get("/panel/logs/activity")).text.replace("&lt;", "<").replace("&gt;", ">")
    assert (await client.post(revoke, data={"_csrf_token": token, "reason": "again"})).status_code == 404


async def test_bad_input_is_shown_beside_the_field_and_kept(admin):
    client, token, _, _ = admin
    answer = await client.post(
        "/panel/staff/", data={"_csrf_token": token, "user_name": "", "email": "kamal-at-isp", "role": "x"}
    )
    assert answer.status_code == 422
    assert "Enter the person&#39;s name." in answer.text and "Enter an e-mail address" in answer.text
    assert "Choose operator admin or operator staff." in answer.text and 'value="kamal-at-isp"' in answer.text


def _normalised(answer: httpx.Response, replacements: dict[str, str]) -> str:
    text = answer.text
    for value, placeholder in replacements.items():
        text = text.replace(value, placeholder)
    text = re.sub(r'(name="csrf-token" content=|name="_csrf_token" value=)"[^"]+"', r"\1CSRF", text)
    # the signed-in admin's own row, and the invitation's (its id counts invitations, never looks at the address)
    text = re.sub(r"/panel/staff/(invitations/)?\d+/", r"/panel/staff/\1ID/", text)
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "TIME", text)


async def test_adding_staff_answers_alike_whether_the_email_has_an_account_elsewhere(
    db: Database, make_tenant, make_staff, make_client, sign_in, csrf_of
):
    """An operator admin cannot learn from "add a person" whether an address belongs to another operator's
    person, the platform admin or nobody: the answers are the same but for the address and the link."""
    elsewhere = await make_staff("operator_staff", await make_tenant("else"))
    platform_admin = await make_staff("platform_admin")
    answers = []
    for email in (f"nobody.{platform_admin}", elsewhere, platform_admin, platform_admin.upper()):
        tenant = await make_tenant("same")
        admin_email = await make_staff("operator_admin", tenant)
        client = make_client()
        form = {"user_name": "Nasrin Sultana", "email": email, "role": "operator_staff", "password": NEW_PASSWORD}
        answer = await client.post("/panel/staff/", data=form | {"_csrf_token": await sign_in(client, admin_email)})
        link = re.search(r"/invite/([A-Za-z0-9_-]{43})", answer.text)
        replacements = {email: "EMAIL", admin_email: "ADMIN", tenant.name: "OPERATOR", tenant.slug: "SLUG"}
        replacements |= {link.group(1): "TOKEN"} if link else {}
        answers.append((answer.status_code, _normalised(answer, replacements)))
    assert all(answer == answers[0] for answer in answers[1:])
    assert answers[0][0] == 200 and "Invitation for EMAIL created" in answers[0][1]


async def test_an_invitation_to_an_address_with_an_account_makes_no_second_one(
    admin, db: Database, make_staff, make_tenant, make_client, csrf_of, sign_in
):
    client, token, tenant, _ = admin
    elsewhere = await make_staff("operator_staff", await make_tenant("else"))
    path = _link(await _invite(client, token, elsewhere.upper(), role="operator_admin"))
    page = await make_client().get(path)
    assert (
        page.status_code == 200
        and "You already have an ISPB account" in page.text
        and 'name="password"' not in page.text
    )
    tried = await _accept(make_client(), csrf_of, path, password="a password for a takeover")
    assert tried.status_code == 200 and "no second account was made" in tried.text
    rows = await db.pool.fetch(
        "SELECT tenant_id, role FROM platform.platform_user WHERE lower(email) = lower($1)", elsewhere
    )
    assert [(r["tenant_id"], r["role"]) for r in rows] == [(rows[0]["tenant_id"], "operator_staff")]
    assert rows[0]["tenant_id"] != tenant.id
    await sign_in(make_client(), elsewhere)  # their own password still works, untouched
    assert await _activity(db, tenant) == []


async def test_an_expired_invitation_link_does_not_work(admin, db: Database, make_client, csrf_of):
    client, token, tenant, _ = admin
    email = f"late.{tenant.slug}@isp.test"
    path = _link(await _invite(client, token, email))
    await db.pool.execute(
        "UPDATE platform.staff_invitation SET expires_at = now() - interval '1 second' WHERE email = $1", email
    )
    assert (await make_client().get(path)).status_code == 410
    late = await _accept(make_client(), csrf_of, path)
    assert late.status_code == 410 and "This invitation has expired" in late.text
    assert await db.fetchval("SELECT count(*) FROM platform.platform_user WHERE email = $1", email) == 0
    assert (await make_client().get("/invite/not-a-token")).status_code == 404


async def test_disabling_ends_sessions_and_enabling_lets_them_back(admin, db, make_client, sign_in, csrf_of):
    client, token, tenant, _ = admin
    email = f"rafiq.{tenant.slug}@isp.test"
    await _add(client, token, email, make_client, csrf_of)
    person = make_client()
    await sign_in(person, email, NEW_PASSWORD)
    user_id = await _user_id(db, email)

    disable = {"_csrf_token": token, "status": "disabled", "reason": "On leave"}
    disabled = await client.post(f"/panel/staff/{user_id}/status", data=disable)
    assert disabled.status_code == 303
    assert (await person.get("/panel/customers")).status_code == 303  # signed out at once, sent to /login
    refused = await make_client().post("/login", data={"email": email, "password": NEW_PASSWORD})
    assert refused.status_code != 303

    enabled = await client.post(f"/panel/staff/{user_id}/status", data={"_csrf_token": token, "status": "active"})
    assert enabled.status_code == 303
    await sign_in(make_client(), email, NEW_PASSWORD)
    assert await _activity(db, tenant) == ["staff.added", "staff.disabled", "staff.enabled"]


async def test_password_reset_and_role_change(admin, db, make_client, sign_in, csrf_of):
    client, token, tenant, _ = admin
    email = f"mitu.{tenant.slug}@isp.test"
    await _add(client, token, email, make_client, csrf_of)
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


async def test_an_operator_cannot_lock_itself_out(admin, db, make_client, csrf_of):
    client, token, tenant, admin_email = admin
    me = await _user_id(db, admin_email)
    own = await client.post(
        f"/panel/staff/{me}/status", data={"_csrf_token": token, "status": "disabled", "reason": "x"}
    )
    assert own.status_code == 409 and "cannot disable your own account" in own.text
    demote = await client.post(
        f"/panel/staff/{me}/edit", data={"_csrf_token": token, "user_name": "Me", "role": "operator_staff"}
    )
    assert demote.status_code == 422 and "cannot remove your own admin role" in demote.text

    other_admin = f"second.{tenant.slug}@isp.test"
    await _add(client, token, other_admin, make_client, csrf_of, role="operator_admin")
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
    disable = {"_csrf_token": token, "status": "disabled", "reason": "x"}
    assert (await client.get(f"/panel/staff/{stranger}/disable")).status_code == 404
    answer = await client.post(f"/panel/staff/{stranger}/status", data=disable)
    assert answer.status_code == 404
    assert await db.fetchval("SELECT is_active FROM platform.platform_user WHERE id = $1", stranger) is True
