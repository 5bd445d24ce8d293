"""Bad input never gives a 500 (issue 11): every mutating route of the app's own route table is posted
hypothesis-generated forms by a person allowed to use it.

The route list is read from the app (``app.routes``), so a new route is fuzzed without anyone adding it here.
The fields of each route are those of the forms that point at it on the app's own GET pages (crawled as the
role that may use them, with real ids filled in), plus the string keys its handler reads itself (a form that
only appears after a post, such as the one-time-code form). Each example keeps most fields at a value the page
offered and replaces one to three with huge or negative numbers, empty text, 100,000 characters, NUL and other
control characters, bytes that are not UTF-8, values of the wrong kind, or leaves them out or sends them twice;
bodies are urlencoded, multipart (sometimes a file where text belongs) or JSON, with and without htmx.

Each answer must be below 500; a refusal (4xx) must say why (a field message next to the field for 422) and
must leave every row as it was (a checksum of the operator's and the platform's tables before and after).
"""

import contextlib
import inspect
import ipaddress
import json
import os
import re
import secrets
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute

from factories import make_billing_profile, make_discount, make_olt, make_onu, make_package, make_router
from ispb_platform.auth.access import ACCESS, PUBLIC_ACCESS
from ispb_platform.auth.roles import Role, SessionKind
from ispb_platform.auth.sessions import cookie_name, start_session
from ispb_platform.backups.dump import take_backup
from ispb_platform.backups.storage import LocalDestination
from ispb_tenants import Database, TenantRef, create_tenant, drop_tenant

pytestmark = pytest.mark.slow

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
EXAMPLES_PER_ROUTE = int(os.environ.get("ISPB_TEST_FUZZ_EXAMPLES", "30"))
"""Enough to try each kind of bad value on most fields of a form while ~45 routes stay within about two minutes;
``ISPB_TEST_FUZZ_EXAMPLES=300`` digs deeper by hand (still derandomized: a count always gives the same cases)."""

SKIPPED: dict[str, str] = {}
"""``"METHOD /path"`` -> why the route cannot be fuzzed. Empty: every mutating route is. A test checks that each
entry is still a route of the app, so the list cannot rot."""

UNCHECKED_TABLES = {
    "platform.web_session": "the test signs in anew for every example; a refusal by flash message is kept there",
    "platform.auth_throttle": "a wrong password or one-time code is counted, refused or not (sign-in throttling)",
    "otp_code": "a wrong one-time code counts against that code's attempts",
}
"""Tables a refusal legitimately writes, left out of the before/after checksum (``schema.table``, or a bare name
for every operator's schema)."""

ANONYMOUS = "anonymous"
PASSWORD_FIELDS = ("password", "password_again", "portal_password", "access_token", "secret", "api_password")


@dataclass(frozen=True)
class FuzzRoute:
    method: str
    path: str
    role: str
    handler: Any = field(repr=False)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _role_for(path: str, access: Any) -> str:
    """Who posts to ``path``: the platform admin for /admin, a customer for /portal, the operator's admin for
    /panel; anonymous for public routes; else the first role allowed."""
    if access == PUBLIC_ACCESS:
        return ANONYMOUS
    for prefix, role in (("/admin", Role.PLATFORM_ADMIN), ("/portal", Role.CUSTOMER), ("/panel", Role.OPERATOR_ADMIN)):
        if path.startswith(prefix) and role in access:
            return role.value
    for role in (Role.OPERATOR_ADMIN, Role.PLATFORM_ADMIN, Role.CUSTOMER):
        if role in access:
            return role.value
    raise AssertionError(f"no role of this test may use {path}: {access}")


def mutating_routes(app: Litestar) -> list[FuzzRoute]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in MUTATING:
                    found.append(FuzzRoute(method, route.path, _role_for(route.path, handler.opt[ACCESS]), handler))
    return found


def _route_table() -> list[FuzzRoute]:
    """The app's routes at collection time (the same app factory and extra routes as the ``web_app`` fixture;
    ``test_the_fuzzed_routes_are_the_apps`` checks that they are the same)."""
    from ispb_platform.app import create_app
    from ispb_platform.demo import sms_sink
    from ispb_platform.settings import parse_settings

    settings_ = parse_settings(
        {"ISPB_DATABASE_URL": "postgresql://unused@127.0.0.1/unused", "ISPB_SECRET_KEY": "t" * 40}
    )
    return mutating_routes(create_app(settings_, extra_routes=sms_sink.ROUTES))


