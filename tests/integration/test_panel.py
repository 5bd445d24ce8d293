"""The operator panel through its pages: customers, packages, billing profiles and the activity log."""

import re

import pytest

from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_tenants import Database


@pytest.fixture(name="operator")
async def fx_operator(db: Database, make_tenant, make_staff, make_client, sign_in):
    """A signed-in operator admin of a tenant with packages and 120 customers: (client, csrf, tenant)."""
    tenant = await make_tenant("panel")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, 120, seed=5)
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    return client, token, tenant


def _count(html: str) -> int:
    match = re.search(r'<p class="count">([\d,]+) customer', html)
    assert match, "no customer count on the page"
    return int(match.group(1).replace(",", ""))


async def test_customer_list_pages_and_filters(operator, db: Database):
    client, _, tenant = operator
    page = await client.get("/panel/customers")
    assert page.status_code == 200 and _count(page.text) == 120 and "Page 1 of 3" in page.text
    last = await client.get("/panel/customers?page=3")
    assert last.text.count('<tr><td data-label="Customer id"><a href="/panel/customers/') == 20
    assert "Page 3 of 3" in (await client.get("/panel/customers?page=99")).text  # clamped, not an error
    async with db.tenant(tenant) as scope:
        suspended = await scope.connection.fetchval("SELECT count(*) FROM customer WHERE status = 'suspended'")
        area, in_area = await scope.connection.fetchrow(
            "SELECT area, count(*) FROM customer GROUP BY area ORDER BY 2 DESC LIMIT 1"
        )
    assert _count((await client.get("/panel/customers?status=suspended")).text) == suspended
    assert _count((await client.get("/panel/customers", params={"area": area})).text) == in_area


