"""Drastic actions ask first, with a required reason that is logged (issue 11).

Suspending an operator or a customer, voiding a bill, and every delete-like action (disabling a customer, a
staff user or an operator's user, removing a discount, withdrawing an invitation) is a link to a confirmation
page; its form posts the action with a reason. A missing or blank reason is a 422 beside the field (labelled,
``aria-describedby``) with nothing changed; a reason is kept with the change where people read it.
"""

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from factories import make_customer, make_discount, make_package
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.runs import local_today
from ispb_tenants import Database, TenantRef

DRASTIC_ENDINGS = ("/suspend", "/disable", "/void", "/remove", "/revoke")


def _routes(app: Any) -> set[tuple[str, str]]:
    return {
        (route.path, method)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    }


def test_every_drastic_action_has_a_confirmation_page(web_app):
    """A new drastic route without its confirmation page fails here: each POST that suspends, disables, voids,
    removes or revokes has a GET at the same path, and each status change that can disable or suspend has a
    confirmation page beside it."""
    routes = _routes(web_app)
    drastic = {path for path, method in routes if method == "POST" and path.endswith(DRASTIC_ENDINGS)}
    assert len(drastic) >= 5, drastic
    assert [path for path in drastic if (path, "GET") not in routes] == []
    status_changes = {path for path, method in routes if method == "POST" and path.endswith("/status")}
    assert len(status_changes) >= 3, status_changes
    for path in status_changes:
        siblings = {path.removesuffix("/status") + ending for ending in ("/suspend", "/disable")}
        assert any((sibling, "GET") in routes for sibling in siblings), path


async def _confirm(client: httpx.AsyncClient, token: str, page_url: str, reason: str, unchanged: Any) -> httpx.Response:
    """Open the confirmation page, check it, post it without a reason (refused, ``unchanged()`` still true),
    then with ``reason``; returns that last answer."""
    page = await client.get(page_url)
    assert page.status_code == 200, page_url
    assert '<label class="field" for="confirm-reason">' in page.text  # a labelled field
    assert 'aria-describedby="reason-message"' in page.text and 'id="reason-message"' in page.text
    assert 'name="reason"' in page.text and "required" in page.text
    assert 'name="viewport" content="width=device-width' in page.text  # phones
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*id="confirm-form"[^>]*>(.*?)</form>', page.text, re.S)
    assert form is not None
    action = form.group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    fields["_csrf_token"] = token
    for blank in ({}, {"reason": ""}, {"reason": " \n\t "}, {"reason": "x" * 501}, {"reason": "bad\x00byte"}):
        refused = await client.post(action, data=fields | blank)
        assert refused.status_code == 422, (page_url, blank)
        assert (
            'aria-invalid="true"' in refused.text and 'class="error" role="alert" id="reason-message"' in refused.text
        )
        assert 'id="confirm-form"' in refused.text  # the same confirmation, to try again
        assert await unchanged(), (page_url, blank)
    typed = await client.post(action, data=fields | {"reason": "x" * 501})
    assert "x" * 500 in typed.text  # what was typed comes back (cut to the limit)
    return await client.post(action, data=fields | {"reason": reason})


@pytest.fixture(name="operator")
async def fx_operator(db: Database, make_tenant, make_staff, make_client, sign_in) -> dict[str, Any]:
    """A tenant with one billed customer (with a discount) and a signed-in operator admin."""
    tenant = await make_tenant("confirm")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Fiber 20", price_minor=80000, download_kbps=1, upload_kbps=1)
        customer_id = await make_customer(scope, code="C7", name="Rahima Akter", package_id=package_id)
        discount_id = await make_discount(scope, customer_id=customer_id, label="Loyal")
    now = datetime.now(UTC)
    await generate_bills(JobContext(db=db, today=local_today(now, tenant), now=now, tenant=tenant))
    async with db.tenant(tenant) as scope:
        bill_id = await scope.connection.fetchval("SELECT id FROM bill WHERE customer_id = $1", customer_id)
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    ids = {"customer": customer_id, "discount": discount_id, "bill": bill_id}
    return {"tenant": tenant, "client": client, "token": token, "ids": ids}


async def _fetchval(db: Database, tenant: TenantRef, sql: str, *args: Any) -> Any:
    async with db.tenant(tenant) as scope:
        return await scope.connection.fetchval(sql, *args)