ROUTES = [route for route in _route_table() if route.key not in SKIPPED]


# --- the fields of a route: its forms on the app's pages, and the keys its handler reads ----------------------


@dataclass
class FieldInfo:
    kind: str = "text"  # an <input> type, "select" or "textarea"
    values: list[str] = field(default_factory=list)  # what the pages offered: the first is the baseline

    def add(self, value: str) -> None:
        if value not in self.values:
            self.values.append(value)


class FormParser(HTMLParser):
    """``targets``: path of each form's action (or ``hx-post``) -> its fields, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: dict[str, dict[str, FieldInfo]] = {}
        self._form: dict[str, FieldInfo] | None = None
        self._form_targets: list[tuple[str, dict[str, str]]] = []
        self._select: FieldInfo | None = None
        self._textarea: tuple[FieldInfo, list[str]] | None = None

    def _field(self, name: str, kind: str) -> FieldInfo:
        assert self._form is not None
        return self._form.setdefault(name, FieldInfo(kind))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form, self._form_targets = {}, []
            target = a.get("hx-post") or (a.get("action", "") if a.get("method", "").lower() == "post" else "")
            if target:
                self._form_targets.append((target, {}))
            return
        if self._form is None:
            return
        if "hx-post" in a:
            vals = json.loads(a["hx-vals"]) if a.get("hx-vals", "").startswith("{") else {}
            self._form_targets.append((a["hx-post"], {str(k): str(v) for k, v in vals.items()}))
        name = a.get("name", "")
        if tag == "input" and name and name != "_csrf_token":
            kind = a.get("type", "text").lower()
            info = self._field(name, kind)
            if kind == "checkbox" or kind == "radio":
                info.add(a.get("value", "on"))
                info.add("")
            elif kind != "file":
                info.add(a.get("value", ""))
        elif tag == "select" and name:
            self._select = self._field(name, "select")
        elif tag == "option" and self._select is not None:
            self._select.add(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = (self._field(name, "textarea"), [])
        elif tag == "button" and name:
            self._field(name, "button").add(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            info, text = self._textarea
            info.add("".join(text).removeprefix("\n"))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            for target, vals in self._form_targets:
                fields = self.targets.setdefault(urlsplit(target).path, {})
                for name, info in {**self._form, **{k: FieldInfo("hidden", [v]) for k, v in vals.items()}}.items():
                    known = fields.setdefault(name, FieldInfo(info.kind))
                    for value in info.values:
                        known.add(value)
            self._form = None


_READ_KEYS = (
    re.compile(r"""\.get\(\s*["']([A-Za-z_][\w-]*)["']"""),  # form.get("login"), data.get("body", "")
    re.compile(r"""for \w+ in \(((?:\s*["'][\w-]+["']\s*,?)+)\)"""),  # for k in ("login", "password", "next")
)


def handler_keys(handler: Any) -> set[str]:
    """String keys the handler function reads itself (its forms module's keys come from the pages)."""
    source = textwrap.dedent(inspect.getsource(handler.fn))
    keys: set[str] = set()
    for pattern in _READ_KEYS:
        for match in pattern.finditer(source):
            keys |= set(re.findall(r"[\w-]+", match.group(1)))
    return keys - {"_csrf_token", "hx-request", "user-agent", "session_token", "boundary"}


def path_regex(path: str) -> re.Pattern[str]:
    pattern = re.sub(
        r"\\\{(\w+)(?::(\w+))?\\\}", lambda m: r"\d+" if m.group(2) == "int" else r"[^/]+", re.escape(path)
    )
    return re.compile(pattern + "/?")


# --- the world: two operators with rows of every kind, people of every role --------------------------------


@dataclass(repr=False)
class World:
    db: Database
    app: Litestar
    panel: TenantRef
    admin_target: TenantRef
    ids: dict[str, dict[str, str]]  # "/admin" or "" (everything else) -> path parameter -> a real value
    users: dict[str, tuple[SessionKind, int, int | None]]  # role -> (session kind, user id, tenant id)
    fields: dict[str, dict[str, FieldInfo]]  # route key -> field -> what the pages offered
    checksum_sql: str
    checksum_tables: list[str]
    clients: dict[str, tuple[httpx.AsyncClient, str]] = field(default_factory=dict)
    unchanged: list[str] | None = None  # the checksum after the last refusal, while nothing else ran since

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis shows a failing case's arguments
        printer.text(f"World(panel={self.panel.slug}, admin_target={self.admin_target.slug})")

    def url(self, path: str, overrides: dict[str, str] | None = None) -> str:
        ids = self.ids["/admin" if path.startswith("/admin") else ""] | (overrides or {})

        def fill(match: re.Match[str]) -> str:
            assert match.group(1) in ids, f"{path}: give the world fixture a row for {{{match.group(1)}}}"
            return quote_from_bytes(ids[match.group(1)].encode(), safe="")

        return re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)

    async def checksum(self) -> list[str]:
        async with self.db.pool.acquire() as connection:
            return list(await connection.fetchval(self.checksum_sql))


