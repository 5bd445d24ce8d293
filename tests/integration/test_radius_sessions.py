"""RADIUS session housekeeping against the real PostgreSQL: stale sessions closed once, Disconnect-Requests to a
loopback NAS that checks their authenticator, the online list per tenant; and Accounting-On through a real
FreeRADIUS closing a rebooted NAS's sessions.

NAS addresses: 127.0.0.1 answers Disconnect-Requests (`FakeNas`), 127.0.0.3 is a RADIUS router whose CoA port
has nobody listening, 10.255.0.1 belongs to an API-mode router (never sent a Disconnect).
"""

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest

from factories import make_customer, make_router
from ispb_netsync.radius import (
    AcctStatusType,
    Code,
    ErrorCause,
    Packet,
    attr,
    build_response,
    decode,
    send_request,
    verify_request,
)
from ispb_platform.jobs.job import JobContext
from ispb_platform.network.jobs import close_stale_sessions
from ispb_platform.network.radius.config import Listen, RadiusNas, RadiusTenant, render
from ispb_platform.network.radius.queries import STALE_CAUSE
from ispb_platform.network.radius.routes import PATH, online_page
from ispb_platform.network.radius.sessions import format_bytes, format_duration
from ispb_tenants import Database, TenantRef
from peers.freeradius import free_udp_ports, running_freeradius

KEY = "t" * 40  # the web app's ISPB_SECRET_KEY
NAS_SECRET = "nas-s3cret"
LIVE_NAS, DEAD_NAS, API_NAS, UNKNOWN_NAS = "127.0.0.1", "127.0.0.3", "10.255.0.1", "10.255.0.9"
NOW = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
FAST = {"disconnect_timeout": 0.2, "disconnect_retries": 0}


@dataclass
class FakeNas(asyncio.DatagramProtocol):
    """A NAS's Dynamic Authorization server: checks each request's authenticators with the shared secret,
    ACKs a Disconnect for a session in ``live`` and NAKs (Session-Context-Not-Found) any other."""

    secret: bytes
    live: set[str]
    received: list[Packet] = field(default_factory=list)
    forged: int = 0
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # the selector transport is not a subclass

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not verify_request(data, self.secret):
            self.forged += 1
            return
        request = decode(data)
        self.received.append(request)
        if request.get("Acct-Session-Id") in self.live:
            answer = build_response(Code.DISCONNECT_ACK, request, self.secret)
        else:
            cause = attr("Error-Cause", ErrorCause.SESSION_CONTEXT_NOT_FOUND)
            answer = build_response(Code.DISCONNECT_NAK, request, self.secret, [cause])
        assert self.transport is not None
        self.transport.sendto(answer, addr)


@pytest.fixture(name="nas")
async def fx_nas() -> AsyncIterator[tuple[FakeNas, int]]:
    loop = asyncio.get_running_loop()
    transport, nas = await loop.create_datagram_endpoint(
        lambda: FakeNas(NAS_SECRET.encode(), {"live-1"}), local_addr=(LIVE_NAS, 0)
    )
    try:
        yield nas, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


def _ctx(db: Database, tenant: TenantRef, now: datetime = NOW) -> JobContext:
    return JobContext(db=db, today=now.date(), now=now, tenant=tenant, secret_key=KEY)


async def _router(db: Database, tenant: TenantRef, name: str, mode: str, nas: str, coa_port: int = 3799) -> None:
    async with db.tenant(tenant) as scope:
        await make_router(
            scope,
            name=name,
            host=nas,
            username="api",
            password="api-pass",
            mode=mode,
            radius_secret=NAS_SECRET if mode == "radius" else None,
            secret_key=KEY,
            nas_address=nas,
            coa_port=coa_port,
        )


