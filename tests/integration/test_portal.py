"""The customer portal: sign-in by customer id or mobile, own operator only, rate limits, password set by staff."""

from urllib.parse import quote

from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_tenants import Database


async def _operator_with_customers(db: Database, make_tenant, make_staff, make_client, sign_in, prefix: str):
    tenant = await make_tenant(prefix)
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, 3)
    staff = make_client()
    token = await sign_in(staff, await make_staff("operator_admin", tenant))
    return tenant, staff, token


async def _set_password(staff, token: str, customer_id: int, password: str) -> None:
    form = (await staff.get(f"/panel/customers/{customer_id}/edit")).text
    assert 'name="portal_password"' in form
    fields = {}
    for name in ("code", "name", "phone", "email", "address", "area", "status", "pppoe_username"):
        marker = f'name="{name}" value="'
        if marker in form:
            fields[name] = form.split(marker, 1)[1].split('"', 1)[0]
    fields["status"] = "active"
    answer = await staff.post(
        f"/panel/customers/{customer_id}/edit", data=fields | {"portal_password": password, "_csrf_token": token}
    )
    assert answer.status_code == 303, answer.text[:300]


async def _portal_sign_in(client, csrf_of, slug: str, login: str, password: str):
    token = csrf_of((await client.get(f"/portal/{slug}/login")).text)
    return await client.post(f"/portal/{slug}/login", data={"login": login, "password": password, "_csrf_token": token})


async def test_customer_signs_in_with_id_or_mobile_and_sees_their_dashboard(
    db: Database, make_tenant, make_staff, make_client, sign_in, csrf_of
):
    tenant, staff, token = await _operator_with_customers(db, make_tenant, make_staff, make_client, sign_in, "ptl")
    await _set_password(staff, token, 2, "portal pass 2")
    async with db.tenant(tenant) as scope:
        code, phone, name = await scope.connection.fetchrow("SELECT code, phone, name FROM customer WHERE id = 2")
    stored = await db.fetchval(f'SELECT password_hash FROM "{tenant.schema}".customer WHERE id = 2')
    assert stored.startswith("$argon2id$")
    for login in (code, phone, "0" + phone[-10:]):
        customer = make_client()
        answer = await _portal_sign_in(customer, csrf_of, tenant.slug, login, "portal pass 2")
        assert answer.status_code == 303 and answer.headers["location"] == f"/portal/{tenant.slug}/"
        dashboard = await customer.get(f"/portal/{tenant.slug}/")
        assert dashboard.status_code == 200 and name in dashboard.text and code in dashboard.text
        assert (await customer.get(f"/portal/{tenant.slug}/profile")).status_code == 200
        assert (await customer.get("/panel/customers")).status_code == 403  # customers never reach the panel


async def test_a_customer_is_a_stranger_in_another_operators_portal(
    db: Database, make_tenant, make_staff, make_client, sign_in, csrf_of
):
    home, staff, token = await _operator_with_customers(db, make_tenant, make_staff, make_client, sign_in, "pha")
    other, _, _ = await _operator_with_customers(db, make_tenant, make_staff, make_client, sign_in, "phb")
    await _set_password(staff, token, 1, "portal pass 1")
    customer = make_client()
    assert (await _portal_sign_in(customer, csrf_of, home.slug, "C000001", "portal pass 1")).status_code == 303
    for page in ("/", "/profile", "/bills/1/pdf"):  # another operator's portal asks them to sign in there
        answer = await customer.get(f"/portal/{other.slug}{page}")
        assert answer.status_code == 303, page
        target = quote(f"/portal/{other.slug}{page}".rstrip("/"), safe="")
        assert answer.headers["location"] == f"/portal/{other.slug}/login?next={target}"
    door = await customer.get(f"/portal/{other.slug}/login")
    assert door.status_code == 200 and 'name="password"' in door.text
    assert (await customer.get(f"/portal/{home.slug}/")).status_code == 200  # still signed in at home
    wrong_door = await _portal_sign_in(make_client(), csrf_of, other.slug, "C000001", "portal pass 1")
    assert wrong_door.status_code == 401  # the same id at another operator is another (password-less) person


async def test_portal_sign_in_failures_are_generic_and_rate_limited(
    db: Database, make_tenant, make_staff, make_client, sign_in, csrf_of
):
    tenant, staff, token = await _operator_with_customers(db, make_tenant, make_staff, make_client, sign_in, "prl")
    await _set_password(staff, token, 3, "portal pass 3")
    client = make_client()
    for _ in range(5):
        wrong = await _portal_sign_in(client, csrf_of, tenant.slug, "C000003", "guess")
        assert wrong.status_code == 401 and "The sign-in details are not correct." in wrong.text
        assert 'value="C000003"' in wrong.text
    locked = await _portal_sign_in(client, csrf_of, tenant.slug, "C000003", "portal pass 3")
    assert "Too many sign-in attempts" in locked.text


async def test_portal_guessing_from_one_address_does_not_lock_the_customer_out(
    db: Database, make_tenant, make_staff, make_client, sign_in, csrf_of
):
    tenant, staff, token = await _operator_with_customers(db, make_tenant, make_staff, make_client, sign_in, "pgl")
    await _set_password(staff, token, 2, "portal pass 2")
    attacker = make_client(ip="198.51.100.66")
    for _ in range(6):
        await _portal_sign_in(attacker, csrf_of, tenant.slug, "C000002", "guess")
    refused = await _portal_sign_in(attacker, csrf_of, tenant.slug, "C000002", "portal pass 2")
    assert refused.status_code == 401 and "Too many sign-in attempts. Try again in 15 minutes." in refused.text
    owner = await _portal_sign_in(make_client(ip="198.51.100.67"), csrf_of, tenant.slug, "C000002", "portal pass 2")
    assert owner.status_code == 303


async def test_short_portal_password_is_refused_beside_the_field(
    db: Database, make_tenant, make_staff, make_client, sign_in
):
    _, staff, token = await _operator_with_customers(db, make_tenant, make_staff, make_client, sign_in, "psh")
    answer = await staff.post(
        "/panel/customers/new",
        data={
            "_csrf_token": token,
            "code": "P-1",
            "name": "Short Pass",
            "phone": "01911000111",
            "portal_password": "abc",
        },
    )
    assert answer.status_code == 422 and "at least 8 characters" in answer.text
    assert "abc" not in answer.text.split('name="portal_password"')[1][:80]  # the password is not echoed


async def test_unknown_or_suspended_operator_portal_is_not_found(db: Database, make_tenant, make_client):
    client = make_client()
    assert (await client.get("/portal/no-such-isp/login")).status_code == 404
    tenant = await make_tenant("gone")
    await db.pool.execute("UPDATE platform.tenant SET status = 'suspended' WHERE id = $1", tenant.id)
    assert (await client.get(f"/portal/{tenant.slug}/login")).status_code == 404