async def _add_user(db: Database, role: str, tenant: TenantRef | None) -> int:
    from ispb_platform.auth.passwords import hash_password

    email = f"fuzz.{role.replace('_', '.')}.{secrets.token_hex(3)}@isp.test"
    return int(
        await db.fetchval(
            "INSERT INTO platform.platform_user (email, name, password_hash, role, tenant_id)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            email,
            f"Fuzz {role}",
            hash_password(secrets.token_urlsafe(12)),
            role,
            tenant.id if tenant else None,
        )
    )


async def _rows(db: Database, panel: TenantRef) -> dict[str, str]:
    """Rows of every kind in the panel's operator; their ids fill the path parameters."""
    from ispb_platform.billing.jobs import generate_bills
    from ispb_platform.demo.seed import ensure_packages, seed_customers
    from ispb_platform.jobs.job import JobContext

    async with db.tenant(panel) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, 6)
        package_id = await make_package(scope, name="Fuzz", price_minor=50000, download_kbps=10000, upload_kbps=5000)
        profile_id = await make_billing_profile(scope, name="Fuzz profile")
    await generate_bills(JobContext(db=db, today=date(2026, 12, 1), now=datetime.now(UTC), tenant=panel))
    async with db.tenant(panel) as scope:
        customer_id = await scope.connection.fetchval("SELECT max(id) FROM customer")
        router_id = await make_router(scope, name="Fuzz", host="127.0.0.1", api_port=1)  # refuses at once
        # a customer form may choose it: then the PPPoE user and password go into FreeRADIUS's rows as text
        await make_router(scope, name="Fuzz RADIUS", mode="radius", radius_secret="fuzz-secret", nas_address="10.9.9.9")
        discount_id = await make_discount(scope, customer_id=customer_id, label="Fuzz", percent_bp=500)
        bill_id = await scope.connection.fetchval("SELECT max(id) FROM bill")
        await scope.connection.execute(  # a checkout for the online payment result and return pages
            "INSERT INTO online_payment (customer_id, provider, amount_minor, currency, merchant_ref, origin)"
            " VALUES ($1, 'bkash', 50000, 'BDT', 'fuzz-checkout-000001', 'portal')",
            customer_id,
        )
        check_id = await scope.connection.fetchval(  # port 1 refuses at once: "test now" answers quickly
            "INSERT INTO status_check (name, kind, target, port) VALUES ('Fuzz', 'tcp', '127.0.0.1', 1) RETURNING id"
        )
        # a community that does not open: "test connection" fails at once instead of waiting on an SNMP timeout
        olt_id = await make_olt(scope, name="Fuzz OLT", snmp_port=9, community_sealed="v2:not-sealed")
        onu_id = await make_onu(scope, olt_id=olt_id, serial="HWTC0000F022")
    platform_check_id = await db.fetchval(
        "INSERT INTO platform.status_check (name, kind, target, port) VALUES ($1, 'tcp', '127.0.0.1', 1) RETURNING id",
        f"Fuzz {panel.slug}",
    )
    plan_id = await db.fetchval(
        "INSERT INTO platform.subscription_plan (name) VALUES ($1) RETURNING id", f"Fuzz {panel.slug}"
    )
    await db.pool.execute("INSERT INTO platform.subscription_tier (plan_id, price) VALUES ($1, 1000)", plan_id)
    subscription_bill_id = await db.fetchval(  # an open subscription bill of the panel's operator
        "INSERT INTO platform.subscription_bill (tenant_id, kind, number, status, period_start, period_end,"
        " issue_date, due_date, lock_on, currency, total_minor) VALUES ($1, 'subscription', $2, 'open',"
        " '2026-11-01', '2026-11-30', '2026-12-02', '2026-12-10', '2026-12-20', 'BDT', 100000) RETURNING id",
        panel.id,
        f"SUB-FUZZ-{panel.slug}",
    )
    return {
        "plan_id": str(plan_id),
        "subscription_bill_id": str(subscription_bill_id),
        "olt_id": str(olt_id),
        "onu_id": str(onu_id),
        "customer_id": str(customer_id),
        "bill_id": str(bill_id),
        "discount_id": str(discount_id),
        "router_id": str(router_id),
        "package_id": str(package_id),
        "profile_id": str(profile_id),
        "check_id": str(check_id),
        "platform_check_id": str(platform_check_id),
        "event": "payment.received",
        "operator_slug": panel.slug,
        "provider": "bkash",
        "merchant_ref": "fuzz-checkout-000001",
    }