async def _session(
    db: Database,
    tenant: TenantRef,
    session_id: str,
    *,
    user: str = "rahim",
    nas: str = LIVE_NAS,
    started: timedelta,
    updated: timedelta | None,
    stopped: timedelta | None = None,
    octets: tuple[int, int] = (0, 0),
    now: datetime = NOW,
) -> None:
    """An accounting row as FreeRADIUS writes it (raw SQL: FreeRADIUS's row, not one the app writes); times are
    how long before ``now``."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime,"
            " acctstoptime, acctterminatecause, acctinputoctets, acctoutputoctets, framedipaddress)"
            " VALUES ($1, $2, $3, $4::inet, $5, $6, $7, $8, $9, $10, '100.64.0.9')",
            session_id,
            f"{tenant.slug}-{session_id}",
            user,
            nas,
            now - started,
            None if updated is None else now - updated,
            None if stopped is None else now - stopped,
            "User-Request" if stopped is not None else None,
            *octets,
        )


async def _rows(db: Database, tenant: TenantRef) -> dict[str, dict[str, Any]]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT * FROM radacct")
    return {r["acctsessionid"]: dict(r) for r in rows}


@pytest.fixture(name="isp")
async def fx_isp(db: Database, make_tenant, nas: tuple[FakeNas, int]) -> dict[str, TenantRef]:
    """Tenant ``one``: live, dead and API routers and sessions of every kind; tenant ``two``: one stale session."""
    one, two = await make_tenant("ses"), await make_tenant("ses")
    await _router(db, one, "Live", "radius", LIVE_NAS, nas[1])
    await _router(db, one, "Dead", "radius", DEAD_NAS, free_udp_ports(1)[0])
    await _router(db, one, "Api", "api", API_NAS)
    m = timedelta(minutes=1)
    await _session(db, one, "fresh", started=60 * m, updated=4 * m)
    await _session(db, one, "live-1", user="karim", started=90 * m, updated=20 * m)  # still up on the NAS
    await _session(db, one, "gone-1", user="salma", started=30 * m, updated=None)  # a Start, then silence
    await _session(db, one, "dead-1", user="dead1", nas=DEAD_NAS, started=60 * m, updated=16 * m)
    await _session(db, one, "dead-2", user="dead2", nas=DEAD_NAS, started=60 * m, updated=40 * m)
    await _session(db, one, "api-1", user="api1", nas=API_NAS, started=60 * m, updated=30 * m)
    await _session(db, one, "unknown-1", user="who", nas=UNKNOWN_NAS, started=60 * m, updated=30 * m)
    await _session(db, one, "closed", started=600 * m, updated=500 * m, stopped=499 * m)
    await _session(db, two, "other-stale", started=90 * m, updated=60 * m)
    return {"one": one, "two": two}


async def test_stale_sessions_are_closed_once_at_their_last_sign_of_life(db: Database, isp, nas):
    fake, _ = nas
    one, two = isp["one"], isp["two"]
    before = await _rows(db, one)

    counts = await close_stale_sessions(_ctx(db, one), **FAST)

    assert counts == {
        "closed": 6,
        "disconnect_acked": 1,  # live-1
        "disconnect_nak": 1,  # gone-1: the NAS no longer knows it
        "nas_unreachable": 2,  # dead-1 timed out; dead-2 was not sent (the router was already silent)
        "disconnect_skipped": 2,  # api-1 (API-mode router), unknown-1 (no router of this tenant)
    }
    rows = await _rows(db, one)
    assert rows["fresh"]["acctstoptime"] is None
    assert rows["closed"] == before["closed"]
    for sid in ("live-1", "gone-1", "dead-1", "dead-2", "api-1", "unknown-1"):
        row = rows[sid]
        last_sign = row["acctupdatetime"] or row["acctstarttime"]
        assert (row["acctstoptime"], row["acctterminatecause"]) == (last_sign, STALE_CAUSE), sid
        assert row["acctsessiontime"] == int((last_sign - row["acctstarttime"]).total_seconds()), sid
    assert rows["live-1"]["acctsessiontime"] == 70 * 60 and rows["gone-1"]["acctsessiontime"] == 0
    assert (await _rows(db, two))["other-stale"]["acctstoptime"] is None  # another tenant's session is its own

    # the NAS got authentic requests naming the user and the session
    assert fake.forged == 0
    assert sorted((p.code, p.get("User-Name"), p.get("Acct-Session-Id")) for p in fake.received) == [
        (Code.DISCONNECT_REQUEST, "karim", "live-1"),
        (Code.DISCONNECT_REQUEST, "salma", "gone-1"),
    ]

    again = await close_stale_sessions(_ctx(db, one), **FAST)
    assert again == dict.fromkeys(again, 0) and again["closed"] == 0
    assert len(fake.received) == 2 and await _rows(db, one) == rows


async def test_two_workers_close_and_disconnect_each_session_once(db: Database, isp, nas):
    fake, _ = nas
    one = isp["one"]
    # batch=1: the workers interleave row by row, each skipping what the other holds
    runs = await asyncio.gather(*(close_stale_sessions(_ctx(db, one), batch=1, **FAST) for _ in range(2)))
    assert sum(run["closed"] for run in runs) == 6
    assert sum(run["disconnect_acked"] + run["disconnect_nak"] for run in runs) == 2
    assert sorted(p.get("Acct-Session-Id") for p in fake.received) == ["gone-1", "live-1"]
    assert (await close_stale_sessions(_ctx(db, one), **FAST))["closed"] == 0


async def test_a_session_silent_for_less_than_the_threshold_stays_open(db: Database, make_tenant):
    tenant = await make_tenant("ses")
    await _session(db, tenant, "quiet", started=timedelta(hours=2), updated=timedelta(minutes=14))
    assert (await close_stale_sessions(_ctx(db, tenant), **FAST))["closed"] == 0
    later = await close_stale_sessions(_ctx(db, tenant, NOW + timedelta(minutes=2)), **FAST)
    assert later["closed"] == 1 and later["disconnect_skipped"] == 1  # no router for 127.0.0.1 in this tenant


# --- the online page --------------------------------------------------------------------------------------


@pytest.fixture(name="online_client")
async def fx_online_client(web_app: Any, database_url: str, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on an app with the online page. Uses the shared app once app.py registers the page; until
    then, a private app with it registered (so the shared app's route table stays as app.py makes it)."""
    app = web_app
    if not any(route.path == PATH for route in web_app.routes):
        from ispb_platform.app import create_app
        from ispb_platform.jobs.queue import make_queue
        from ispb_platform.runtime import Runtime
        from ispb_platform.settings import parse_settings

        settings = parse_settings({"ISPB_DATABASE_URL": database_url, "ISPB_SECRET_KEY": KEY})
        app = create_app(settings, runtime=Runtime(settings, database_url, db, make_queue(None, database_url)))
        app.register(online_page)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="https://isp.test") as client:
        yield client


