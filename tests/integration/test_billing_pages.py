"""Customer Bills, bill detail, recording payments and voiding through the operator panel; database guards."""

import re
from datetime import UTC, date, datetime

import asyncpg
import pytest

from factories import make_customer, make_package
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.runs import local_today
from ispb_tenants import Database, TenantRef


@pytest.fixture(name="billed")
async def fx_billed(db: Database, make_tenant, make_staff, make_client, sign_in):
    """A tenant with two customers billed this month and a signed-in operator admin."""
    tenant = await make_tenant("bills")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(
            scope, name="Fiber 20", price_minor=80000, download_kbps=20000, upload_kbps=20000, vat_rate_bp=500
        )
        ids = [
            await make_customer(
                scope,
                code=code,
                name=name,
                phone=phone,
                area="Mirpur",
                package_id=package_id,
                connection_date=date(2025, 1, 1),
            )
            for code, name, phone in (("C1", "Rahim Uddin", "+8801711000001"), ("C2", "Karim Mia", "+8801711000002"))
        ]
    today = local_today(datetime.now(UTC), tenant)
    await generate_bills(JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant))
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    return {"tenant": tenant, "client": client, "token": token, "customers": ids, "today": today}


async def _bill_of(db: Database, tenant: TenantRef, customer_id: int) -> asyncpg.Record:
    async with db.tenant(tenant) as scope:
        return await scope.connection.fetchrow(
            "SELECT * FROM bill WHERE customer_id = $1 AND kind = 'invoice' ORDER BY id DESC LIMIT 1", customer_id
        )


async def test_bills_list_shows_this_month_with_totals_and_filters(billed):
    client = billed["client"]
    page = await client.get("/panel/bills")
    assert page.status_code == 200
    assert page.text.count('href="/panel/bills/') == 2 and "INV-" in page.text
    assert "1,680.00" in page.text  # 2 × (800.00 + 5 % VAT)
    only_rahim = await client.get("/panel/bills", params={"q": "Rahim"}, headers={"HX-Request": "true"})
    assert "<html" not in only_rahim.text and only_rahim.text.count('href="/panel/bills/') == 1
    assert (await client.get("/panel/bills", params={"status": "paid"})).text.count('href="/panel/bills/') == 0
    earlier = await client.get("/panel/bills", params={"month": "2020-01"})
    assert "No bills match these filters." in earlier.text


async def test_recording_payments_settles_the_bill_and_keeps_the_rest_as_credit(billed, db: Database):
    client, token, tenant = billed["client"], billed["token"], billed["tenant"]
    customer_id = billed["customers"][0]
    form = await client.get(f"/panel/customers/{customer_id}/payments/new")
    assert form.status_code == 200 and 'value="840.00"' in form.text  # prefilled with what is due

    url = f"/panel/customers/{customer_id}/payments/new"
    bad = await client.post(url, data={"_csrf_token": token, "amount": "12.345", "method": "bkash"})
    assert bad.status_code == 422 and "more than 2 decimals" in bad.text and "Choose cash, bank" in bad.text
    assert 'value="12.345"' in bad.text
    huge = await client.post(url, data={"_csrf_token": token, "amount": "99999999999999999999", "method": "cash"})
    assert huge.status_code == 422 and "too large" in huge.text and 'value="99999999999999999999"' in huge.text
    no_ref = await client.post(url, data={"_csrf_token": token, "amount": "100", "method": "mobile_money"})
    assert no_ref.status_code == 422 and "transaction id" in no_ref.text

    part = await client.post(
        url, data={"_csrf_token": token, "amount": "500", "method": "mobile_money", "reference": "TRX9A1"}
    )
    assert part.status_code == 303
    bill = await _bill_of(db, tenant, customer_id)
    assert (bill["paid_minor"], bill["status"]) == (50000, "open")
    again = await client.post(
        url, data={"_csrf_token": token, "amount": "500", "method": "mobile_money", "reference": "TRX9A1"}
    )
    assert again.status_code == 422 and "already recorded" in again.text

    rest = await client.post(url, data={"_csrf_token": token, "amount": "1,000", "method": "cash"})
    assert rest.status_code == 303
    bill = await _bill_of(db, tenant, customer_id)
    assert (bill["paid_minor"], bill["status"]) == (84000, "paid")
    detail = await client.get(f"/panel/customers/{customer_id}")
    assert "660.00 BDT advance credit" in detail.text and "Payment (cash)" in detail.text
    async with db.tenant(tenant) as scope:
        events = await scope.connection.fetch("SELECT name, payload FROM domain_event ORDER BY id")
        activity = await scope.connection.fetch("SELECT action FROM activity_log WHERE action = 'payment.recorded'")
    assert [e["name"] for e in events] == ["payment.received", "payment.received"] and len(activity) == 2
    assert '"balance_minor": -66000' in events[1]["payload"]
    async with db.tenant(tenant) as scope:  # a recorded payment is a fact
        for statement in ("UPDATE payment SET amount_minor = 1", "DELETE FROM payment"):
            with pytest.raises(asyncpg.RaiseError, match="cannot be changed or deleted"):
                async with scope.connection.transaction():
                    await scope.connection.execute(statement)