async def _checksum_query(db: Database, schemas: list[str]) -> tuple[str, list[str]]:
    """One statement returning an md5 per table of ``schemas`` (less ``UNCHECKED_TABLES``)."""
    rows = await db.pool.fetch(
        "SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1::text[]) ORDER BY 1, 2",
        schemas,
    )
    kept = [
        (row["schema"], row["name"])
        for row in rows
        if f"{row['schema']}.{row['name']}" not in UNCHECKED_TABLES and row["name"] not in UNCHECKED_TABLES
    ]
    parts = [  # an order-free sum of row hashes: no sort, so one statement checks ~50 tables in milliseconds
        f'(SELECT count(*) || \':\' || coalesce(sum(hashtextextended(t::text, 0)), 0) FROM "{schema}"."{name}" t)'
        for schema, name in kept
    ]
    return f"SELECT ARRAY[{', '.join(parts)}]", [f"{schema}.{name}" for schema, name in kept]


async def _crawl(world: World) -> dict[str, dict[str, FieldInfo]]:
    """The forms of every GET page of the app (as the role that may open it), by the route they post to."""
    parser = FormParser()
    for route in world.app.routes:
        if not isinstance(route, HTTPRoute) or "file_path" in route.path or "{token" in route.path:
            continue
        for handler in route.route_handlers:
            if "GET" not in handler.http_methods or "Template" not in str(handler.fn.__annotations__.get("return")):
                continue  # only pages (an invoice PDF has no form and would start the renderer)
            role = _role_for(route.path, handler.opt[ACCESS])
            client = await _signed_in(world, role)
            answer = await client.get(world.url(route.path))
            if "text/html" in answer.headers.get("content-type", ""):
                parser.feed(answer.text)
    token_page = await (await _signed_in(world, ANONYMOUS)).get(world.url("/invite/{token}"))
    parser.feed(token_page.text)
    fields: dict[str, dict[str, FieldInfo]] = {}
    for route in mutating_routes(world.app):
        pattern = path_regex(route.path)
        found = fields.setdefault(route.key, {})
        for target, target_fields in parser.targets.items():
            if pattern.fullmatch(target):
                for name, info in target_fields.items():
                    known = found.setdefault(name, FieldInfo(info.kind))
                    for value in info.values:
                        known.add(value)
        for name in handler_keys(route.handler):
            found.setdefault(name, FieldInfo("unknown", [""]))  # read by the handler, not on a page
    return fields