async def _activity(db: Database, tenant: TenantRef, action: str) -> list[str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT summary FROM activity_log WHERE action = $1", action)
    return [r["summary"] for r in rows]


async def test_suspending_a_customer_asks_why_and_the_suspension_log_keeps_it(db: Database, operator):
    client, tenant, customer_id = operator["client"], operator["tenant"], operator["ids"]["customer"]
    page = await client.get(f"/panel/customers/{customer_id}")
    assert f'href="/panel/customers/{customer_id}/suspend"' in page.text  # a link, not a one-click form

    async def unchanged() -> bool:
        status = await _fetchval(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id)
        return status == "active" and await _fetchval(db, tenant, "SELECT count(*) FROM suspension_log") == 0

    done = await _confirm(
        client, operator["token"], f"/panel/customers/{customer_id}/suspend", "Asked to pause while abroad", unchanged
    )
    assert done.status_code == 303
    assert await _fetchval(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id) == "suspended"
    assert await _fetchval(db, tenant, "SELECT reason FROM suspension_log") == "Asked to pause while abroad"
    assert "Asked to pause while abroad" in (await client.get("/panel/logs/suspension")).text
    assert "Asked to pause while abroad" in (await client.get("/panel/logs/activity")).text
    again = {"_csrf_token": operator["token"], "reason": "double submit"}
    twice = await client.post(f"/panel/customers/{customer_id}/suspend", data=again)
    assert "Nothing changed: the customer was not active" in (await client.get(twice.headers["location"])).text
    assert await _fetchval(db, tenant, "SELECT count(*) FROM suspension_log") == 1


async def test_disabling_a_customer_asks_why_and_logs_it(db: Database, operator):
    client, tenant, customer_id = operator["client"], operator["tenant"], operator["ids"]["customer"]

    async def unchanged() -> bool:
        return await _fetchval(db, tenant, "SELECT status FROM customer WHERE id = $1", customer_id) == "active"

    done = await _confirm(
        client, operator["token"], f"/panel/customers/{customer_id}/disable", "Moved to Chittagong", unchanged
    )
    assert done.status_code == 303 and not await unchanged()
    assert await _activity(db, tenant, "customer.disabled") == ["Disabled C7: Moved to Chittagong"]
    assert "Disabled C7: Moved to Chittagong" in (await client.get(f"/panel/customers/{customer_id}")).text


async def test_voiding_a_bill_asks_why_and_the_credit_note_keeps_it(db: Database, operator):
    client, tenant, bill_id = operator["client"], operator["tenant"], operator["ids"]["bill"]
    assert f'href="/panel/bills/{bill_id}/void"' in (await client.get(f"/panel/bills/{bill_id}")).text

    async def unchanged() -> bool:
        status = await _fetchval(db, tenant, "SELECT status FROM bill WHERE id = $1", bill_id)
        return status == "open" and await _fetchval(db, tenant, "SELECT count(*) FROM bill") == 1

    done = await _confirm(
        client, operator["token"], f"/panel/bills/{bill_id}/void", "Billed the wrong package", unchanged
    )
    assert done.status_code == 303
    assert "Billed the wrong package" in (await client.get(done.headers["location"])).text  # the credit note
    assert [s.endswith(": Billed the wrong package") for s in await _activity(db, tenant, "bill.voided")] == [True]
    again = await client.get(f"/panel/bills/{bill_id}/void")  # nothing left to confirm
    assert again.status_code == 409 and "already void" in again.text


async def test_removing_a_discount_asks_why_and_logs_it(db: Database, operator):
    client, tenant = operator["client"], operator["tenant"]
    customer_id, discount_id = operator["ids"]["customer"], operator["ids"]["discount"]
    url = f"/panel/customers/{customer_id}/discounts/{discount_id}/remove"
    assert f'href="{url}"' in (await client.get(f"/panel/customers/{customer_id}")).text

    async def unchanged() -> bool:
        return await _fetchval(db, tenant, "SELECT count(*) FROM customer_discount") == 1

    done = await _confirm(client, operator["token"], url, "Promotion ended", unchanged)
    assert done.status_code == 303 and not await unchanged()
    [summary] = await _activity(db, tenant, "discount.removed")
    assert summary.startswith("Removed discount Loyal") and summary.endswith(": Promotion ended")
    assert (await client.get(url)).status_code == 404


async def test_disabling_a_staff_user_asks_why_and_logs_it(db: Database, operator, make_staff):
    client, tenant = operator["client"], operator["tenant"]
    email = await make_staff("operator_staff", tenant)
    user_id = await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", email)
    assert f'href="/panel/staff/{user_id}/disable"' in (await client.get("/panel/staff")).text

    async def unchanged() -> bool:
        return await db.fetchval("SELECT is_active FROM platform.platform_user WHERE id = $1", user_id) is True

    done = await _confirm(client, operator["token"], f"/panel/staff/{user_id}/disable", "Left the company", unchanged)
    assert done.status_code == 303 and not await unchanged()
    assert await _activity(db, tenant, "staff.disabled") == [
        f"Disabled Test operator_staff <{email}>: Left the company"
    ]


async def test_the_admin_console_asks_why_before_suspending_an_operator_or_disabling_its_user(
    db: Database, make_tenant, make_staff, make_client, sign_in
):
    tenant = await make_tenant("suspendme")
    owner, cashier = await make_staff("operator_admin", tenant), await make_staff("operator_staff", tenant)
    cashier_id = await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", cashier)
    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    page = await admin.get(f"/admin/operators/{tenant.slug}")
    assert f'href="/admin/operators/{tenant.slug}/suspend"' in page.text
    assert f'href="/admin/operators/{tenant.slug}/users/{cashier_id}/disable"' in page.text

    async def user_active() -> bool:
        return await db.fetchval("SELECT is_active FROM platform.platform_user WHERE id = $1", cashier_id) is True

    done = await _confirm(
        admin, token, f"/admin/operators/{tenant.slug}/users/{cashier_id}/disable", "Fraud", user_active
    )
    assert done.status_code == 303 and not await user_active()

    async def operator_active() -> bool:
        return await db.fetchval("SELECT status FROM platform.tenant WHERE id = $1", tenant.id) == "active"

    done = await _confirm(
        admin, token, f"/admin/operators/{tenant.slug}/suspend", "Platform fee unpaid", operator_active
    )
    assert done.status_code == 303 and not await operator_active()
    assert await _activity(db, tenant, "operator.suspended") == [
        "Operator suspended by the platform: Platform fee unpaid"
    ]
    history = (await admin.get(f"/admin/operators/{tenant.slug}")).text.split('id="operator-history"')[1]
    assert "Platform fee unpaid" in history and f"disabled {cashier}: Fraud" in history
    # the operator's admins read it in their own activity log once they are back
    reactivate = {"_csrf_token": token, "status": "active"}
    assert (await admin.post(f"/admin/operators/{tenant.slug}/status", data=reactivate)).status_code == 303
    operator = make_client()
    await sign_in(operator, owner)
    assert (
        "Operator suspended by the platform: Platform fee unpaid" in (await operator.get("/panel/logs/activity")).text
    )