async def test_void_issues_a_credit_note_and_returns_payments_to_credit(billed, db: Database, make_client, sign_in):
    client, token, tenant = billed["client"], billed["token"], billed["tenant"]
    customer_id = billed["customers"][1]
    await client.post(
        f"/panel/customers/{customer_id}/payments/new", data={"_csrf_token": token, "amount": "300", "method": "cash"}
    )
    bill = await _bill_of(db, tenant, customer_id)
    no_reason = await client.post(f"/panel/bills/{bill['id']}/void", data={"_csrf_token": token})
    assert no_reason.status_code == 422 and "Say why" in no_reason.text and 'id="reason-message"' in no_reason.text
    voided = await client.post(
        f"/panel/bills/{bill['id']}/void", data={"_csrf_token": token, "reason": "Wrong package"}
    )
    assert voided.status_code == 303
    credit_note_url = voided.headers["location"]
    note_page = await client.get(credit_note_url)
    assert (
        "Credit note CN-" in note_page.text and bill["number"] in note_page.text and "Wrong package" in note_page.text
    )
    async with db.tenant(tenant) as scope:
        status = await scope.connection.fetchval("SELECT status FROM bill WHERE id = $1", bill["id"])
        balance = await scope.connection.fetchval(
            "SELECT balance_minor FROM customer_account WHERE customer_id = $1", customer_id
        )
        unapplied = await scope.connection.fetchval(
            "SELECT unapplied_minor FROM payment WHERE customer_id = $1", customer_id
        )
    assert (status, balance, unapplied) == ("void", -30000, 30000)
    twice = await client.post(f"/panel/bills/{bill['id']}/void", data={"_csrf_token": token, "reason": "again"})
    assert twice.status_code == 409 and "already void" in twice.text  # the bill's state, not the form


async def test_issued_bills_lines_and_ledger_cannot_be_changed(billed, db: Database):
    tenant = billed["tenant"]
    bill = await _bill_of(db, tenant, billed["customers"][0])
    async with db.tenant(tenant) as scope:
        for statement in (
            "UPDATE bill SET total_minor = 1, net_minor = 1, vat_minor = 0 WHERE id = $1",
            "UPDATE bill SET due_date = due_date + 30 WHERE id = $1",
            "DELETE FROM bill WHERE id = $1",
            "UPDATE bill_line SET net_minor = 0 WHERE bill_id = $1",
        ):
            with pytest.raises(asyncpg.RaiseError, match=r"cannot be|never changed"):
                async with scope.connection.transaction():
                    await scope.connection.execute(statement, bill["id"])
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):  # the ledger is a view over the documents
            async with scope.connection.transaction():
                await scope.connection.execute("DELETE FROM ledger_entry WHERE bill_id = $1", bill["id"])
        # a second bill for the same period: raw SQL on purpose, the factories only build valid rows
        with pytest.raises(asyncpg.UniqueViolationError):
            async with scope.connection.transaction():
                await scope.connection.execute(
                    "INSERT INTO bill (customer_id, number, period_start, period_end, issue_date, due_date, currency,"
                    " net_minor, vat_minor, total_minor) SELECT customer_id, 'INV-X', period_start, period_end,"
                    " issue_date, due_date, currency, 1, 0, 1 FROM bill WHERE id = $1",
                    bill["id"],
                )