async def _signed_in(world: World, role: str) -> httpx.AsyncClient:
    """The role's client (own cookie jar, CSRF cookie set) with a session started just now."""
    if role not in world.clients:
        # an address of its own per role: the sign-in throttle of the anonymous examples reaches nobody else
        ip = str(ipaddress.ip_address("198.51.100.10") + len(world.clients))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=world.app, client=(ip, 4711)), base_url="https://isp.test"
        )
        page = await client.get("/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token, "the sign-in page has no CSRF token"
        world.clients[role] = (client, token.group(1))
    client, _ = world.clients[role]
    client.cookies.delete(cookie_name(True))
    if role != ANONYMOUS:
        kind, user_id, tenant_id = world.users[role]
        session = await start_session(world.db, kind=kind, user_id=user_id, tenant_id=tenant_id, ip="", user_agent="")
        client.cookies.set(cookie_name(True), session, domain="isp.test", path="/")
    return client


@pytest.fixture(name="world", scope="module")
async def fx_world(db: Database, web_app: Litestar) -> AsyncIterator[World]:
    before = {row["slug"] for row in await db.pool.fetch("SELECT slug FROM platform.tenant")}
    panel = await create_tenant(db, f"fz-{secrets.token_hex(4)}", "Fuzz ISP")
    admin_target = await create_tenant(db, f"fza-{secrets.token_hex(4)}", "Fuzz ISP two")
    rows = await _rows(db, panel)
    configured = web_app.state.runtime.settings
    backup = await take_backup(  # a real backup of the panel's operator: its restore is a route
        db, LocalDestination(configured.data_dir / "backups"), secret_key=configured.secret_key, tenant=panel,
        trigger="manual", period=date(2026, 12, 1),
    )  # fmt: skip
    assert backup is not None
    rows["backup_id"] = str(backup.backup_id)
    subject = await _add_user(db, "operator_staff", panel)  # the person /panel/staff/{user_id} acts on
    admin_subject = await _add_user(db, "operator_staff", admin_target)
    async with db.tenant(panel) as scope:
        customer = await scope.connection.fetchval("SELECT min(id) FROM customer")
    users = {
        Role.PLATFORM_ADMIN.value: (SessionKind.STAFF, await _add_user(db, "platform_admin", None), None),
        Role.OPERATOR_ADMIN.value: (SessionKind.STAFF, await _add_user(db, "operator_admin", panel), panel.id),
        Role.CUSTOMER.value: (SessionKind.CUSTOMER, customer, panel.id),
    }
    ids = {
        "": rows | {"user_id": str(subject), "token": "no-such-invitation"},
        "/admin": {
            "slug": admin_target.slug,
            "user_id": str(admin_subject),
            "platform_check_id": rows["platform_check_id"],
            "provider": "sslcommerz",
            "plan_id": rows["plan_id"],
            "subscription_bill_id": rows["subscription_bill_id"],
        },
    }
    sql, tables = await _checksum_query(db, ["platform", panel.schema, admin_target.schema])
    world = World(db, web_app, panel, admin_target, ids, users, {}, sql, tables)
    # the app's queue is open for the session (conftest web_app); no worker takes the jobs
    invited = await (await _signed_in(world, Role.OPERATOR_ADMIN.value)).post(
        "/panel/staff/",
        data={"_csrf_token": world.clients[Role.OPERATOR_ADMIN.value][1], "user_name": "Fuzz", "email": "fuzz@isp.test"}
        | {"role": "operator_staff"},
    )
    link = re.search(r"/invite/([A-Za-z0-9_-]{43})", invited.text)
    assert link, f"no invitation link: {invited.status_code}"
    world.ids[""]["token"] = link.group(1)
    world.ids[""]["invitation_id"] = str(
        await db.pool.fetchval("SELECT max(id) FROM platform.staff_invitation WHERE tenant_id = $1", panel.id)
    )
    async with db.tenant(panel) as scope:
        code = await scope.connection.fetchval("SELECT code FROM customer WHERE id = $1", customer)
    previewed = await (await _signed_in(world, Role.OPERATOR_ADMIN.value)).post(
        "/panel/payments/import/",
        data={"_csrf_token": world.clients[Role.OPERATOR_ADMIN.value][1], "method": "bank"}
        | {"received_on": "2026-11-20"},
        files={"file": ("statement.csv", f"customer,amount,reference\n{code},100,FUZZ-1\n".encode(), "text/csv")},
    )
    preview = re.search(r"/panel/payments/import/(\d+)", previewed.headers.get("location", ""))
    assert preview, f"no statement preview: {previewed.status_code}"
    world.ids[""]["import_id"] = preview.group(1)  # a previewed statement the confirm route can act on
    world.fields = await _crawl(world)
    yield world
    for client, _ in world.clients.values():
        await client.aclose()
    await db.pool.execute("DELETE FROM platform.payment_gateway")  # accounts a fuzzed form saved
    for row in await db.pool.fetch("SELECT slug FROM platform.tenant"):
        if row["slug"] not in before:  # the two above, and any operator a fuzzed form created
            with contextlib.suppress(LookupError):
                await drop_tenant(db, row["slug"])
    await db.pool.execute(
        "DELETE FROM platform.platform_user WHERE email LIKE 'fuzz.%' OR tenant_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM platform.tenant t WHERE t.id = tenant_id)"
    )


@pytest.fixture(name="summary", scope="module")
def fx_summary(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Counts of the module's examples, printed at its end (past the output capture, so ``-q`` shows it too)."""
    counts: Counter[str] = Counter()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not counts:
        return
    routes = sum(key.startswith("route ") for key in counts)
    statuses = ", ".join(f"{key[7:]}: {n}" for key, n in sorted(counts.items()) if key.startswith("status "))
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"\nform fuzz: {routes} routes, {counts['examples']} examples (answers {statuses})")


# --- what is posted -------------------------------------------------------------------------------------------


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate is sent as the bytes no decoder accepts


TOO_BIG = st.sampled_from(
    ["99999999999999999999", "9223372036854775808", "2147483648", "-2147483649", "1" + "0" * 30, "9" * 5000]
)
"""Past what a column holds (int4, int8) and what ``int()`` reads."""
NOT_QUITE_NUMBERS = st.sampled_from(["NaN", "sNaN", "inf", "-Infinity", "1e308", "1e-30", "-1", "-0", "0", "0.001"])
"""What ``Decimal`` and ``float`` read but no amount, rate or count is, and the small edges."""
ODD_NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["0x1F", "1_000", "1,000,000,000,000.00", "١٢٣", "１２", "²", "12.345.6", "+5", " 7 "]),
)
LONG = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["a", "9", "é", "😀", " ", "<"]),
    st.sampled_from([81, 101, 121, 256, 301, 501, 1001, 2001, 10_001, 100_000]),
)
CONTROL = st.text(alphabet=st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\ufeff"), min_size=1)
WRONG_KIND = st.sampled_from(
    ["", "   ", "true", "null", "[]", '{"a": 1}', "on", "2026-02-30", "9999-12-31", "0001-01-01", "24:61", "a@", "@b",
     "x" * 64 + "@isp.test", "<script>alert(1)</script>", "{{ 7 * 7 }}", "{% raw %}", "{{ name", "' OR 1=1 --",
     "%00", "../../etc/passwd", "\u202egnp.exe", "🙂", "C1", "pppoe", "percent", "amount", "api", "radius", "active"]
)  # fmt: skip
NOT_UTF8 = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"abc\xfe\xffdef", b"\x80", b"\xf8\x88\x80\x80\x80"])
BAD_VALUES = {
    "too big": TOO_BIG.map(_utf8),
    "not quite a number": NOT_QUITE_NUMBERS.map(_utf8),
    "odd number": ODD_NUMBERS.map(_utf8),
    "long": LONG.map(_utf8),
    "control characters": CONTROL.map(_utf8),
    "wrong kind": WRONG_KIND.map(_utf8),
    "not UTF-8": NOT_UTF8,
    "any text": st.text(max_size=30).map(_utf8),
}
"""What a targeted field gets, by kind (each kind as likely as the next, so a rare value is not drowned)."""
NASTY: st.SearchStrategy[bytes] = st.one_of(*BAD_VALUES.values())
HOW = [*BAD_VALUES, "missing", "twice", "as a file", "NUL in the typed value"]


