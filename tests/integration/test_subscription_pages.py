"""The subscription pages over ASGI: the platform admin's plans, plan assignment, bills, payments and voids; the
operator's Subscription page and PDF; and the lock: every panel route of the route table answers the locked
page while a bill is unpaid past its lock date, the customer portal keeps working, and a payment reopens it."""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar.routes import HTTPRoute

from ispb_platform.auth.access import ACCESS, OPEN_WHEN_LOCKED, PUBLIC_ACCESS
from ispb_platform.auth.roles import OPERATORS
from ispb_platform.subscriptions.issue import bill_operators
from ispb_platform.subscriptions.locking import suspend_unpaid
from ispb_tenants import Database, TenantRef


def _today() -> date:
    return datetime.now(UTC).date()


async def _admin(make_client, make_staff, sign_in):
    client = make_client()
    token = await sign_in(client, await make_staff("platform_admin"))
    return client, token


async def _plan(client, token: str, name: str) -> int:
    bad = await client.post(
        "/admin/subscriptions/plans/new",
        data={
            "_csrf_token": token,
            "name": name,
            "pricing": "tier",
            "tier1_up_to": "200",
            "tier1_price": "1000",
            "tier2_up_to": "150",
            "tier2_price": "x",
            "sms_price": "0.35",
            "trial_days": "0",
            "active": "on",
        },
    )
    assert bad.status_code == 422
    assert "Each tier goes higher" in bad.text and "Enter a price" in bad.text and f'value="{name}"' in bad.text
    good = await client.post(
        "/admin/subscriptions/plans/new",
        data={
            "_csrf_token": token,
            "name": name,
            "pricing": "tier",
            "tier1_up_to": "200",
            "tier1_price": "1000",
            "tier2_up_to": "",
            "tier2_price": "2500",
            "sms_price": "0.35",
            "trial_days": "0",
            "active": "on",
        },
    )
    assert good.status_code == 303, good.text[:2000]
    overview = await client.get("/admin/subscriptions/")
    assert overview.status_code == 200 and name in overview.text
    found = re.search(rf'href="/admin/subscriptions/plans/(\d+)">{re.escape(name)}<', overview.text)
    assert found
    return int(found.group(1))


async def _assign(client, token: str, tenant: TenantRef, plan_id: int, started: date) -> None:
    answer = await client.post(
        f"/admin/subscriptions/operators/{tenant.slug}",
        data={
            "_csrf_token": token,
            "plan_id": str(plan_id),
            "started_on": started.isoformat(),
            "sms_billing": "prepaid",
        },
    )
    assert answer.status_code == 303, answer.text[:2000]


async def _locked_operator(db: Database, make_tenant, make_client, make_staff, sign_in) -> dict[str, Any]:
    """An operator on a plan with last month's bill issued and its lock date passed: locked."""
    admin, admin_token = await _admin(make_client, make_staff, sign_in)
    tenant = await make_tenant("lockp")
    plan_id = await _plan(admin, admin_token, f"Pages {tenant.slug}")
    await _assign(admin, admin_token, tenant, plan_id, date(2020, 1, 1))
    issued = _today() - timedelta(days=40)  # a month whose bill is well past its lock date
    await bill_operators(db, issued.replace(day=2))
    await suspend_unpaid(db, _today())
    bill = await db.pool.fetchrow(
        "SELECT id, number, total_minor FROM platform.subscription_bill WHERE tenant_id = $1", tenant.id
    )
    assert await db.pool.fetchval(
        "SELECT locked_at IS NOT NULL FROM platform.tenant_subscription WHERE tenant_id = $1", tenant.id
    )
    operator = make_client()
    operator_token = await sign_in(operator, await make_staff("operator_admin", tenant))
    return {
        "tenant": tenant,
        "bill": bill,
        "admin": admin,
        "admin_token": admin_token,
        "operator": operator,
        "operator_token": operator_token,
    }


def _operator_routes(app: Any) -> list[tuple[str, str, bool]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            access = handler.opt.get(ACCESS)
            if access is None or access == PUBLIC_ACCESS or not (set(access) & OPERATORS):
                continue
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((route.path, method, bool(handler.opt.get(OPEN_WHEN_LOCKED))))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::(\w+))?\}", lambda m: "1" if m.group(2) == "int" else "x", path)


