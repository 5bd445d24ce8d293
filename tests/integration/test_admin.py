"""The admin console: provisioning operators, suspending and reactivating them, adding their users."""

import secrets

from ispb_tenants import Database, drop_tenant, get_tenant


async def test_admin_creates_an_operator_with_its_schema_and_first_admin(
    db: Database, make_client, make_staff, sign_in
):
    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    slug = f"new-isp-{secrets.token_hex(2)}"
    owner = f"owner@{slug}.test"
    form = {
        "_csrf_token": token,
        "name": "New ISP",
        "slug": slug,
        "timezone": "Asia/Dhaka",
        "currency": "bdt",
        "user_name": "Owner",
        "email": owner,
        "password": "a long enough password",
    }
    try:
        assert (await admin.post("/admin/operators/new", data=form)).status_code == 303
        tenant = await get_tenant(db, slug)
        assert tenant.currency == "BDT"
        assert await db.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", tenant.schema) == 1
        again = await admin.post("/admin/operators/new", data=form | {"email": "other@" + slug + ".test"})
        assert again.status_code == 422 and "already taken" in again.text
        assert "a long enough password" not in again.text  # passwords are never echoed
        dashboard = await admin.get("/admin/")
        assert "New ISP" in dashboard.text
        operator = make_client()
        await sign_in(operator, owner, "a long enough password")
        assert (await operator.get("/panel/")).status_code == 200
    finally:
        await db.pool.execute("DELETE FROM platform.platform_user WHERE email = $1", owner)
        await drop_tenant(db, slug)


async def test_bad_operator_form_keeps_input_and_names_each_problem(make_client, make_staff, sign_in):
    admin = make_client()
    token = await sign_in(admin, await make_staff("group_admin"))
    answer = await admin.post(
        "/admin/operators/new",
        data={
            "_csrf_token": token,
            "name": "Bad ISP",
            "slug": "Bad ISP",
            "timezone": "Mars/Olympus",
            "currency": "TAKA",
            "user_name": "",
            "email": "nope",
            "password": "short",
        },
    )
    assert answer.status_code == 422
    for message in (
        "lowercase letters",
        "time zone such as",
        "3-letter currency",
        "e-mail address",
        "at least 10 characters",
        "person&#39;s name",
    ):
        assert message in answer.text, message
    assert 'value="Bad ISP"' in answer.text


async def test_slug_and_email_clashes_come_with_the_other_field_errors_in_one_round(
    db: Database, make_client, make_staff, make_tenant, sign_in
):
    taken = await make_tenant("clash")
    someone = await make_staff("operator_staff", taken)
    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    form = {
        "_csrf_token": token,
        "name": "Clash ISP",
        "slug": taken.slug,
        "timezone": "Mars/Olympus",
        "currency": "BDT",
        "user_name": "Owner",
        "email": someone.upper(),  # the unique index compares lower(email)
        "password": "a long enough password",
    }
    answer = await admin.post("/admin/operators/new", data=form)
    assert answer.status_code == 422
    for message in ("already taken", "Another user already has this e-mail address", "time zone such as"):
        assert message in answer.text, message
    assert 'value="Clash ISP"' in answer.text and f'value="{someone.upper()}"' in answer.text
    assert await db.fetchval("SELECT count(*) FROM platform.tenant WHERE name = 'Clash ISP'") == 0
    # with the other fields right, both clashes are still named together and nothing is created
    again = await admin.post("/admin/operators/new", data=form | {"timezone": "Asia/Dhaka"})
    assert again.status_code == 422
    assert "already taken" in again.text and "Another user already has this e-mail address" in again.text
    # adding a user to an operator: the taken address comes with the short password, not after it
    user = {"_csrf_token": token, "user_name": "", "email": someone, "password": "short", "role": "operator_staff"}
    added = await admin.post(f"/admin/operators/{taken.slug}/users", data=user)
    assert added.status_code == 422
    for message in ("Another user already has this e-mail address", "at least 10 characters", "person&#39;s name"):
        assert message in added.text, message


async def test_suspending_an_operator_closes_its_panel_at_once(make_client, make_staff, make_tenant, sign_in):
    tenant = await make_tenant("close")
    admin, operator = make_client(), make_client()
    admin_token = await sign_in(admin, await make_staff("platform_admin"))
    await sign_in(operator, await make_staff("operator_admin", tenant))
    assert (await operator.get("/panel/")).status_code == 200
    status_url = f"/admin/operators/{tenant.slug}/status"
    suspend = {"_csrf_token": admin_token, "status": "suspended", "reason": "Unpaid platform fee"}
    assert (await admin.post(status_url, data=suspend)).status_code == 303
    assert (await operator.get("/panel/")).status_code == 303  # back to sign-in
    page = await admin.get(f"/admin/operators/{tenant.slug}")
    assert 'class="badge suspended"' in page.text
    assert (await admin.post(status_url, data={"_csrf_token": admin_token, "status": "active"})).status_code == 303