CSV = b"code,name,phone,package\r\nF1,Fuzz Import,01711000000,Fuzz\r\n"
WORDS = st.from_regex(r"[A-Za-z][a-z]{0,11}( [A-Za-z][a-z]{0,11})?", fullmatch=True)
TYPED = {
    "date": st.dates(date(2025, 1, 1), date(2027, 12, 31)).map(date.isoformat),
    "time": st.times().map(lambda t: t.strftime("%H:%M")),
    "email": st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.test", fullmatch=True),
    "tel": st.from_regex(r"01[3-9][0-9]{8}", fullmatch=True),
    "number": st.integers(min_value=0, max_value=5000).map(str),
}
"""What a person types into an input of that type."""
TYPED_TEXT = st.one_of(
    WORDS,
    st.integers(min_value=0, max_value=5000).map(str),
    st.builds(lambda n, c: f"{n}.{c:02d}", st.integers(0, 99999), st.integers(0, 99)),
)


def _plausible(info: FieldInfo) -> st.SearchStrategy[bytes]:
    """What a person might choose or type: for a list, a box or a hidden field only what the page offered; for a
    date, an e-mail, a phone number what such an input takes; for text a word or a number, or what the page
    offered. So the fields around a targeted one mostly pass and its value reaches the database."""
    if info.kind in ("select", "checkbox", "radio", "hidden", "button"):
        return st.sampled_from(info.values or [""]).map(_utf8)
    offered = [v for v in info.values if v]
    typed = TYPED.get(info.kind, TYPED_TEXT)
    return (st.one_of(st.sampled_from(offered), typed) if offered else typed).map(_utf8)


