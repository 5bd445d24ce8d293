"""Every save in the panel, the portal and the admin console tells the person it worked (issue 13): a flash
message on the page after the redirect (``web/flash.py``), or, where the answer is the result itself (an
invitation link shown once, an import report), a ``role="status"`` message on that page.

The routes come from the app's own route table: each mutating route is either in ``SAVES`` (and is posted
here, with the form its page offers, as a browser would send it) or in ``NOT_SAVES`` with the reason. A new
route that is in neither fails ``test_every_mutating_route_is_a_save_or_says_why_not``.
"""

import contextlib
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from factories import make_bill, make_customer, make_discount, make_olt, make_onu, make_package, make_router
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_tenants import Database, drop_tenant

MUTATING = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Save:
    """Open ``page``, fill its form that posts to the route with ``fields`` (the rest as the page has them), post
    it; ``message`` must then show: flashed on the next page, or in the answer itself when ``in_place``."""

    page: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    in_place: bool = False
    files: dict[str, tuple[str, bytes, str]] | None = None
    admin: bool = False
    live_region: str = ""  # the id of the page's role="status" element that htmx puts the answer into


C = "{customer_id}"
SAVES: dict[str, Save] = {
    "POST /panel/settings/backup/now": Save("/panel/settings/backup", "Backup queued"),  # a worker takes it
    "POST /panel/packages/new": Save(
        "/panel/packages/new",
        "Package saved",
        {"name": "Confirm 25", "price": "900", "download_mbps": "25", "upload_mbps": "25"},
    ),
    "POST /panel/packages/{package_id:int}/edit": Save("/panel/packages/{package_id}/edit", "Package saved"),
    "POST /panel/billing-profiles/new": Save(
        "/panel/billing-profiles/new", "Billing profile saved", {"name": "On the 10th", "billing_day": "10"}
    ),
    "POST /panel/billing-profiles/{profile_id:int}/edit": Save(
        "/panel/billing-profiles/{profile_id}/edit", "Billing profile saved"
    ),
    "POST /panel/customers/new": Save(
        "/panel/customers/new",
        "Customer saved",
        {
            "code": "K1002",
            "name": "Selina Parvin",
            "phone": "01711000777",
            "area": "Mirpur-10",
            "package_id": "{package_id}",
        },
    ),
    "POST /panel/customers/{customer_id:int}/edit": Save(f"/panel/customers/{C}/edit", "Customer saved"),
    "POST /panel/customers/import": Save(
        "/panel/customers/import",
        "Imported 1 customer",
        files={
            "file": ("new.csv", b"code,name,phone,package\r\nI9001,Imran Hossain,01711000999,Confirm\r\n", "text/csv")
        },
        in_place=True,
    ),
    "POST /panel/customers/{customer_id:int}/payments/new": Save(
        f"/panel/customers/{C}/payments/new", "Payment recorded", {"amount": "200", "method": "cash"}
    ),
    "POST /panel/customers/{customer_id:int}/discounts": Save(
        f"/panel/customers/{C}", "Discount added", {"label": "Neighbour", "value": "10"}
    ),
    "POST /panel/customers/{customer_id:int}/discounts/{discount_id:int}/remove": Save(
        f"/panel/customers/{C}/discounts/{{discount_id}}/remove", "Discount removed", {"reason": "ended"}
    ),
    "POST /panel/customers/{customer_id:int}/suspend": Save(
        f"/panel/customers/{C}/suspend", "Customer suspended", {"reason": "asked for a pause"}
    ),
    "POST /panel/customers/{customer_id:int}/activate": Save(f"/panel/customers/{C}", "Customer activated"),
    "POST /panel/bills/{bill_id:int}/share": Save(
        "/panel/bills/{bill_id}",
        "Anyone with this link can open this one bill",
        in_place=True,
        live_region="share-slot",
    ),
    "POST /panel/bills/{bill_id:int}/void": Save("/panel/bills/{bill_id}/void", "Bill voided", {"reason": "typo"}),
    "POST /panel/payments/import": Save(
        "/panel/payments/import",
        "Statement read: nothing is recorded yet",
        {"default_method": "bank"},
        files={"file": ("bank.csv", b"date,customer,amount,reference\r\n2026-12-01,K1001,300,TRX-1\r\n", "text/csv")},
    ),
    "POST /panel/payments/import/{import_id:int}/confirm": Save(
        "/panel/payments/import/{import_id}", "Recording 1 payment"
    ),
    "POST /panel/customers/{customer_id:int}/disable": Save(
        f"/panel/customers/{C}/disable", "Customer disabled", {"reason": "moved away"}
    ),
    "POST /panel/routers/new": Save(
        "/panel/routers/new",
        "Router saved",
        {"name": "Mirpur POP", "host": "10.20.0.1", "api_port": "8728", "username": "ispb", "password": "r0uter-pass"},
    ),
    "POST /panel/routers/{router_id:int}/edit": Save("/panel/routers/{router_id}/edit", "Router saved"),
    "POST /panel/olts/new": Save(
        "/panel/olts/new",
        "OLT saved",
        {"name": "Mirpur OLT", "host": "10.20.0.2", "vendor": "bdcom_epon", "community": "olt-read"},
    ),
    "POST /panel/olts/{olt_id:int}/edit": Save("/panel/olts/{olt_id}/edit", "OLT saved"),
    "POST /panel/payments/gateways/{provider:str}": Save(
        "/panel/payments/gateways", "bKash saved", {"mode": "sandbox", "merchant_id": "app-key-{suffix}"}
    ),
    "POST /panel/olts/onus/{onu_id:int}/map": Save(
        "/panel/olts/onus/{onu_id}", "Mapping saved", {"customer_code": "K1001"}
    ),
    "POST /panel/olts/onus/{onu_id:int}/automatic": Save("/panel/olts/onus/{onu_id}", "follows the mapping rule again"),
    "POST /panel/olts/settings": Save("/panel/olts/settings", "ONU settings saved"),
    # last of the OLT saves: it takes the OLT and its ONUs away
    "POST /panel/olts/{olt_id:int}/remove": Save("/panel/olts/{olt_id}/remove", "removed", {"reason": "POP closed"}),
    "POST /panel/staff": Save(
        "/panel/staff", "Invitation for", {"user_name": "Rafiq", "email": "rafiq@isp.test"}, in_place=True
    ),
    "POST /panel/staff/{user_id:int}/edit": Save("/panel/staff/{user_id}/edit", "saved"),
    "POST /panel/staff/{user_id:int}/status": Save("/panel/staff/{user_id}/disable", "disabled", {"reason": "left"}),
    "POST /panel/staff/invitations/{invitation_id:int}/revoke": Save(
        "/panel/staff/invitations/{invitation_id}/revoke", "withdrawn", {"reason": "wrong address"}
    ),
    "POST /invite/{token:str}": Save(
        "/invite/{token}",
        "your account is ready",
        {"password": "a-good-long-pass", "password_again": "a-good-long-pass"},
    ),
    "POST /panel/notifications/due-date": Save("/panel/notifications/due-date", "Due date notices saved"),
    "POST /panel/notifications/expiration": Save("/panel/notifications/expiration", "Expiry notices saved"),
    "POST /panel/notifications/events/{event:str}": Save("/panel/notifications/events", "Message saved"),
    "POST /panel/notifications/gateway": Save(
        "/panel/notifications/gateway",
        "SMS gateway saved",
        {
            "url": "https://sms.example.com/send",
            "params": "username=ispb\npassword={secret}\nto={to}\ntext={text}",
            "secret": "gateway-secret",
            "success_pattern": "Accepted",
        },
    ),
    "POST /panel/notifications/gateway/whatsapp": Save(
        "/panel/notifications/gateway",
        "WhatsApp settings saved",
        {"phone_number_id": "104857600123456", "access_token": "EAAG-test-token"},
    ),
    "POST /panel/automation/run": Save("/panel/automation", "is queued for"),
    "POST /panel/monitoring/checks/new": Save(
        "/panel/monitoring/checks/new",
        "Status check saved",
        {"name": "Customer portal", "target": "https://portal.example.net/", "public_name": "Portal"},
    ),
    "POST /panel/monitoring/checks/{check_id:int}/edit": Save("/panel/monitoring/checks/{check_id}/edit", "saved"),
    "POST /panel/monitoring/checks/{check_id:int}/pause": Save("/panel/monitoring/checks", "Paused"),
    "POST /panel/monitoring/checks/{check_id:int}/resume": Save("/panel/monitoring/checks", "Resumed"),
    "POST /panel/monitoring/settings/page": Save("/panel/monitoring/settings", "Status page saved"),
    "POST /panel/monitoring/settings/zabbix": Save(
        "/panel/monitoring/settings",
        "Zabbix settings saved",
        {"zabbix_url": "https://zabbix.example.net/", "zabbix_token": "zabbix-api-token"},
    ),
    "POST /panel/monitoring/maintenance/new": Save(
        "/panel/monitoring/settings",
        "Maintenance window saved",
        {"starts_at": "2026-12-10T01:00", "ends_at": "2026-12-10T03:00", "note": "Core upgrade"},
    ),
    "POST /admin/operators/new": Save(
        "/admin/operators/new",
        "created",
        {
            "name": "Dhaka Fiber",
            "slug": "dhaka-fiber-{suffix}",
            "timezone": "Asia/Dhaka",
            "currency": "BDT",
            "user_name": "Owner",
            "email": "owner@dhaka-fiber-{suffix}.test",
            "password": "a long enough password",
        },
        admin=True,
    ),
    "POST /admin/operators/{slug:str}/edit": Save("/admin/operators/{slug}/edit", "Operator saved", admin=True),
    "POST /admin/operators/{slug:str}/users": Save(
        "/admin/operators/{slug}",
        "added",
        {"user_name": "Shirin", "email": "shirin-{suffix}@isp.test", "password": "another-long-pass"},
        admin=True,
    ),
    "POST /admin/operators/{slug:str}/users/{user_id:int}/status": Save(
        "/admin/operators/{slug}/users/{user_id}/disable", "User disabled", {"reason": "left"}, admin=True
    ),
    "POST /admin/operators/{slug:str}/status": Save(
        "/admin/operators/{slug}/suspend", "Operator suspended", {"reason": "unpaid"}, admin=True
    ),
    "POST /admin/monitoring/checks/new": Save(
        "/admin/monitoring/checks/new",
        "Status check saved",
        {"name": "Platform web {suffix}", "target": "https://isp.example.net/healthz"},
        admin=True,
    ),
    "POST /admin/monitoring/checks/{platform_check_id:int}/edit": Save(
        "/admin/monitoring/checks/{platform_check_id}/edit", "Status check saved", admin=True
    ),
    "POST /admin/monitoring/checks/{platform_check_id:int}/pause": Save("/admin/monitoring/", "Paused", admin=True),
    "POST /admin/monitoring/checks/{platform_check_id:int}/resume": Save("/admin/monitoring/", "Resumed", admin=True),
    "POST /admin/monitoring/settings/page": Save("/admin/monitoring/", "Status page saved", admin=True),
    "POST /admin/subscriptions/settings": Save("/admin/subscriptions/settings", "Billing settings saved", admin=True),
    "POST /admin/subscriptions/plans/new": Save(
        "/admin/subscriptions/plans/new",
        "saved",
        {"name": "Saved plan {suffix}", "tier1_price": "1000"},
        admin=True,
    ),
    "POST /admin/subscriptions/plans/{plan_id:int}": Save("/admin/subscriptions/plans/{plan_id}", "saved", admin=True),
    "POST /admin/subscriptions/operators/{slug:str}": Save(
        "/admin/subscriptions/operators/{slug}", "is on the plan", {"plan_id": "{plan_id}"}, admin=True
    ),
    "POST /admin/subscriptions/bills/{subscription_bill_id:int}/payment": Save(
        "/admin/subscriptions/operators/{slug}", "Payment recorded", {"amount": "10", "method": "cash"}, admin=True
    ),
    "POST /admin/subscriptions/bills/{subscription_bill_id:int}/void": Save(
        "/admin/subscriptions/bills/{subscription_bill_id}/void", "voided", {"reason": "billed twice"}, admin=True
    ),
    "POST /admin/jobs/run": Save("/admin/jobs", "is queued", {"job": "reports.customer_counts"}, admin=True),
    "POST /admin/payments/gateways/{provider:str}": Save(
        "/admin/payments/gateways", "bKash saved", {"mode": "sandbox", "merchant_id": "platform-{suffix}"}, admin=True
    ),
}
"""In the order they are posted (a later save may need an earlier one: the import, the suspension)."""