async def _customer(db: Database, tenant: TenantRef, code: str, name: str, username: str) -> int:
    async with db.tenant(tenant) as scope:
        return await make_customer(scope, code=code, name=name, phone="+8801711000001", pppoe_username=username)


async def test_online_page_lists_open_sessions_of_the_operators_tenant_only(
    db: Database, make_tenant, make_staff, sign_in, online_client: httpx.AsyncClient
):
    one, two = await make_tenant("onl"), await make_tenant("onl")
    customer_id = await _customer(db, one, "C-ONLINE-1", "Rahim Uddin", "rahim")
    await _customer(db, two, "OTHER-TENANT-1", "Someone Else", "rahim")  # same username, other operator
    now, h = datetime.now(UTC), timedelta(hours=1)
    await _session(db, one, "on-1", started=2 * h, updated=0 * h, octets=(3 * 1024**2, 5 * 1024**3), now=now)
    await _session(db, one, "ended", started=5 * h, updated=4 * h, stopped=4 * h, now=now)
    await _session(db, two, "on-2", started=h, updated=0 * h, now=now)
    await sign_in(online_client, await make_staff("operator_staff", one))

    page = await online_client.get(PATH)
    assert page.status_code == 200
    assert f'href="/panel/customers/{customer_id}">C-ONLINE-1</a>' in page.text
    assert "OTHER-TENANT-1" not in page.text and "Someone Else" not in page.text
    assert page.text.count("<tr><td>") == 1  # the ended session is not listed
    assert "5.0 GB" in page.text and "3.0 MB" in page.text  # download = output octets, upload = input
    assert "1 session open" in page.text and "2h 0m" in page.text and "silent" not in page.text

    found = await online_client.get(PATH, params={"q": "c-online"}, headers={"HX-Request": "true"})
    assert found.status_code == 200 and "C-ONLINE-1" in found.text and 'id="online-table"' in found.text
    missing = await online_client.get(PATH, params={"q": "nobody_%"})
    assert "No open session matches" in missing.text and "C-ONLINE-1" not in missing.text