@dataclass(frozen=True)
class Part:
    name: str
    value: bytes
    as_file: bool = False


@dataclass(frozen=True)
class Example:
    parts: tuple[Part, ...]
    encoding: str  # urlencoded, multipart, json
    htmx: bool
    path_overrides: dict[str, str]

    def describe(self) -> str:
        shown = [(p.name, p.value[:80] + (b"..." if len(p.value) > 80 else b""), p.as_file) for p in self.parts]
        return f"{self.encoding}, htmx={self.htmx}, path={self.path_overrides}, parts={shown}"


@st.composite
def examples(draw: st.DrawFn, route: FuzzRoute, fields: dict[str, FieldInfo]) -> Example:
    names = sorted(fields)
    targeted = draw(st.sets(st.sampled_from(names), max_size=3)) if names else set()
    parts: list[Part] = []
    for name in names:
        info = fields[name]
        baseline = _utf8(info.values[0] if info.values else "")
        if info.kind == "file" and name not in targeted:  # a file input sends a file: a small CSV, or a stray logo
            parts.append(Part(name, draw(st.sampled_from([CSV, b"\x89PNG\r\n\x1a\n"])), as_file=True))
            continue
        if name not in targeted:  # an empty baseline (a new form) gets something typed: empty is a targeted case
            parts.append(
                Part(name, draw(st.one_of(st.just(baseline), _plausible(info)) if baseline else _plausible(info)))
            )
            continue
        how = draw(st.sampled_from(HOW))
        if how == "missing":
            continue
        if how == "twice":
            parts += [Part(name, draw(NASTY | _plausible(info))), Part(name, draw(NASTY | _plausible(info)))]
        elif how == "NUL in the typed value":
            parts.append(Part(name, baseline + b"\x00" + draw(_plausible(info))))
        elif how == "as a file":
            parts.append(Part(name, draw(NASTY), as_file=True))
        else:
            parts.append(Part(name, draw(BAD_VALUES[how])))
    if draw(st.booleans()):
        parts.append(Part(draw(st.sampled_from(["x", "id", "tenant_id", "status", "\x00", "é"])), draw(NASTY)))
    if any(info.kind == "file" for info in fields.values()):  # its page posts multipart; sometimes something else
        encoding = draw(st.sampled_from(["multipart", "multipart", "multipart", "urlencoded"]))
    else:
        encoding = draw(st.sampled_from(["urlencoded", "urlencoded", "multipart", "json"]))
    overrides: dict[str, str] = {}
    for param in re.findall(r"\{(\w+):int\}", route.path):
        # mostly a real row; sometimes an id no table can hold (hypothesis favours the bounds 0 and 9, not 7)
        if draw(st.integers(0, 9)) == 7:
            overrides[param] = draw(st.sampled_from(["0", "2147483648", "9223372036854775808", "1" + "0" * 30]))
    return Example(tuple(parts), encoding, draw(st.booleans()), overrides)


def _body(example: Example, csrf: str) -> tuple[bytes, dict[str, str]]:
    headers: dict[str, str] = {}
    if example.encoding == "json":
        values = {p.name: p.value.decode("utf-8", "replace") for p in example.parts}
        return json.dumps(values).encode(), {"content-type": "application/json", "x-csrftoken": csrf}
    parts = (Part("_csrf_token", csrf.encode()), *example.parts)
    if example.encoding == "urlencoded":
        body = "&".join(f"{quote_from_bytes(p.name.encode())}={quote_from_bytes(p.value)}" for p in parts)
        headers["content-type"] = "application/x-www-form-urlencoded"
        return body.encode(), headers
    boundary = "fuzz" + secrets.token_hex(8)
    chunks = []
    for p in parts:
        disposition = f'form-data; name="{p.name}"' + ('; filename="fuzz.csv"' if p.as_file else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += "Content-Type: text/csv\r\n" if p.as_file else ""
        chunks.append(head.encode("utf-8", "surrogatepass") + b"\r\n" + p.value + b"\r\n")
    headers["content-type"] = f"multipart/form-data; boundary={boundary}"
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), headers