NOT_SAVES = {
    "POST /login": "signing in: the next page is the panel or the console itself",
    "POST /logout": "signing out: there is no session left to show a message in",
    "POST /logout/everywhere": "signing out everywhere: no session is left to show a message in",
    "POST /portal/{operator_slug:str}/login": "a customer signing in: the next page is their account",
    "POST /portal/{operator_slug:str}/otp": "asks for a one-time code: the next page says it was sent",
    "POST /portal/{operator_slug:str}/otp/verify": "a customer signing in with the code",
    "POST /panel/notifications/preview": "shows a message as it would be sent; saves nothing",
    "POST /panel/notifications/gateway/test": "sends a test SMS, saves nothing; its outcome is flashed (test_flash)",
    "POST /panel/routers/{router_id:int}/test": "asks the router now; its answer is the page (test_routers.py)",
    "POST /panel/olts/{olt_id:int}/test": "asks the OLT now; its answer is the page (test_olt_pages.py)",
    "POST /panel/monitoring/checks/{check_id:int}/test": "runs the check now; its answer is the page",
    "POST /admin/monitoring/checks/{platform_check_id:int}/test": "runs the check now; its answer is the page",
    "POST /portal/{operator_slug:str}/pay": "sends the customer on to the gateway; the result page says what happened",
    "POST /suspended/{operator_slug:str}/pay": "sends the customer on to the gateway; the result page says it",
    "POST /panel/notifications/sms-credit": "sends the operator on to the platform's gateway; its result page says it",
    "POST /payments/{operator_slug:str}/{provider:str}/notify": "a gateway's server-to-server notice, not a person",
    "POST /payments/{operator_slug:str}/{provider:str}/return/{merchant_ref:str}": "the gateway returning the"
    " browser: it lands on the payment's result page (test_online_payments.py)",
    "POST /sms-credit/{provider:str}/notify": "a gateway's server-to-server notice, not a person",
    "POST /sms-credit/{provider:str}/return/{merchant_ref:str}": "the gateway returning the browser to the purchase's"
    " result page (test_sms_credit_purchase.py)",
    "POST /panel/subscription/bills/{subscription_bill_id:int}/pay": "sends the operator on to the platform's"
    " gateway; its result page says what happened",
    "POST /subscription-pay/{provider:str}/notify": "a gateway's server-to-server notice, not a person",
    "POST /subscription-pay/{provider:str}/return/{merchant_ref:str}": "the gateway returning the browser to the"
    " payment's result page",
    "POST /panel/settings/backup/retention": "backup retention: its save and its field errors are checked in"
    " test_backup_pages.py",
    "POST /panel/settings/backup/{backup_id:int}/restore": "queues the restore of a real backup over the operator's"
    " data: confirmation, reason, the queued message and the outcome in test_backup_pages.py",
    "POST /admin/backups": "the backup destination (disk or an S3 bucket it checks): test_backup_pages.py",
    "POST /demo/sms-gateway/send": "the demo's SMS sink taking a gateway call (ispb demo only), not a person's save",
}


