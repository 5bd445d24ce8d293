"""Sign-in, sessions, CSRF, rate limits and security headers, through the real app."""

from datetime import UTC, datetime, timedelta

import pytest

from ispb_platform.auth.sessions import load_principal
from ispb_tenants import Database

GENERIC_ERROR = "The sign-in details are not correct."


async def test_sign_in_sets_a_host_only_secure_httponly_lax_session_cookie(make_client, make_staff, csrf_of):
    email = await make_staff("platform_admin")
    client = make_client()
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post(
        "/login", data={"email": email, "password": "correct horse battery staple", "_csrf_token": token}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("__Host-ispb_session="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= attributes
    assert not any(a.startswith("domain=") for a in attributes)


async def test_passwords_are_stored_as_argon2id(db: Database, make_staff):
    email = await make_staff("group_admin")
    stored = await db.fetchval("SELECT password_hash FROM platform.platform_user WHERE email = $1", email)
    assert stored.startswith("$argon2id$v=19$m=")
    memory_kib = int(stored.split("m=")[1].split(",")[0])
    assert memory_kib >= 19 * 1024  # OWASP minimum


async def test_wrong_password_and_unknown_account_get_the_same_answer(make_client, make_staff, csrf_of):
    email = await make_staff("platform_admin")
    answers = []
    for login in (email, "nobody-" + email):
        client = make_client()
        token = csrf_of((await client.get("/login")).text)
        answer = await client.post("/login", data={"email": login, "password": "wrong", "_csrf_token": token})
        answers.append((answer.status_code, GENERIC_ERROR in answer.text, f'value="{login}"' in answer.text))
    assert answers == [(401, True, True), (401, True, True)]


async def test_sign_in_rotates_the_session(make_client, make_staff, sign_in, db: Database):
    email = await make_staff("platform_admin")
    client = make_client()
    token = await sign_in(client, email)
    first = client.cookies["__Host-ispb_session"]
    again = await client.post(
        "/login", data={"email": email, "password": "correct horse battery staple", "_csrf_token": token}
    )
    assert again.status_code == 303
    second = client.cookies["__Host-ispb_session"]
    assert first != second
    assert await load_principal(db, first) is None  # the old session ended
    assert await load_principal(db, second) is not None


async def test_account_is_rate_limited_after_five_failures_without_revealing_it(make_client, make_staff, csrf_of):
    email = await make_staff("platform_admin")
    for login in (email, "ghost-" + email):  # a real and an unknown account are limited alike
        client = make_client()
        token = csrf_of((await client.get("/login")).text)
        for _ in range(5):
            await client.post("/login", data={"email": login, "password": "nope", "_csrf_token": token})
        locked = await client.post(
            "/login", data={"email": login, "password": "correct horse battery staple", "_csrf_token": token}
        )
        assert locked.status_code == 401
        assert "Too many sign-in attempts. Try again in 15 minutes." in locked.text


async def test_unsafe_request_without_csrf_token_is_refused(make_client, make_staff, sign_in):
    email = await make_staff("platform_admin")
    client = make_client()
    await sign_in(client, email)
    refused = await client.post("/logout")
    assert refused.status_code == 403
    refused_login = await make_client().post("/login", data={"email": email, "password": "x"})
    assert refused_login.status_code == 403


async def test_htmx_style_header_token_is_accepted(make_client, make_staff, sign_in):
    email = await make_staff("platform_admin")
    client = make_client()
    token = await sign_in(client, email)
    answer = await client.post("/logout", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert answer.status_code == 303


async def test_sign_out_everywhere_ends_every_session_of_the_person(make_client, make_staff, sign_in, db: Database):
    email = await make_staff("platform_admin")
    laptop, phone = make_client(), make_client()
    await sign_in(laptop, email)
    token = await sign_in(phone, email)
    laptop_session = laptop.cookies["__Host-ispb_session"]
    answer = await phone.post("/logout/everywhere", data={"_csrf_token": token})
    assert answer.status_code == 303
    assert await load_principal(db, laptop_session) is None
    assert (await laptop.get("/panel/customers")).status_code == 303


async def test_idle_session_expires(make_client, make_staff, sign_in, db: Database):
    email = await make_staff("platform_admin")
    client = make_client()
    await sign_in(client, email)
    session = client.cookies["__Host-ispb_session"]
    later = datetime.now(UTC) + timedelta(hours=13)
    assert await load_principal(db, session, now=later) is None


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/x", "/\\evil.test"])
async def test_next_parameter_cannot_send_people_to_another_site(make_client, make_staff, csrf_of, target):
    email = await make_staff("platform_admin")
    client = make_client()
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post(
        "/login",
        data={"email": email, "password": "correct horse battery staple", "next": target, "_csrf_token": token},
    )
    assert answer.headers["location"] == "/admin/"


async def test_suspended_operator_cannot_sign_in(make_client, make_staff, make_tenant, csrf_of, db: Database):
    tenant = await make_tenant("susp")
    email = await make_staff("operator_admin", tenant)
    await db.pool.execute("UPDATE platform.tenant SET status = 'suspended' WHERE id = $1", tenant.id)
    client = make_client()
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post(
        "/login", data={"email": email, "password": "correct horse battery staple", "_csrf_token": token}
    )
    assert answer.status_code == 401 and "suspended" in answer.text


async def test_every_response_carries_the_security_headers(make_client):
    answer = await make_client().get("/login")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