async def test_staff_cannot_void_and_other_operators_get_404(billed, db, make_tenant, make_staff, make_client, sign_in):
    tenant, bill = billed["tenant"], await _bill_of(db, billed["tenant"], billed["customers"][0])
    staff = make_client()
    staff_token = await sign_in(staff, await make_staff("operator_staff", tenant))
    assert (await staff.get(f"/panel/bills/{bill['id']}")).status_code == 200
    refused = await staff.post(f"/panel/bills/{bill['id']}/void", data={"_csrf_token": staff_token, "reason": "x"})
    assert refused.status_code == 403
    stranger = make_client()
    stranger_token = await sign_in(stranger, await make_staff("operator_admin", await make_tenant("other")))
    assert (await stranger.get(f"/panel/bills/{bill['id']}")).status_code == 404
    pay = await stranger.post(
        f"/panel/customers/{billed['customers'][0]}/payments/new",
        data={"_csrf_token": stranger_token, "amount": "1", "method": "cash"},
    )
    assert pay.status_code == 404


def test_month_filter_parsing():
    from ispb_platform.billing.bills.queries import parse_month

    assert parse_month("2026-02") == date(2026, 2, 1)
    assert parse_month("2026-13") is None and parse_month("") is None and parse_month("x'; --") is None
    assert re.fullmatch(r"\d{4}-\d{2}", "2026-02")


async def test_discounts_are_added_validated_and_applied_to_the_next_bill(billed, db: Database):
    client, token, tenant = billed["client"], billed["token"], billed["tenant"]
    customer_id = billed["customers"][0]
    url = f"/panel/customers/{customer_id}/discounts/"
    bad = await client.post(url, data={"_csrf_token": token, "label": "", "kind": "percent", "value": "150"})
    assert bad.status_code == 422 and "Name the discount" in bad.text and "from 0.01 to 100" in bad.text
    assert 'value="150"' in bad.text
    backwards = await client.post(
        url,
        data={
            "_csrf_token": token,
            "label": "Eid",
            "kind": "amount",
            "value": "50",
            "starts": "2027-02-01",
            "ends": "2027-01-01",
        },
    )
    assert backwards.status_code == 422 and "before the start date" in backwards.text
    added = await client.post(url, data={"_csrf_token": token, "label": "Loyalty", "kind": "percent", "value": "10"})
    assert added.status_code == 303
    page = await client.get(f"/panel/customers/{customer_id}")
    assert "Loyalty" in page.text and "10%" in page.text

    next_month = date(billed["today"].year + billed["today"].month // 12, billed["today"].month % 12 + 1, 1)
    await generate_bills(JobContext(db=db, today=next_month, now=datetime.now(UTC), tenant=tenant))
    async with db.tenant(tenant) as scope:
        lines = await scope.connection.fetch(
            "SELECT l.kind, l.description, l.net_minor, l.vat_minor FROM bill_line l JOIN bill b ON b.id = l.bill_id"
            " WHERE b.customer_id = $1 AND b.period_start = $2 ORDER BY l.position",
            customer_id,
            next_month,
        )
        discount_id = await scope.connection.fetchval("SELECT id FROM customer_discount")
    assert [(r["kind"], r["net_minor"], r["vat_minor"]) for r in lines] == [
        ("package", 80000, 4000),
        ("discount", -8000, -400),
    ]
    removed = await client.post(f"{url}{discount_id}/remove", data={"_csrf_token": token, "reason": "Promo ended"})
    assert removed.status_code == 303 and "No discounts." in (await client.get(f"/panel/customers/{customer_id}")).text


async def test_bills_list_filters_by_area_and_shows_fifty_a_page(billed, db: Database):
    client, tenant = billed["client"], billed["tenant"]
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO customer (code, name, phone, area, package_id, connection_date)"
            " SELECT 'G' || n, 'Gulshan customer ' || n, '+88017120000' || lpad(n::text, 2, '0'), 'Gulshan',"
            " (SELECT id FROM package), '2025-01-01' FROM generate_series(1, 49) AS n"
        )
    await generate_bills(JobContext(db=db, today=billed["today"], now=datetime.now(UTC), tenant=tenant))
    first = await client.get("/panel/bills")
    assert "Page 1 of 2" in first.text and first.text.count('href="/panel/bills/') == 50
    assert "42,840.00" in first.text  # the totals count all 51 bills of 840.00, not only the page
    second = await client.get("/panel/bills", params={"page": "2"}, headers={"HX-Request": "true"})
    assert second.text.count('href="/panel/bills/') == 1
    mirpur = await client.get("/panel/bills", params={"area": "Mirpur"})
    assert mirpur.text.count('href="/panel/bills/') == 2 and "Gulshan customer" not in mirpur.text
    by_code = await client.get("/panel/bills", params={"q": "g4"})  # code prefix, any case: G4 and G40–G49
    assert by_code.text.count('href="/panel/bills/') == 11