async def test_every_panel_route_answers_the_locked_page_until_the_bill_is_paid(
    db: Database, web_app, make_tenant, make_client, make_staff, sign_in
):
    world = await _locked_operator(db, make_tenant, make_client, make_staff, sign_in)
    operator, token = world["operator"], world["operator_token"]
    routes = _operator_routes(web_app)
    assert len(routes) > 100
    walked = 0
    for path, method, open_when_locked in routes:
        if open_when_locked:
            continue
        url = _concrete(path)
        answer = await operator.request(method, url, data=None if method == "GET" else {"_csrf_token": token})
        assert (answer.status_code, answer.headers.get("location")) == (303, "/panel/locked"), f"{method} {url}"
        walked += 1
    htmx = await operator.get("/panel/customers", headers={"HX-Request": "true"})
    assert htmx.headers.get("hx-redirect") == "/panel/locked"
    locked = await operator.get("/panel/locked")
    assert locked.status_code == 200
    assert "Your panel is locked" in locked.text and world["bill"]["number"] in locked.text
    assert 'id="platform-contact"' in locked.text and 'class="sidebar"' not in locked.text
    pdf = await operator.get(f"/panel/subscription/bills/{world['bill']['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the admin console tells the lock apart from its own manual suspension
    admin = world["admin"]
    slug = world["tenant"].slug
    details = await admin.get(f"/admin/operators/{slug}")
    assert 'id="operator-locked"' in details.text and '<span class="badge active">active</span>' in details.text
    assert "locked: unpaid" in (await admin.get("/admin/subscriptions/")).text
    # the admin records the payment: the panel reopens at once
    due = world["bill"]["total_minor"] / 100
    paid = await admin.post(
        f"/admin/subscriptions/bills/{world['bill']['id']}/payment",
        data={
            "_csrf_token": world["admin_token"],
            "amount": f"{due:.2f}",
            "method": "bank",
            "reference": "TT-1",
            "paid_on": _today().isoformat(),
        },
    )
    assert paid.status_code == 303, paid.text[:3000]
    assert (await operator.get("/panel/customers")).status_code == 200
    assert (await operator.get("/panel/locked")).headers.get("location") == "/panel/subscription"
    page = await operator.get("/panel/subscription")
    assert page.status_code == 200 and world["bill"]["number"] in page.text and "paid" in page.text
    assert walked > 100


async def test_billing_settings_are_checked_and_saved(db: Database, web_app, make_client, make_staff, sign_in):
    admin, token = await _admin(make_client, make_staff, sign_in)
    page = await admin.get("/admin/subscriptions/settings")
    assert page.status_code == 200 and 'name="lock_day"' in page.text
    bad = await admin.post(
        "/admin/subscriptions/settings",
        data={"_csrf_token": token, "issuer_name": "ISPB Cloud", "due_day": "15", "lock_day": "12"},
    )
    assert bad.status_code == 422 and "locks on or after" in bad.text and 'value="ISPB Cloud"' in bad.text
    good = await admin.post(
        "/admin/subscriptions/settings",
        data={
            "_csrf_token": token,
            "issuer_name": "ISPB Cloud",
            "issuer_phone": "09610-000111",
            "due_day": "10",
            "lock_day": "20",
        },
    )
    assert good.status_code == 303
    assert await db.fetchval("SELECT issuer_name FROM platform.subscription_settings") == "ISPB Cloud"


async def test_admin_payment_errors_stay_beside_the_field_and_void_asks_for_a_reason(
    db: Database, web_app, make_tenant, make_client, make_staff, sign_in
):
    world = await _locked_operator(db, make_tenant, make_client, make_staff, sign_in)
    admin, token, bill = world["admin"], world["admin_token"], world["bill"]
    too_much = await admin.post(
        f"/admin/subscriptions/bills/{bill['id']}/payment",
        data={"_csrf_token": token, "amount": "999999", "method": "cash", "paid_on": _today().isoformat()},
    )
    assert too_much.status_code == 422 and "at most" in too_much.text and 'value="999999"' in too_much.text
    confirm = await admin.get(f"/admin/subscriptions/bills/{bill['id']}/void")
    assert confirm.status_code == 200 and "credit note" in confirm.text
    blank = await admin.post(f"/admin/subscriptions/bills/{bill['id']}/void", data={"_csrf_token": token, "reason": ""})
    assert blank.status_code == 422
    voided = await admin.post(
        f"/admin/subscriptions/bills/{bill['id']}/void", data={"_csrf_token": token, "reason": "billed twice"}
    )
    assert voided.status_code == 303
    assert (await world["operator"].get("/panel/customers")).status_code == 200  # nothing left unpaid: open
    page = await admin.get(f"/admin/subscriptions/operators/{world['tenant'].slug}")
    assert "SCN-" in page.text and "void" in page.text
    csv = await admin.get("/admin/subscriptions/charts.csv?chart=operators-in-arrears")
    assert csv.status_code == 200 and csv.text.lstrip("\ufeff").startswith("Month,Operators")
