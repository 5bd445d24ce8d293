"""Every registered route answers every role as it declares: no route is left unguarded (DESIGN 6).

Roles: anonymous, platform admin, group admin, operator admin and staff of tenant A, and the operator admin of
tenant B. Object URLs are filled with tenant A's ids: tenant B's operator must get 404 there, never A's data.
"""

import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from factories import make_billing_profile, make_discount, make_olt, make_onu, make_package, make_router
from ispb_platform.auth.access import ACCESS, PUBLIC_ACCESS
from ispb_platform.auth.roles import Role, SessionKind
from ispb_platform.auth.sessions import cookie_name, start_session
from ispb_tenants import Database

ANONYMOUS = "anonymous"
OTHER_OPERATOR = "operator_admin_of_other_tenant"
OTHER_CUSTOMER = "customer_of_other_tenant"
ROLES = [
    ANONYMOUS,
    "platform_admin",
    "group_admin",
    "operator_admin",
    "operator_staff",
    OTHER_OPERATOR,
    "customer",
    OTHER_CUSTOMER,
]
OTHER_TENANT = (OTHER_OPERATOR, OTHER_CUSTOMER)
SESSION_ENDING = {"/logout", "/logout/everywhere"}


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method not in ("HEAD", "OPTIONS"):
                    found.append((route.path, method, handler))
    return found


def test_every_route_declares_who_may_use_it(web_app):
    undeclared = [f"{method} {path}" for path, method, handler in _routes(web_app) if ACCESS not in handler.opt]
    assert undeclared == []
    assert len(_routes(web_app)) >= 15