def _mutating(app: Any) -> set[str]:
    return {
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
        if method in MUTATING
    }


def test_every_mutating_route_is_a_save_or_says_why_not(web_app: Any) -> None:
    routes = _mutating(web_app)
    assert not set(SAVES) & set(NOT_SAVES)
    assert routes - set(NOT_SAVES) - set(SAVES) == set(), "a new route: add it to SAVES (or NOT_SAVES, with why)"
    assert set(SAVES) | set(NOT_SAVES) <= routes, "a listed route is gone"


class _Form(HTMLParser):
    """The fields of the form that posts to ``action``, as a browser would send them unchanged."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.found = action, False, False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = not self.found and self.action in (a.get("action", "").rstrip("/"), a.get("hx-post", ""))
            self.found = self.found or self.inside
        elif not self.inside or "name" not in a:
            if (
                tag == "option"
                and self.inside
                and self._select
                and ("selected" in a or self._select not in self.fields)
            ):
                self.fields[self._select] = a.get("value", "")
        elif (tag == "input" and a.get("type") not in ("checkbox", "radio", "submit", "file")) or "checked" in a:
            self.fields[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "button" and a.get("value"):
            self.fields.setdefault(a["name"], a["value"])

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, action: str) -> dict[str, str]:
    parser = _Form(action.rstrip("/"))
    parser.feed(html)
    assert parser.found, f"no form posts to {action}"
    return parser.fields


def _fill(text: str, ids: dict[str, str]) -> str:
    """``{customer_id}`` (or a route's ``{customer_id:int}``) -> the id; other braces (``{to}``) stay."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), m.group(0)), text)


_STATUS = re.compile(r'<(\w+)[^>]*role="status"[^>]*>(.*?)</\1>', re.S)


def _status_texts(html: str) -> list[str]:
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", inner)).split()) for _, inner in _STATUS.findall(html)]


@pytest.fixture(name="world")
async def fx_world(
    db: Database, web_app: Any, make_tenant, make_staff, make_client, sign_in
) -> AsyncIterator[dict[str, Any]]:
    tenant = await make_tenant("saved")
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Confirm", price_minor=50000)
        customer_id = await make_customer(scope, code="K1001", name="Kamrul Hasan", package_id=package_id)
        await make_bill(scope, customer_id=customer_id, package_id=package_id)
        discount_id = await make_discount(scope, customer_id=customer_id, label="Old", percent_bp=500)
        router_id = await make_router(scope, name="Uttara", host="10.0.0.9", password="the-router-pass")
        olt_id = await make_olt(scope, name="Uttara OLT", host="10.0.0.10")
        onu_id = await make_onu(scope, olt_id=olt_id, serial="HWTC0000C0DE")
        await scope.connection.execute("UPDATE onu SET mapping = 'manual' WHERE id = $1", onu_id)  # set by hand
        profile_id = await scope.connection.fetchval("SELECT min(id) FROM billing_profile")
        check_id = await scope.connection.fetchval(
            "INSERT INTO status_check (name, kind, target, port) VALUES ('Uttara POP', 'tcp', '10.0.0.9', 22)"
            " RETURNING id"
        )
    platform_check_id = await db.fetchval(
        "INSERT INTO platform.status_check (name, kind, target) VALUES ($1, 'ping', '192.0.2.1') RETURNING id",
        f"Saved ping {tenant.slug}",
    )
    await generate_bills(JobContext(db=db, today=datetime.now(UTC).date(), now=datetime.now(UTC), tenant=tenant))
    plan_id = await db.fetchval(
        "INSERT INTO platform.subscription_plan (name) VALUES ($1) RETURNING id", f"Confirm {tenant.slug}"
    )
    await db.pool.execute("INSERT INTO platform.subscription_tier (plan_id, price) VALUES ($1, 1000)", plan_id)
    bills = [
        await db.fetchval(
            "INSERT INTO platform.subscription_bill (tenant_id, kind, number, status, period_start, period_end,"
            " issue_date, due_date, lock_on, currency, total_minor)"
            " VALUES ($1, 'subscription', $2, 'open', $3::date, $3::date + 27, $3::date + 30, $3::date + 38,"
            " $3::date + 48, 'BDT', 100000) RETURNING id",
            tenant.id,
            f"SUB-{tenant.slug}-{n}",
            datetime(2001 + n, 1, 1, tzinfo=UTC).date(),
        )
        for n in range(2)
    ]
    subject = await make_staff("operator_staff", tenant)
    token = "invite-" + hashlib.sha256(tenant.slug.encode()).hexdigest()[:20]
    invitations = [
        await db.fetchval(
            "INSERT INTO platform.staff_invitation (tenant_id, email, name, role, token_hash, expires_at) VALUES"
            " ($1, $2, 'Invited', 'operator_staff', $3, now() + interval '1 day') RETURNING id",
            tenant.id,
            f"{label}@isp.test",
            hashlib.sha256(f"{token}-{label}".encode()).hexdigest(),
        )
        for label in ("withdrawn", "accepted")
    ]
    # "Run now" queues a job on the app's queue, open for the session (conftest web_app)
    operator, admin = make_client(), make_client()
    await sign_in(operator, await make_staff("operator_admin", tenant))
    await sign_in(admin, await make_staff("platform_admin"))
    ids = {
        "customer_id": str(customer_id),
        "package_id": str(package_id),
        "profile_id": str(profile_id),
        "discount_id": str(discount_id),
        "router_id": str(router_id),
        "olt_id": str(olt_id),
        "onu_id": str(onu_id),
        "bill_id": str(await db.fetchval(f'SELECT max(id) FROM "{tenant.schema}".bill')),
        "user_id": str(await db.fetchval("SELECT id FROM platform.platform_user WHERE email = $1", subject)),
        "invitation_id": str(invitations[0]),
        "token": f"{token}-accepted",
        "event": "payment.received",
        "slug": tenant.slug,
        "suffix": tenant.slug.rsplit("-", 1)[1],
        "check_id": str(check_id),
        "platform_check_id": str(platform_check_id),
        "provider": "bkash",
        "plan_id": str(plan_id),
        # two open subscription bills: one is paid in part, the other voided (a paid-in-part bill cannot be)
        "subscription_bill_id": str(bills[0]),
        "second_subscription_bill_id": str(bills[1]),
    }
    yield {"operator": operator, "admin": admin, "ids": ids}
    # what the saves made outside make_tenant's and make_staff's cleanup: the new operator and the new people
    created = f"dhaka-fiber-{ids['suffix']}"
    await db.pool.execute(
        "DELETE FROM platform.platform_user WHERE email = ANY($1::text[])",
        [f"owner@{created}.test", f"shirin-{ids['suffix']}@isp.test", "accepted@isp.test"],
    )
    with contextlib.suppress(LookupError):
        await drop_tenant(db, created)
    await db.pool.execute(  # the platform's gateway accounts are one per provider, shared by every test
        "DELETE FROM platform.payment_gateway WHERE merchant_id = $1", f"platform-{ids['suffix']}"
    )
    await db.pool.execute(
        "DELETE FROM platform.status_check WHERE id = $1 OR name = $2",
        platform_check_id,
        f"Platform web {ids['suffix']}",
    )


async def _post(client: httpx.AsyncClient, route: str, save: Save, ids: dict[str, str]) -> httpx.Response:
    url = _fill(route.split(" ", 1)[1], ids)
    page = await client.get(_fill(save.page, ids))
    assert page.status_code == 200, f"{save.page}: {page.status_code}"
    fields = form_fields(page.text, url) | {name: _fill(value, ids) for name, value in save.fields.items()}
    return await client.post(url, data=fields, files=save.files)


async def test_every_save_confirms_itself(world: dict[str, Any], make_client) -> None:
    ids: dict[str, str] = world["ids"]
    missing = []
    for route, save in SAVES.items():
        client = world["admin"] if save.admin else world["operator"]
        if route.startswith("POST /invite/"):
            client = make_client()  # the invited person, signed in by accepting
        answer = await _post(client, route, save, ids)
        if answer.status_code != (200 if save.in_place else 303):
            missing.append(f"{route}: refused with {answer.status_code} {_errors(answer.text)}")
            continue
        if save.live_region:
            page = (await client.get(_fill(save.page, ids))).text
            assert re.search(rf'id="{save.live_region}"[^>]*role="status"', page), f"{route}: no live region"
            shown = [" ".join(unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())]
        elif save.in_place:
            shown = _status_texts(answer.text)
        else:
            shown = _status_texts((await client.get(answer.headers["location"])).text)
        if not any(save.message in text for text in shown):
            missing.append(f"{route}: {save.message!r} not among {shown}")
        if route == "POST /admin/subscriptions/bills/{subscription_bill_id:int}/payment":
            ids["subscription_bill_id"] = ids["second_subscription_bill_id"]  # voided next: it has no payment
        if route == "POST /panel/payments/import":
            ids["import_id"] = answer.headers["location"].rstrip("/").rsplit("/", 1)[1]
    assert missing == [], "\n".join(missing)


def _errors(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<small class="error"[^>]*>(.*?)</small>', html, re.S)] + [
        unescape(m) for m in re.findall(r'role="alert"[^>]*>(.*?)<', html)
    ]