async def test_live_search_returns_only_the_table_for_htmx(operator, db: Database):
    client, _, tenant = operator
    async with db.tenant(tenant) as scope:
        name, code, phone = await scope.connection.fetchrow("SELECT name, code, phone FROM customer WHERE id = 7")
    answer = await client.get("/panel/customers", params={"q": code}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "<html" not in answer.text and _count(answer.text) == 1
    local_phone = "0" + phone[-10:]
    assert _count((await client.get("/panel/customers", params={"q": local_phone[:8]})).text) >= 1
    first, last = name.split()[0], name.split()[-1]
    found = await client.get("/panel/customers", params={"q": f"{first[:3]} {last[:3]}"})
    assert code in found.text


@pytest.mark.parametrize("sort_matches_up_to", [0, 10_000])
async def test_a_search_page_is_newest_first_whichever_way_it_is_read(
    operator, db: Database, monkeypatch, sort_matches_up_to
):
    """Few matches are sorted from the matches, many are read along the primary key: the same page either way."""
    monkeypatch.setattr("ispb_platform.customers.queries.SORT_MATCHES_UP_TO", sort_matches_up_to)
    client, _, tenant = operator
    async with db.tenant(tenant) as scope:
        expected = [
            r["code"]
            for r in await scope.connection.fetch(
                "SELECT code FROM customer WHERE search @@ to_tsquery('simple', 'c0000:*')"
                " ORDER BY id DESC LIMIT 50 OFFSET 50"
            )
        ]
    page = await client.get("/panel/customers", params={"q": "C0000", "page": "2"})
    shown = re.findall(r'<td data-label="Customer id"><a href="/panel/customers/\d+">([^<]+)</a>', page.text)
    assert len(expected) == 49 and shown == expected


async def test_creating_a_customer_with_errors_keeps_what_was_typed(operator):
    client, token, _ = operator
    answer = await client.post(
        "/panel/customers/new",
        data={"_csrf_token": token, "code": "NEW-1", "name": "", "phone": "12", "address": "House 9, Road 2"},
    )
    assert answer.status_code == 422
    assert "Enter the customer&#39;s name." in answer.text or "Enter the customer's name." in answer.text
    assert 'value="NEW-1"' in answer.text and 'value="House 9, Road 2"' in answer.text and 'value="12"' in answer.text


async def test_a_taken_customer_id_and_username_come_back_with_the_other_field_errors(operator, db: Database):
    client, token, tenant = operator
    async with db.tenant(tenant) as scope:
        first, second = await scope.connection.fetch(
            "SELECT id, code, pppoe_username FROM customer WHERE pppoe_username IS NOT NULL ORDER BY id LIMIT 2"
        )
    clash = {"_csrf_token": token, "code": first["code"], "pppoe_username": first["pppoe_username"]}
    for url in ("/panel/customers/new", f"/panel/customers/{second['id']}/edit"):
        answer = await client.post(url, data=clash | {"name": "", "phone": "12", "status": "active"})
        assert answer.status_code == 422, url
        html = answer.text.replace("&#39;", "'")
        for message in (
            f"Customer id {first['code']} is already taken.",
            f"Another customer already uses {first['pppoe_username']}.",
            "Enter the customer's name.",
            "Enter a mobile number such as",
        ):
            assert message in html, (url, message)
    own = await client.post(  # a customer's own id and username are not a clash on edit
        f"/panel/customers/{first['id']}/edit", data=clash | {"name": "", "phone": "12", "status": "active"}
    )
    assert own.status_code == 422 and "already" not in own.text


async def test_a_taken_package_or_profile_name_comes_back_with_the_other_field_errors(operator):
    client, token, _ = operator
    package = await client.post(
        "/panel/packages/new",
        data={"_csrf_token": token, "name": "Home 10 Mbps", "price": "-5", "download_mbps": "10", "upload_mbps": "10"},
    )
    assert package.status_code == 422
    assert "already exists" in package.text and 'name="price"' in package.text and "-5" in package.text
    assert package.text.count('<small class="error"') >= 2  # the name and the price, in one answer
    fields = {"_csrf_token": token, "cycle": "monthly", "billing_day": "1", "due_days": "7", "grace_days": "3"}
    assert (await client.post("/panel/billing-profiles/new", data=fields | {"name": "Twice"})).status_code == 303
    profile = await client.post("/panel/billing-profiles/new", data=fields | {"name": "Twice", "billing_day": "99"})
    assert profile.status_code == 422 and "already exists" in profile.text
    assert profile.text.count('<small class="error"') >= 2  # the name and the billing day


async def test_create_edit_disable_and_the_activity_log(operator, db: Database):
    client, token, tenant = operator
    created = await client.post(
        "/panel/customers/new",
        data={"_csrf_token": token, "code": "NEW-2", "name": "Nusrat Jahan", "phone": "01811-222333", "package": "1"},
    )
    assert created.status_code == 303
    url = created.headers["location"]
    duplicate = await client.post(
        "/panel/customers/new",
        data={"_csrf_token": token, "code": "NEW-2", "name": "Someone Else", "phone": "01811-222334"},
    )
    assert duplicate.status_code == 422 and "Customer id NEW-2 is already taken." in duplicate.text
    edited = await client.post(
        url + "/edit",
        data={
            "_csrf_token": token,
            "code": "NEW-2",
            "name": "Nusrat Jahan Chowdhury",
            "phone": "+8801811222333",
            "status": "active",
            "area": "Banani",
        },
    )
    assert edited.status_code == 303
    assert (await client.post(url + "/disable", data={"_csrf_token": token, "reason": "Moved away"})).status_code == 303
    detail = await client.get(url)
    assert "Nusrat Jahan Chowdhury" in detail.text and 'class="badge disabled"' in detail.text
    async with db.tenant(tenant) as scope:
        log = await scope.connection.fetch("SELECT action, actor, ip FROM activity_log ORDER BY id")
    actions = [r["action"] for r in log]
    assert actions[-3:] == ["customer.created", "customer.updated", "customer.disabled"]
    assert all(r["ip"] == "203.0.113.7" and "Test operator_admin" in r["actor"] for r in log[-3:])
    page = await client.get("/panel/logs/activity")
    assert "Disabled NEW-2" in page.text and "203.0.113.7" in page.text


async def test_packages_store_money_as_minor_units_and_validate_fup(operator, db: Database):
    client, token, tenant = operator
    bad = await client.post(
        "/panel/packages/new",
        data={
            "_csrf_token": token,
            "name": "Night Owl",
            "price": "12.345",
            "download_mbps": "20",
            "upload_mbps": "5",
            "fup_download_mbps": "2",
        },
    )
    assert bad.status_code == 422 and "at most 2 decimals" in bad.text and "needs a data allowance" in bad.text
    good = await client.post(
        "/panel/packages/new",
        data={
            "_csrf_token": token,
            "name": "Night Owl",
            "price": "1,200.50",
            "vat_rate": "7.5",
            "download_mbps": "20",
            "upload_mbps": "5",
            "data_allowance_gb": "200",
            "fup_download_mbps": "2",
            "validity_days": "30",
            "is_active": "on",
        },
    )
    assert good.status_code == 303
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow("SELECT * FROM package WHERE name = 'Night Owl'")
    assert (row["price_minor"], row["vat_rate_bp"], row["download_kbps"], row["fup_download_kbps"]) == (
        120050,
        750,
        20000,  # decimal, as RouterOS's 20M
        2000,
    )
    assert row["data_allowance_mb"] == 204800 and row["is_active"]
    listing = await client.get("/panel/packages")
    assert "1,200.50" in listing.text and "200 GB, then 2 Mbps" in listing.text


async def test_only_one_billing_profile_is_the_default(operator, db: Database):
    client, token, tenant = operator
    answer = await client.post(
        "/panel/billing-profiles/new",
        data={
            "_csrf_token": token,
            "name": "Corporate",
            "cycle": "monthly",
            "billing_day": "31",
            "due_days": "10",
            "grace_days": "5",
            "auto_suspend": "on",
            "is_default": "on",
        },
    )
    assert answer.status_code == 303
    bad = await client.post(
        "/panel/billing-profiles/new",
        data={"_csrf_token": token, "name": "Broken", "billing_day": "32", "due_days": "x", "grace_days": "1"},
    )
    assert bad.status_code == 422 and "from 1 to 31" in bad.text
    async with db.tenant(tenant) as scope:
        defaults = await scope.connection.fetch("SELECT name, auto_activate FROM billing_profile WHERE is_default")
    assert [(r["name"], r["auto_activate"]) for r in defaults] == [("Corporate", False)]


async def test_a_default_profile_refused_for_its_name_leaves_the_default_alone(operator, db: Database):
    client, token, tenant = operator
    fields = {"_csrf_token": token, "cycle": "monthly", "billing_day": "1", "due_days": "7", "grace_days": "3"}
    assert (await client.post("/panel/billing-profiles/new", data=fields | {"name": "Home"})).status_code == 303
    async with db.tenant(tenant) as scope:
        before = await scope.connection.fetch("SELECT name FROM billing_profile WHERE is_default")
    clash = await client.post("/panel/billing-profiles/new", data=fields | {"name": "Home", "is_default": "on"})
    assert clash.status_code == 422 and "already exists" in clash.text and 'value="Home"' in clash.text
    async with db.tenant(tenant) as scope:
        after = await scope.connection.fetch("SELECT name FROM billing_profile WHERE is_default")
    assert len(before) == 1 and after == before


async def test_package_and_profile_edits_show_stored_values_and_404_for_unknown_ids(operator, db: Database):
    client, token, tenant = operator
    async with db.tenant(tenant) as scope:
        package_id = await scope.connection.fetchval("SELECT id FROM package ORDER BY id LIMIT 1")
        profile_id = await scope.connection.fetchval("SELECT id FROM billing_profile WHERE is_default")
    package = await client.get(f"/panel/packages/{package_id}/edit")
    assert package.status_code == 200 and 'name="price"' in package.text
    profile = await client.get(f"/panel/billing-profiles/{profile_id}/edit")
    assert profile.status_code == 200 and 'name="billing_day"' in profile.text
    for url in ("/panel/packages/999999/edit", "/panel/billing-profiles/999999/edit"):
        assert (await client.get(url)).status_code == 404
        assert (await client.post(url, data={"_csrf_token": token, "name": "X"})).status_code == 404
    renamed = await client.post(
        f"/panel/billing-profiles/{profile_id}/edit",
        data={"_csrf_token": token, "name": "Renamed", "billing_day": "5", "due_days": "7", "grace_days": "3"},
    )
    assert renamed.status_code == 303
    async with db.tenant(tenant) as scope:
        stored = await scope.connection.fetchrow(
            "SELECT name, billing_day FROM billing_profile WHERE id = $1", profile_id
        )
    assert tuple(stored) == ("Renamed", 5)


async def test_duplicate_package_name_is_reported_beside_the_field(operator):
    client, token, _ = operator
    answer = await client.post(
        "/panel/packages/new",
        data={"_csrf_token": token, "name": "Home 10 Mbps", "price": "500", "download_mbps": "10", "upload_mbps": "10"},
    )
    assert answer.status_code == 422 and "already exists" in answer.text and 'value="Home 10 Mbps"' in answer.text


async def test_csv_import_keeps_good_rows_and_reports_bad_ones_by_line(operator, db: Database):
    client, token, tenant = operator
    csv = (
        "Customer ID,Name,Mobile,Package,Zone\n"
        "IMP-1,Karim Uddin,01711-555001,Home 10 Mbps,Mirpur-10\n"
        "IMP-2,,01711-555002,Home 10 Mbps,Mirpur-10\n"
        "IMP-3,রহিম উদ্দিন,01711-555003,,Banani\n"
        "IMP-4,Bad Package,01711-555004,Gold Plan,Banani\n"
    ).encode()
    answer = await client.post(
        "/panel/customers/import", data={"_csrf_token": token}, files={"file": ("customers.csv", csv, "text/csv")}
    )
    assert answer.status_code == 200
    assert "Imported 2 customers;" in answer.text and "2 rows rejected." in answer.text
    errors = answer.text.split('class="row-errors"')[1]
    assert '<td class="num">3</td><td>name</td>' in errors and '<td class="num">5</td><td>package</td>' in errors
    async with db.tenant(tenant) as scope:
        names = await scope.connection.fetch("SELECT name FROM customer WHERE code LIKE 'IMP-%' ORDER BY code")
    assert [r["name"] for r in names] == ["Karim Uddin", "রহিম উদ্দিন"]


async def test_csv_import_without_a_file_or_with_a_broken_file_says_why(operator):
    client, token, _ = operator
    empty = await client.post(
        "/panel/customers/import", data={"_csrf_token": token}, files={"file": ("", b"", "text/csv")}
    )
    assert empty.status_code == 400 and "Choose a CSV file" in empty.text
    broken = await client.post(
        "/panel/customers/import",
        data={"_csrf_token": token},
        files={"file": ("x.csv", b"name,phone\nA,1\n", "text/csv")},
    )
    assert broken.status_code == 422 and "code" in broken.text


async def test_a_validity_package_needs_a_daily_billing_profile_and_the_panel_says_why(operator, db: Database):
    """A 1-day package on a monthly profile would be billed a month at a day's price: the customer form, the
    profile form and the package form refuse to make that pairing, each with the reason beside the field."""
    client, token, tenant = operator
    async with db.tenant(tenant) as scope:
        hotspot = await scope.connection.fetchval("SELECT id FROM package WHERE name = 'Daily Hotspot 1 Day'")
        home = await scope.connection.fetchval("SELECT id FROM package WHERE name = 'Home 10 Mbps'")
        daily, monthly = (
            await scope.connection.fetchval("SELECT id FROM billing_profile WHERE cycle = 'daily'"),
            await scope.connection.fetchval("SELECT id FROM billing_profile WHERE is_default"),
        )
    customer = {"_csrf_token": token, "code": "HOT-1", "name": "Sadia Islam", "phone": "01911-000111"}
    refused = await client.post("/panel/customers/new", data=customer | {"package": str(hotspot)})
    assert refused.status_code == 422
    text = refused.text.replace("&#39;", "'")
    assert "Daily Hotspot 1 Day is valid for 1 day, but the billing profile Standard monthly" in text
    assert "Choose a daily billing profile for the customer, or a monthly package." in text
    assert 'value="HOT-1"' in text and 'name="billing_profile"' in text
    explicit = await client.post(
        "/panel/customers/new", data=customer | {"package": str(hotspot), "billing_profile": str(monthly)}
    )
    assert explicit.status_code == 422
    created = await client.post(
        "/panel/customers/new", data=customer | {"package": str(hotspot), "billing_profile": str(daily)}
    )
    assert created.status_code == 303
    async with db.tenant(tenant) as scope:
        stored = await scope.connection.fetchrow(
            "SELECT package_id, billing_profile_id FROM customer WHERE code = 'HOT-1'"
        )
    assert tuple(stored) == (hotspot, daily)
    edit = await client.get(created.headers["location"] + "/edit")
    assert f'<option value="{daily}" selected>' in edit.text

    profile = {"_csrf_token": token, "name": "Prepaid daily", "billing_day": "1", "due_days": "0", "grace_days": "1"}
    to_monthly = await client.post(f"/panel/billing-profiles/{daily}/edit", data=profile | {"cycle": "monthly"})
    assert to_monthly.status_code == 422 and "with a validity package (Daily Hotspot 1 Day" in to_monthly.text
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT cycle FROM billing_profile WHERE id = $1", daily) == "daily"

    package = {
        "_csrf_token": token,
        "name": "Home 10 Mbps",
        "price": "500",
        "download_mbps": "10",
        "upload_mbps": "10",
        "is_active": "on",
    }
    weekly = await client.post(f"/panel/packages/{home}/edit", data=package | {"validity_days": "7"})
    assert weekly.status_code == 422 and "billed monthly (billing profile Standard monthly)" in weekly.text
    assert (
        await client.post(f"/panel/packages/{home}/edit", data=package | {"validity_days": "31"})
    ).status_code == 303


async def test_a_parked_customer_shows_why_and_is_billed_after_the_operator_fixes_it(operator, db: Database):
    from datetime import UTC, date, datetime

    from factories import make_customer
    from ispb_platform.billing.jobs import generate_bills
    from ispb_platform.jobs.job import JobContext

    client, token, tenant = operator
    async with db.tenant(tenant) as scope:
        hotspot = await scope.connection.fetchval("SELECT id FROM package WHERE name = 'Daily Hotspot 1 Day'")
        daily = await scope.connection.fetchval("SELECT id FROM billing_profile WHERE cycle = 'daily'")
        # from before the rule (or an import): the hotspot on the monthly default profile
        wrong = await make_customer(scope, code="OLD-HOT", package_id=hotspot, connection_date=date(2026, 11, 1))
    ctx = JobContext(db=db, today=date(2026, 12, 1), now=datetime.now(UTC), tenant=tenant)
    assert (await generate_bills(ctx))["parked"] >= 1
    page = await client.get(f"/panel/customers/{wrong}")
    assert "Not billed since 2026-12-01: Daily Hotspot 1 Day is valid for 1 day" in page.text.replace("&#39;", "'")
    fixed = await client.post(
        f"/panel/customers/{wrong}/edit",
        data={
            "_csrf_token": token,
            "code": "OLD-HOT",
            "name": "Rahim Uddin",
            "phone": "+8801711000001",
            "status": "active",
            "package": str(hotspot),
            "billing_profile": str(daily),
        },
    )
    assert fixed.status_code == 303
    assert "Not billed since" not in (await client.get(f"/panel/customers/{wrong}")).text
    again = JobContext(db=db, today=date(2026, 12, 2), now=datetime.now(UTC), tenant=tenant)
    await generate_bills(again)
    async with db.tenant(tenant) as scope:
        bills = await scope.connection.fetch("SELECT period_start, period_end FROM bill WHERE customer_id = $1", wrong)
    assert [tuple(b) for b in bills] == [(date(2026, 12, 2), date(2026, 12, 2))]


async def test_csv_import_refuses_a_validity_package_the_default_monthly_profile_cannot_bill(operator, db: Database):
    """Imported customers go on the default profile; a monthly one would bill the 1-day hotspot a month."""
    client, token, tenant = operator
    csv = (
        b"Customer ID,Name,Mobile,Package\n"
        b"IMP-H1,Karim Uddin,01711-555101,Home 10 Mbps\n"
        b"IMP-H2,Sadia Islam,01711-555102,Daily Hotspot 1 Day\n"
    )
    answer = await client.post(
        "/panel/customers/import", data={"_csrf_token": token}, files={"file": ("customers.csv", csv, "text/csv")}
    )
    assert answer.status_code == 200 and "Imported 1 customer;" in answer.text and "1 row rejected." in answer.text
    errors = answer.text.split('class="row-errors"')[1].replace("&#39;", "'")
    assert '<td class="num">3</td><td>package</td>' in errors
    assert "Daily Hotspot 1 Day is valid for 1 day" in errors and "add this customer in the panel" in errors
    async with db.tenant(tenant) as scope:
        codes = await scope.connection.fetch("SELECT code FROM customer WHERE code LIKE 'IMP-H%'")
    assert [r["code"] for r in codes] == ["IMP-H1"]


async def test_turning_a_profile_daily_releases_its_parked_validity_customers(operator, db: Database):
    from datetime import UTC, date, datetime

    from factories import make_billing_profile, make_customer
    from ispb_platform.billing.jobs import generate_bills
    from ispb_platform.jobs.job import JobContext

    client, token, tenant = operator
    async with db.tenant(tenant) as scope:
        hotspot = await scope.connection.fetchval("SELECT id FROM package WHERE name = 'Daily Hotspot 1 Day'")
        hotspots = await make_billing_profile(scope, name="Hotspot users", cycle="monthly")
        parked = await make_customer(
            scope, code="HS-1", package_id=hotspot, billing_profile_id=hotspots, connection_date=date(2026, 11, 1)
        )
    await generate_bills(JobContext(db=db, today=date(2026, 12, 1), now=datetime.now(UTC), tenant=tenant))
    daily = {"_csrf_token": token, "name": "Hotspot users", "cycle": "daily", "due_days": "0", "grace_days": "1"}
    assert (await client.post(f"/panel/billing-profiles/{hotspots}/edit", data=daily)).status_code == 303
    await generate_bills(JobContext(db=db, today=date(2026, 12, 2), now=datetime.now(UTC), tenant=tenant))
    async with db.tenant(tenant) as scope:
        open_parks = await scope.connection.fetchval(
            "SELECT count(*) FROM billing_parked WHERE customer_id = $1 AND resolved_at IS NULL", parked
        )
        bills = await scope.connection.fetch("SELECT period_start, period_end FROM bill WHERE customer_id = $1", parked)
    assert open_parks == 0 and [tuple(b) for b in bills] == [(date(2026, 12, 2), date(2026, 12, 2))]