# --- the checks -----------------------------------------------------------------------------------------------

_ALERT = re.compile(r'<(\w+)[^>]*role="alert"[^>]*>(.*?)</\1>', re.S)
_FIELD_ERROR = re.compile(r'<small class="error"[^>]*>(.*?)</small>', re.S)


def _text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html)).strip()


def refusal_problem(answer: httpx.Response) -> str | None:
    """Why a 4xx answer does not tell the person what is wrong (None: it does)."""
    body = answer.text
    if answer.status_code == 422:
        if any(_text_of(m) for m in _FIELD_ERROR.findall(body)):
            return None
        return "a 422 without a message next to a field"
    if "text/html" not in answer.headers.get("content-type", ""):
        return None if body.strip() else "an empty refusal"
    if any(_text_of(m.group(2)) for m in _ALERT.finditer(body)) or 'class="status-code"' in body:
        return None
    if answer.headers.get("hx-redirect"):
        return None
    main = re.search(r"<main[^>]*>(.*)</main>", body, re.S)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", main.group(1) if main else "", re.S)
    if main and heading and _text_of(heading.group(1)) and "<form" not in main.group(1):
        return None  # a page that only says why (a used invitation link): nothing on it to correct
    return "a refusal without a message"


def lost_input(example: Example, fields: dict[str, FieldInfo], answer: httpx.Response) -> list[str]:
    """Text fields a 422 page does not show again as typed (passwords are never shown again)."""
    counts = Counter(p.name for p in example.parts)
    lost = []
    for part in example.parts:
        info = fields.get(part.name)
        if info is None or info.kind not in ("text", "textarea", "email", "tel", "number", "url", "date"):
            continue
        if counts[part.name] > 1 or part.as_file or part.name in PASSWORD_FIELDS or example.encoding == "json":
            continue
        try:
            typed = part.value.decode("utf-8").strip()
        except UnicodeDecodeError:
            continue
        if not typed or len(typed) > 5000 or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in typed):
            continue
        if typed not in unescape(answer.text):
            lost.append(part.name)
    return lost


def test_the_fuzzed_routes_are_the_apps(web_app: Litestar) -> None:
    """The routes parametrized at collection are the ``web_app`` fixture's mutating routes, less SKIPPED."""
    assert [r.key for r in ROUTES] == [r.key for r in mutating_routes(web_app) if r.key not in SKIPPED]
    assert len(ROUTES) >= 30


def test_every_skipped_route_is_still_a_route(web_app: Litestar) -> None:
    keys = {route.key for route in mutating_routes(web_app)}
    assert [key for key in SKIPPED if key not in keys] == []


@pytest.mark.parametrize("route", ROUTES, ids=[r.key for r in ROUTES])
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_bad_input_never_gives_a_500(route: FuzzRoute, world: World, summary: Counter[str], data: Any) -> None:
    fields = world.fields[route.key]
    example = data.draw(examples(route, fields))
    note(example.describe())
    client = await _signed_in(world, route.role)
    body, headers = _body(example, world.clients[route.role][1])
    if example.htmx:
        headers["hx-request"] = "true"
    # the previous example's refusal left the rows as they were: its checksum still holds
    before, world.unchanged = world.unchanged or await world.checksum(), None
    answer = await client.request(
        route.method, world.url(route.path, example.path_overrides), content=body, headers=headers
    )
    summary[f"route {route.key}"] += 1
    summary["examples"] += 1
    summary[f"status {answer.status_code}"] += 1
    note(f"answer {answer.status_code}: {answer.text[:300]!r}")
    assert answer.status_code < 500, f"{route.key}: {answer.status_code}"
    if 400 <= answer.status_code < 500:
        assert refusal_problem(answer) is None, f"{route.key}: {refusal_problem(answer)} ({answer.status_code})"
        after = await world.checksum()
        changed = [table for table, a, b in zip(world.checksum_tables, before, after, strict=True) if a != b]
        assert changed == [], f"{route.key}: a {answer.status_code} refusal changed {changed}"
        world.unchanged = after
    if answer.status_code == 422:
        assert lost_input(example, fields, answer) == [], f"{route.key}: the 422 page lost what was typed"