async def test_a_voided_invoice_names_its_credit_note_and_released_payment(billed, db: Database):
    client, token, tenant = billed["client"], billed["token"], billed["tenant"]
    customer_id = billed["customers"][0]
    await client.post(
        f"/panel/customers/{customer_id}/payments/new",
        data={"_csrf_token": token, "amount": "100", "method": "bank", "reference": "TX-1"},
    )
    bill = await _bill_of(db, tenant, customer_id)
    paid_page = await client.get(f"/panel/bills/{bill['id']}")
    assert "Bank payment TX-1, received" in paid_page.text and "100.00" in paid_page.text
    await client.post(f"/panel/bills/{bill['id']}/void", data={"_csrf_token": token, "reason": "Duplicate"})
    page = await client.get(f"/panel/bills/{bill['id']}")
    credit_note = re.search(r"Voided by</dt><dd><a href=\"/panel/bills/(\d+)\">(CN-[\d-]+)</a>", page.text)
    assert credit_note is not None and "released to advance credit" in page.text
    assert f"Credit note {credit_note.group(2)}" in page.text  # the credit note's own allocation
    note = await client.get(f"/panel/bills/{credit_note.group(1)}")
    assert f'Reverses</dt><dd><a href="/panel/bills/{bill["id"]}">{bill["number"]}</a>' in note.text


async def test_suspension_log_shows_a_hundred_entries_a_page(billed, db: Database):
    client, tenant = billed["client"], billed["tenant"]
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO suspension_log (customer_id, action, reason, actor)"
            " SELECT $1, 'activated', 'entry ' || n, 'test' FROM generate_series(1, 101) AS n",
            billed["customers"][0],
        )
    first = await client.get("/panel/logs/suspension")
    older = re.search(r'href="/panel/logs/suspension\?before=(\d+)"', first.text)
    assert older is not None and first.text.count("<tr><td><time>") == 100 and "entry 101" in first.text
    second = await client.get("/panel/logs/suspension", params={"before": older.group(1)})
    assert second.text.count("<tr><td><time>") == 1 and ">entry 1<" in second.text and "before=" not in second.text


async def test_suspension_portal_shows_the_suspended_customer_at_its_address(billed, db: Database, make_client):
    tenant, customer_id = billed["tenant"], billed["customers"][0]
    bill = await _bill_of(db, tenant, customer_id)
    async with db.tenant(tenant) as scope:  # the test client's address, see conftest
        await scope.connection.execute(
            "UPDATE customer SET status = 'suspended', ip_address = '203.0.113.7' WHERE id = $1", customer_id
        )
    page = await make_client().get(f"/suspended/{tenant.slug}/")
    assert page.status_code == 200 and "Rahim Uddin" in page.text and bill["number"] in page.text
    assert "840.00" in page.text and "Karim" not in page.text