def _concrete(path: str, ids: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "file_path":
            return "ispb.css"
        return ids[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)


@pytest.fixture(name="world")
async def fx_world(db: Database, make_tenant, make_staff, web_app) -> dict[str, Any]:
    from ispb_platform.demo.seed import ensure_packages, seed_customers

    tenant_a, tenant_b = await make_tenant("mxa"), await make_tenant("mxb")
    customers = {}
    for role, tenant in (("customer", tenant_a), (OTHER_CUSTOMER, tenant_b)):
        async with db.tenant(tenant) as scope:
            await ensure_packages(scope)
            await seed_customers(scope, 5 if tenant is tenant_a else 1)
            customers[role] = (await scope.connection.fetchval("SELECT min(id) FROM customer"), tenant)
    async with db.tenant(tenant_a) as scope:
        customer_id = await scope.connection.fetchval("SELECT max(id) FROM customer")
        # an id tenant B (6 demo packages) does not have
        package_id = await make_package(scope, name="Matrix", price_minor=1, download_kbps=1, upload_kbps=1)
        # tenant B has only its default profile (id 1): A's second profile is an id B does not have
        profile_id = await make_billing_profile(scope, name="Matrix profile")
    from datetime import UTC, date, datetime

    from ispb_platform.billing.jobs import generate_bills
    from ispb_platform.jobs.job import JobContext

    # bills of tenant A (tenant B has none with these ids)
    await generate_bills(JobContext(db=db, today=date(2026, 12, 1), now=datetime.now(UTC), tenant=tenant_a))
    async with db.tenant(tenant_a) as scope:
        bill_id = await scope.connection.fetchval("SELECT max(id) FROM bill")
        router_id = await make_router(  # port 1 refuses connections at once: "test" answers quickly
            scope,
            name="Matrix",
            host="127.0.0.1",
            api_port=1,
            username="admin",
            password_sealed="v1.not.sealed.value",
        )
        discount_id = await make_discount(scope, customer_id=customer_id, label="Matrix", percent_bp=500)
        # a community that does not open: "test connection" answers at once instead of after an SNMP timeout
        olt_id = await make_olt(scope, name="Matrix OLT", snmp_port=9, community_sealed="v1.not.sealed.value")
        onu_id = await make_onu(scope, olt_id=olt_id, serial="HWTC0000AB12")
        # a status check of tenant A (tenant B has none): port 1 refuses at once, so "test now" answers quickly
        check_id = await scope.connection.fetchval(
            "INSERT INTO status_check (name, kind, target, port) VALUES ('Matrix', 'tcp', '127.0.0.1', 1) RETURNING id"
        )
        # a previewed statement of tenant A (tenant B has no import with its id)
        import_id = await scope.connection.fetchval(
            "INSERT INTO payment_import (file_name, file_sha256, default_method, default_date, currency, uploaded_by)"
            " VALUES ('matrix.csv', repeat('0', 64), 'bank', current_date, 'BDT', 'matrix') RETURNING id"
        )
    # a backup of tenant A, in the web app's data directory (its download is a route)
    from ispb_platform.backups.dump import take_backup
    from ispb_platform.backups.storage import LocalDestination

    settings = web_app.state.runtime.settings
    backup = await take_backup(
        db, LocalDestination(settings.data_dir / "backups"), secret_key=settings.secret_key, tenant=tenant_a,
        trigger="manual", period=date(2026, 12, 1),
    )  # fmt: skip
    assert backup is not None
    users = {
        "platform_admin": (await make_staff("platform_admin"), None),
        "group_admin": (await make_staff("group_admin"), None),
        "operator_admin": (await make_staff("operator_admin", tenant_a), tenant_a),
        "operator_staff": (await make_staff("operator_staff", tenant_a), tenant_a),
        OTHER_OPERATOR: (await make_staff("operator_admin", tenant_b), tenant_b),
    }
    # a person of tenant A used only as an object (disabling them must not sign out a role under test)
    subject = await make_staff("operator_staff", tenant_a)
    # a pending invitation of tenant A (withdrawing it is a route of its own)
    invitation_id = await db.fetchval(
        "INSERT INTO platform.staff_invitation (tenant_id, email, name, role, token_hash, expires_at)"
        " VALUES ($1, 'invited@isp.test', 'Invited', 'operator_staff', repeat('ab', 32), now() + interval '1 day')"
        " RETURNING id",
        tenant_a.id,
    )
    ids = {
        "invitation_id": str(invitation_id),
        "user_id": str(await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", subject)),
        "customer_id": str(customer_id),
        "bill_id": str(bill_id),
        "discount_id": str(discount_id),
        "import_id": str(import_id),
        "backup_id": str(backup.backup_id),
        "router_id": str(router_id),
        "olt_id": str(olt_id),
        "onu_id": str(onu_id),
        "check_id": str(check_id),
        "platform_check_id": str(
            await db.fetchval(
                "INSERT INTO platform.status_check (name, kind, target, port) VALUES ($1, 'tcp', '127.0.0.1', 1)"
                " RETURNING id",
                f"Matrix {tenant_a.slug}",
            )
        ),
        "event": "payment.received",
        "token": "1.1.1.not-a-signature",
        "package_id": str(package_id),
        "profile_id": str(profile_id),
        "operator_slug": tenant_a.slug,
        "slug": tenant_a.slug,
        "provider": "bkash",
        "merchant_ref": "no-such-checkout-0001",
        "report": "bills-payments.csv",
        "subscription_bill_id": "1",  # any: the guard answers before the handler looks
        "plan_id": str(
            await db.fetchval(
                "INSERT INTO platform.subscription_plan (name) VALUES ($1) RETURNING id", f"Matrix {tenant_a.slug}"
            )
        ),
    }
    return {"users": users, "ids": ids, "customers": customers}


async def _request_as(
    role: str, method: str, url: str, world: dict[str, Any], db: Database, make_client, csrf_of
) -> int:
    client = make_client()
    token = csrf_of((await client.get("/login")).text)
    if role in world["customers"]:
        customer_id, tenant = world["customers"][role]
        session = await start_session(
            db, kind=SessionKind.CUSTOMER, user_id=customer_id, tenant_id=tenant.id, ip="", user_agent=""
        )
        client.cookies.set(cookie_name(True), session, domain="isp.test", path="/")
    elif role != ANONYMOUS:
        email, tenant = world["users"][role]
        user_id = await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", email)
        session = await start_session(
            db, kind=SessionKind.STAFF, user_id=user_id, tenant_id=tenant.id if tenant else None, ip="", user_agent=""
        )
        client.cookies.set(cookie_name(True), session, domain="isp.test", path="/")
    if method == "GET":
        answer = await client.get(url)
    else:
        answer = await client.request(method, url, data={"_csrf_token": token})
    return answer.status_code


def _expected(access: Any, role: str) -> set[int] | None:
    """None: allowed (any answer but 401/403/500); else the set of acceptable codes."""
    if access == PUBLIC_ACCESS:
        return None
    if role == ANONYMOUS:
        return {303, 401}
    granted = Role(role.replace("_of_other_tenant", "")) in access
    return None if granted else {403}


async def test_route_by_role_matrix(web_app, world, db: Database, make_client, csrf_of):
    failures = []
    routes = sorted(_routes(web_app), key=lambda r: r[0] in SESSION_ENDING)
    for path, method, handler in routes:
        url = _concrete(path, world["ids"])
        access = handler.opt[ACCESS]
        for role in ROLES:
            status = await _request_as(role, method, url, world, db, make_client, csrf_of)
            expected = _expected(access, role)
            # {event}, {provider} and {report} name catalogue entries (the same in every tenant), not objects of A
            catalogue = "{event" in path or "{provider" in path or "{report" in path
            object_url = "{" in path and "file_path" not in path and not catalogue
            if expected is None and role == OTHER_CUSTOMER and path.startswith("/portal/") and access != PUBLIC_ACCESS:
                ok = status in {303, 401}  # in tenant A's portal, B's customer is asked to sign in there
            elif expected is None and role in OTHER_TENANT and object_url and access != PUBLIC_ACCESS:
                ok = status == 404  # tenant A's object is not found from tenant B
            elif expected is None:
                ok = status not in (401, 403, 500)
            else:
                ok = status in expected
            if not ok:
                failures.append(f"{method} {url} as {role}: {status}")
    assert failures == []