async def test_admin_adds_a_staff_user_to_an_operator(make_client, make_staff, make_tenant, sign_in, db: Database):
    tenant = await make_tenant("staff")
    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    email = f"cashier.{secrets.token_hex(2)}@isp.test"
    added = await admin.post(
        f"/admin/operators/{tenant.slug}/users",
        data={
            "_csrf_token": token,
            "user_name": "Cashier",
            "email": email,
            "password": "cashier password 1",
            "role": "operator_staff",
        },
    )
    assert added.status_code == 303
    try:
        staff = make_client()
        await sign_in(staff, email, "cashier password 1")
        assert (await staff.get("/panel/customers")).status_code == 200
        assert (await staff.get("/panel/packages/new")).status_code == 403  # staff cannot define packages
    finally:
        await db.pool.execute("DELETE FROM platform.platform_user WHERE email = $1", email)


async def test_admin_edits_an_operator_and_disables_its_user(make_client, make_staff, make_tenant, sign_in, db):
    tenant = await make_tenant("edit")
    operator_email = await make_staff("operator_admin", tenant)
    staff_email = await make_staff("operator_staff", tenant)
    admin = make_client()
    token = await sign_in(admin, await make_staff("group_admin"))

    form = await admin.get(f"/admin/operators/{tenant.slug}/edit")
    assert form.status_code == 200 and f'value="{tenant.name}"' in form.text and 'name="slug"' not in form.text
    bad = await admin.post(
        f"/admin/operators/{tenant.slug}/edit",
        data={"_csrf_token": token, "name": "Renamed Net", "timezone": "Mars/Olympus", "currency": "BDT"},
    )
    assert bad.status_code == 422 and "Enter a time zone" in bad.text and 'value="Renamed Net"' in bad.text
    assert 'name="netflow_retention_days" value="180"' in form.text
    kept = {"accounting_retention_months": "24", "netflow_retention_days": "0"}
    fields = {"_csrf_token": token, "name": "Renamed Net", "timezone": "Asia/Kolkata", "currency": "inr"}
    too_short = await admin.post(f"/admin/operators/{tenant.slug}/edit", data=fields | kept)
    assert too_short.status_code == 422 and "Keep NetFlow records for 1 to 3,650 days" in too_short.text
    kept["netflow_retention_days"] = "365"
    saved = await admin.post(f"/admin/operators/{tenant.slug}/edit", data=fields | kept)
    assert saved.status_code == 303
    row = await db.pool.fetchrow(
        "SELECT name, timezone, currency, accounting_retention_months, netflow_retention_days"
        " FROM platform.tenant WHERE id = $1",
        tenant.id,
    )
    assert tuple(row) == ("Renamed Net", "Asia/Kolkata", "INR", 24, 365)
    assert "accounting 24 months, NetFlow 365 days" in (await admin.get(f"/admin/operators/{tenant.slug}")).text

    staff = make_client()
    await sign_in(staff, staff_email)
    staff_id = await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", staff_email)
    status_url = f"/admin/operators/{tenant.slug}/users/{staff_id}/status"
    disable = {"_csrf_token": token, "status": "disabled", "reason": "Left the company"}
    assert (await admin.post(status_url, data=disable)).status_code == 303
    assert (await staff.get("/panel/")).status_code == 303  # signed out at once

    only_admin = await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", operator_email)
    refused = await admin.post(f"/admin/operators/{tenant.slug}/users/{only_admin}/status", data=disable)
    assert refused.status_code == 409 and "Suspend the operator instead" in refused.text
    async with db.tenant(tenant) as scope:
        actions = await scope.connection.fetch("SELECT action FROM activity_log ORDER BY id")
    assert [a["action"] for a in actions] == ["operator.updated", "staff.disabled"]


ONE_PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def test_operator_contact_details_and_logo_for_invoices(make_client, make_staff, make_tenant, sign_in, db):
    tenant = await make_tenant("logo")
    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    url = f"/admin/operators/{tenant.slug}/edit"
    fields = {
        "_csrf_token": token,
        "name": "Logo Net",
        "timezone": "Asia/Dhaka",
        "currency": "BDT",
        "address": "Road 1, Dhaka",
        "phone": "09610-1",
        "email": "not-an-email",
        "accounting_retention_months": "12",
        "netflow_retention_days": "180",
    }
    bad = await admin.post(url, data=fields, files={"logo": ("logo.png", b"GIF89a....", "image/png")})
    assert bad.status_code == 422
    assert (
        "PNG, JPEG or SVG" in bad.text and "Enter an e-mail address" in bad.text and 'value="Road 1, Dhaka"' in bad.text
    )
    fields["email"] = "billing@logo.test"
    saved = await admin.post(url, data=fields, files={"logo": ("logo.png", ONE_PIXEL_PNG, "application/octet-stream")})
    assert saved.status_code == 303
    row = await db.pool.fetchrow(
        "SELECT address, phone, email, logo, logo_type FROM platform.tenant WHERE id = $1", tenant.id
    )
    assert (row["address"], row["email"], bytes(row["logo"]), row["logo_type"]) == (
        "Road 1, Dhaka",
        "billing@logo.test",
        ONE_PIXEL_PNG,
        "image/png",
    )
    fields["remove_logo"] = "on"
    assert (await admin.post(url, data=fields)).status_code == 303
    assert await db.pool.fetchval("SELECT logo FROM platform.tenant WHERE id = $1", tenant.id) is None
