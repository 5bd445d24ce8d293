"""``monitor.status_checks`` against real local servers switched off and on: an HTTP server, a TCP listener, the
RouterOS peer (a check bound to a router, with the router's sealed password), loopback ping. Incidents open after
the confirm count, close on recovery, the operator is told once per incident (the outbox), a round twice in a
minute or two rounds at once check nothing twice."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from factories import make_router
from ispb_notify import OutboundPolicy
from ispb_platform.monitoring import queries
from ispb_platform.monitoring.rounds import run_round
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef
from peers.routeros import RouterOSPeer

SECRET = "t" * 40
LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")


@contextlib.asynccontextmanager
async def http_server(port: int = 0, delay: float = 0.0) -> AsyncIterator[int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while await reader.readline() not in (b"\r\n", b""):
                pass
            await asyncio.sleep(delay)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def add_check(
    db: Database, tenant: TenantRef, name: str, kind: str, target: str, *, port: int | None = None, **extra: object
) -> int:
    async with db.tenant(tenant) as scope:
        check_id = await queries.next_check_id(scope.connection)
        secret = extra.pop("secret", None)
        sealed = (
            seal(SECRET, str(secret), Binding(tenant.id, Purpose.MONITOR_CHECK_SECRET, check_id)) if secret else None
        )
        fields = queries.CheckFields(
            name=name, public_name=str(extra.pop("public_name", name)), kind=kind, target=target, port=port,
            options=dict(extra.pop("options", {})), router_id=extra.pop("router_id", None),  # type: ignore[arg-type]
            timeout_s=2, confirm_count=2,
        )  # fmt: skip
        await queries.save_check(scope.connection, check_id, fields, sealed, new=True)
    return check_id


async def _rows(db: Database, tenant: TenantRef, sql: str, *args: object) -> list[dict]:
    async with db.tenant(tenant) as scope:
        return [dict(r) for r in await scope.connection.fetch(sql, *args)]


async def _round(db: Database, tenant: TenantRef, minute: int, start: datetime) -> dict[str, int]:
    return await run_round(
        db, secret_key=SECRET, outbound=LOOPBACK, now=start + timedelta(minutes=minute), tenants=[tenant],
        include_platform=False,
    )  # fmt: skip


@pytest.fixture(name="tenant")
async def fx_tenant(db: Database, make_tenant) -> TenantRef:
    tenant = await make_tenant("mon")
    async with db.platform() as connection:
        await connection.execute("UPDATE tenant SET phone = '01711000111' WHERE id = $1", tenant.id)
    return tenant


async def test_switched_off_and_on(db: Database, tenant: TenantRef) -> None:
    tcp = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    tcp_port = tcp.sockets[0].getsockname()[1]
    async with http_server() as http_port, RouterOSPeer(username="ispb", password="router-pass") as router:
        async with db.tenant(tenant) as scope:
            router_id = await make_router(scope, name="Core", api_port=router.port)
        web = await add_check(db, tenant, "Portal", "http", f"http://127.0.0.1:{http_port}/")
        port = await add_check(db, tenant, "Billing API", "tcp", "127.0.0.1", port=tcp_port)
        core = await add_check(db, tenant, "Core router", "routeros", "-", router_id=router_id)
        ping = await add_check(db, tenant, "Gateway", "ping", "127.0.0.1")
        never = await add_check(db, tenant, "Old server", "tcp", "127.0.0.1", port=1, public_name="")
        start = datetime.now(UTC)

        first = await _round(db, tenant, 0, start)
        assert first["checked"] == 5 and first["down"] == 1 and first["opened"] == 0
        assert (await _round(db, tenant, 0, start))["checked"] == 0  # the same minute again: nothing due
        states = {r["id"]: r for r in await _rows(db, tenant, "SELECT * FROM status_check")}
        assert {states[i]["last_status"] for i in (web, port, core, ping)} == {"up"}, states
        assert "signed in to" in states[core]["last_message"]

        second = await _round(db, tenant, 1, start)
        assert second["opened"] == 1  # the old server: two failures in a row
        # switched off: the TCP listener and the router stop listening
        tcp.close()
        await tcp.wait_closed()
        await router.stop_listening()
        third = await _round(db, tenant, 2, start)
        assert third["down"] == 3 and third["opened"] == 0  # one failure is not an outage yet
        fourth = await _round(db, tenant, 3, start)
        assert fourth["opened"] == 2
        open_now = await _rows(db, tenant, "SELECT check_id, started_at FROM status_incident WHERE ended_at IS NULL")
        assert {r["check_id"] for r in open_now} == {never, port, core}
        third_minute = (await _rows(db, tenant, "SELECT * FROM status_check WHERE id = $1", port))[0]
        assert third_minute["shown"] == "down"
        downs = await _rows(db, tenant, "SELECT key, body, to_address FROM outbox WHERE cause = 'monitor.down'")
        assert len(downs) == 3 and all(r["to_address"].endswith("1711000111") for r in downs)
        assert any("Billing API is DOWN" in r["body"] for r in downs)

        # switched on again on the same ports
        tcp = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", tcp_port)
        await router.__aenter__()
        fifth = await _round(db, tenant, 4, start)
        assert fifth["closed"] == 2 and fifth["opened"] == 0
        sixth = await _round(db, tenant, 5, start)
        assert sixth["closed"] == 0 and sixth["notified"] == 0
        ups = await _rows(db, tenant, "SELECT key FROM outbox WHERE cause = 'monitor.up'")
        assert len(ups) == 2
        incidents = await _rows(db, tenant, "SELECT * FROM status_incident WHERE check_id = $1", port)
        assert len(incidents) == 1 and incidents[0]["ended_at"] > incidents[0]["started_at"]
        tcp.close()


async def test_two_rounds_at_once_check_each_check_once(db: Database, tenant: TenantRef) -> None:
    for n in range(20):
        await add_check(db, tenant, f"Down {n}", "tcp", "127.0.0.1", port=1)
    start = datetime.now(UTC)
    for minute in range(2):
        a, b = await asyncio.gather(_round(db, tenant, minute, start), _round(db, tenant, minute, start))
        assert a.get("checked", 0) + b.get("checked", 0) == 20
        assert {"skipped_busy"} & (a.keys() | b.keys()) or min(a.get("checked", 0), b.get("checked", 0)) == 0
    incidents = await _rows(db, tenant, "SELECT check_id FROM status_incident")
    assert len(incidents) == 20  # one each, never two


async def test_maintenance_opens_no_incident_and_paused_checks_rest(db: Database, tenant: TenantRef) -> None:
    check = await add_check(db, tenant, "Planned", "tcp", "127.0.0.1", port=1)
    paused = await add_check(db, tenant, "Paused", "tcp", "127.0.0.1", port=1)
    start = datetime.now(UTC)
    async with db.tenant(tenant) as scope:
        await queries.add_maintenance(
            scope.connection, check, start - timedelta(hours=1), start + timedelta(hours=1), ""
        )
        await queries.set_paused(scope.connection, paused, True)
    for minute in range(3):
        counts = await _round(db, tenant, minute, start)
        assert counts["checked"] == 1 and counts["opened"] == 0
    assert await _rows(db, tenant, "SELECT * FROM status_incident") == []


async def test_the_scheduled_jobs_run_through_the_schedule(db: Database, tenant: TenantRef) -> None:
    """``monitor.status_checks`` (platform scope: every operator's checks) and ``monitor.zabbix_sync`` (per
    operator) as the worker runs them, with their run records."""
    from ispb_platform.jobs.registry import get_job
    from ispb_platform.jobs.runs import Trigger, execute

    check = await add_check(db, tenant, "Through the schedule", "tcp", "127.0.0.1", port=1)
    run = await execute(
        db, get_job("monitor.status_checks"), tenant=None, trigger=Trigger.MANUAL, key=f"mon-{tenant.slug}",
        secret_key=SECRET, outbound=LOOPBACK,
    )  # fmt: skip
    assert run.status == "succeeded" and run.counts["checked"] >= 1, run
    rows = await _rows(db, tenant, "SELECT last_status, last_message FROM status_check WHERE id = $1", check)
    assert rows[0]["last_status"] == "down" and "refused" in rows[0]["last_message"]
    sync = await execute(
        db, get_job("monitor.zabbix_sync"), tenant=tenant, trigger=Trigger.MANUAL, key=f"zbx-{tenant.slug}",
        secret_key=SECRET, outbound=LOOPBACK,
    )  # fmt: skip
    assert sync.status == "succeeded" and sync.counts == {"not_configured": 1}


async def test_checks_of_one_slow_host_do_not_wait_for_each_other(db: Database, tenant: TenantRef) -> None:
    """Twenty pages of one server that takes a second to answer, 2 s timeout each: all up in about a second."""
    async with http_server(delay=1.0) as port:
        for n in range(20):
            await add_check(db, tenant, f"Page {n}", "http", f"http://127.0.0.1:{port}/page/{n}")
        began = asyncio.get_running_loop().time()
        counts = await _round(db, tenant, 0, datetime.now(UTC))
        took = asyncio.get_running_loop().time() - began
    assert counts["checked"] == 20 and counts["down"] == 0, counts
    assert took < 5, took