async def test_online_page_says_so_when_nobody_is_online(
    make_tenant, make_staff, sign_in, online_client: httpx.AsyncClient
):
    tenant = await make_tenant("onl")
    await sign_in(online_client, await make_staff("operator_admin", tenant))
    page = await online_client.get(PATH)
    assert page.status_code == 200 and "No one is online right now." in page.text


async def test_online_page_is_for_operators_only(make_staff, sign_in, online_client: httpx.AsyncClient):
    assert (await online_client.get(PATH)).status_code in (302, 303, 401)
    await sign_in(online_client, await make_staff("platform_admin"))
    assert (await online_client.get(PATH)).status_code == 403


def test_bytes_and_durations_read_like_the_rest_of_the_panel():
    assert [format_bytes(n) for n in (None, 0, 1023, 1536, 5 * 1024**3, 3 * 1024**5)] == [
        "—",
        "0 B",
        "1023 B",
        "1.5 KB",
        "5.0 GB",
        "3072.0 TB",
    ]
    assert [format_duration(d) for d in (None, timedelta(seconds=59), timedelta(hours=3, minutes=5))] == [
        "—",
        "0m",
        "3h 5m",
    ]
    assert format_duration(timedelta(days=2, hours=3, minutes=4)) == "2d 3h"


# --- Accounting-On through the real FreeRADIUS ------------------------------------------------------------


@pytest.mark.radius
async def test_accounting_on_from_a_rebooted_nas_closes_its_open_sessions(db: Database, database_url: str, make_tenant):
    """The generated configuration's ``accounting-on`` query (freeradius/queries.conf):
    every open session of that NAS that started before the reboot is closed, others stay open."""
    tenant = await make_tenant("rbt")
    nas_secret = f"reboot-{secrets.token_hex(4)}"
    reboot = datetime.now(UTC).replace(microsecond=0)
    for sid, nas, started in (
        ("before-1", LIVE_NAS, timedelta(hours=3)),
        ("before-2", LIVE_NAS, timedelta(minutes=10)),
        ("elsewhere", "10.255.0.7", timedelta(hours=1)),
    ):
        await _session(db, tenant, sid, nas=nas, started=started, updated=None, now=reboot)
    auth_port, acct_port = free_udp_ports(2)
    radius_tenant = RadiusTenant(tenant.slug, tenant.schema, (RadiusNas(1, "core", LIVE_NAS, nas_secret),))
    files = render([radius_tenant], database_url=database_url, listen=Listen(LIVE_NAS, auth_port, acct_port)).files
    with running_freeradius(files, auth_port=auth_port, acct_port=acct_port) as radius:
        answer = await send_request(
            radius.address,
            radius.acct_port,
            nas_secret,
            Code.ACCOUNTING_REQUEST,
            [
                attr("Acct-Status-Type", AcctStatusType.ACCOUNTING_ON),
                attr("NAS-IP-Address", LIVE_NAS),
                attr("Acct-Session-Id", "00000000"),
                attr("Event-Timestamp", int(reboot.timestamp())),
            ],
            source_address=LIVE_NAS,
            timeout=2,
            retries=1,
        )
        assert answer.code is Code.ACCOUNTING_RESPONSE, radius.log()[-2000:]
    rows = await _rows(db, tenant)
    for sid in ("before-1", "before-2"):
        assert (rows[sid]["acctstoptime"], rows[sid]["acctterminatecause"]) == (reboot, "NAS-Reboot"), sid
    assert rows["elsewhere"]["acctstoptime"] is None
