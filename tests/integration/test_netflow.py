"""NetFlow end to end: a router exports NetFlow v9 on loopback (tests/peers/netflow.py) to the platform's collector
(real nfcapd, started by ``run_collector`` from the tenants' routers); Logs → NetFlow finds the flows by customer
and by address, naming the customer who held the address at each flow's time; an unknown exporter and garbage
are logged and dropped without losing anything else; ``maintenance.purge_netflow`` removes old files only."""

import asyncio
import logging
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from factories import make_customer, make_router
from ispb_netsync.netflow import Flow, NfcapdCollector, capture_files, source_dir
from ispb_platform.jobs.job import JobContext
from ispb_platform.maintenance.jobs import purge_netflow
from ispb_platform.network.netflow.collect import CollectorLog, run_collector
from ispb_tenants import Database, TenantRef
from peers.netflow import LoopbackExporter, free_udp_port
from processes import ispb_environment

ISPB = str(Path(sys.executable).parent / "ispb")

SHARED = "100.64.7.7"
OTHER = "100.64.7.8"
INTERNET = "198.51.100.20"


def _router_address() -> str:
    """A loopback address no other test's router uses (the collector reads every tenant's routers)."""
    return f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


async def _held(scope, username: str, address: str, start: datetime, stop: datetime | None) -> None:
    await scope.connection.execute(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime,"
        " framedipaddress) VALUES ($1, $1, $2, '127.0.0.1', $3, $4, $5)",
        f"s-{username}-{start.timestamp()}",
        username,
        start,
        stop,
        address,
    )


def _flow(source: str, destination: str, first: datetime, octets: int, port: int = 443) -> Flow:
    return Flow(source, destination, 50000, port, 6, octets, 10, first, first + timedelta(minutes=2))


async def _collect(db: Database, data_dir: Path, send) -> list[str]:
    """Run the collector, call ``send(port)`` once nfcapd listens, stop it (nfcapd closes its files)."""
    port = free_udp_port()
    collector = NfcapdCollector(host="127.0.0.1", port=port, log=CollectorLog())
    task = asyncio.create_task(run_collector(db, data_dir, collector, refresh_s=0.2))
    for _ in range(100):
        if collector.running:
            break
        await asyncio.sleep(0.05)
    assert collector.running, "nfcapd did not start"
    await asyncio.sleep(0.3)  # bound to its port
    send(port)
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return [str(source.address) for source in collector.sources]


@pytest.fixture(name="world")
async def fx_world(db: Database, make_tenant, web_app):
    data_dir = Path(web_app.state.runtime.settings.data_dir)
    tenant = await make_tenant("flows")
    router = _router_address()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    handover = now - timedelta(minutes=20)
    async with db.tenant(tenant) as scope:
        router_id = await make_router(scope, name="Core", host="core.flows.test", mode="radius",
                                      radius_secret="radius-secret", nas_address=router)  # fmt: skip
        morning = await make_customer(scope, code="NF-1", pppoe_username="rahim", router_id=router_id)
        evening = await make_customer(scope, code="NF-2", pppoe_username="karim", router_id=router_id)
        await make_customer(scope, code="NF-3", router_id=router_id)
        await scope.connection.execute("UPDATE customer SET ip_address = $1 WHERE code = 'NF-3'", OTHER)
        await _held(scope, "rahim", SHARED, now - timedelta(hours=3), handover)
        await _held(scope, "karim", SHARED, handover, None)
    return {
        "tenant": tenant, "data_dir": data_dir, "router": router, "router_id": router_id, "now": now,
        "handover": handover, "morning": morning, "evening": evening,
    }  # fmt: skip


async def test_flows_reach_the_collector_and_the_search_names_who_held_the_address(
    world, db: Database, make_client, make_staff, make_tenant, sign_in, caplog
):
    tenant: TenantRef = world["tenant"]
    now, handover = world["now"], world["handover"]
    stranger = _router_address()

    def send(port: int) -> None:
        router = LoopbackExporter(world["router"], port)
        router.send([_flow(SHARED, INTERNET, handover - timedelta(minutes=30), 7000 + n) for n in range(3)])
        router.send([_flow(INTERNET, SHARED, handover + timedelta(minutes=5), 9000, port=53)])
        router.send([_flow(OTHER, INTERNET, now - timedelta(minutes=10), 1234)])
        router.send_raw([b"\x00\x09 not netflow", b"\xff" * 64])
        LoopbackExporter(stranger, port, source_id=9).send([_flow(SHARED, INTERNET, now - timedelta(minutes=5), 666)])

    with caplog.at_level(logging.INFO, logger="ispb.netflow"):
        sources = await _collect(db, world["data_dir"], send)
    assert world["router"] in sources and stranger not in sources
    assert f"NetFlow from {stranger} skipped: no router has this exporter address" in caplog.text
    files = capture_files(source_dir(world["data_dir"], tenant.slug, world["router_id"]))
    assert files, "nfcapd wrote no capture file for the router"

    operator = make_client()
    await sign_in(operator, await make_staff("operator_staff", tenant))
    local = ZoneInfo(tenant.timezone)
    window = {
        "start": (now - timedelta(hours=2)).astimezone(local).strftime("%Y-%m-%dT%H:%M"),
        "end": (now + timedelta(minutes=5)).astimezone(local).strftime("%Y-%m-%dT%H:%M"),
    }
    by_customer = await operator.get("/panel/logs/netflow", params={"customer": "NF-1"} | window)
    assert by_customer.status_code == 200
    page = by_customer.text
    assert "3 flows" in page and f"who held {SHARED}" in page
    assert "6.8 KB" in page  # 7,000 to 7,002 bytes
    assert f"{INTERNET}:50000" not in page, "the flow after the handover is the next customer's"
    assert "666" not in page, "the unknown exporter's flow was dropped"

    customer_page = await operator.get(f"/panel/customers/{world['morning']}")
    assert 'href="/panel/logs/netflow?customer=NF-1"' in customer_page.text

    by_address = await operator.get("/panel/logs/netflow", params={"address": SHARED} | window)
    assert "4 flows" in by_address.text
    assert f'href="/panel/customers/{world["morning"]}">NF-1' in by_address.text
    assert f'href="/panel/customers/{world["evening"]}">NF-2' in by_address.text

    static = await operator.get("/panel/logs/netflow", params={"address": "100.64.7.0/24"} | window)
    assert "5 flows" in static.text and ">NF-3</a>" in static.text

    stranger_operator = make_client()
    await sign_in(stranger_operator, await make_staff("operator_staff", await make_tenant("flows-other")))
    elsewhere = await stranger_operator.get("/panel/logs/netflow", params={"address": SHARED} | window)
    assert "No flows match this search" in elsewhere.text and "No capture files cover" in elsewhere.text
    assert "NF-1" not in elsewhere.text, "another operator's flows and customers stay theirs"

    by_port = await operator.get("/panel/logs/netflow", params={"address": SHARED, "port": "53"} | window)
    assert "1 flow ·" in by_port.text and f"{INTERNET}:50000" in by_port.text


async def test_bad_searches_get_clear_messages_and_empty_states(world, make_client, make_staff, sign_in):
    operator = make_client()
    await sign_in(operator, await make_staff("operator_staff", world["tenant"]))
    empty = await operator.get("/panel/logs/netflow")
    assert empty.status_code == 200 and "Search by customer or IP address to see flows" in empty.text
    cases = [
        ({"address": "100.64.7.7 or any"}, "is not an IP address"),
        ({"address": "10.0.0.0/33"}, "is not a network"),
        ({"customer": "NF-1", "port": "70000"}, "is not a port"),
        ({"customer": "NF-1", "start": "yesterday"}, "Enter a date and time"),
        ({"customer": "NF-1", "start": "2026-12-03T10:00", "end": "2026-12-03T09:00"}, "must be after its start"),
        ({"customer": "NF-1", "start": "2026-01-01T00:00", "end": "2026-12-03T00:00"}, "at most 31 days"),
        ({"port": "443"}, "Enter a customer or an IP address"),
        ({"customer": "NF-1", "start": "9999-12-31T22:00", "end": "9999-12-31T23:59"}, "from 1990 to 2999"),
        ({"customer": "NF-1", "end": "0001-01-01T01:00"}, "from 1990 to 2999"),
        ({"customer": "NF-1\x00; DROP"}, "Remove the control characters"),  # PostgreSQL text cannot hold a NUL
    ]
    for params, message in cases:
        answer = await operator.get("/panel/logs/netflow", params=params)
        assert answer.status_code == 200 and message in answer.text, (params, answer.text[-2000:])
        assert 'aria-invalid="true"' in answer.text
    unknown = await operator.get("/panel/logs/netflow", params={"customer": "nobody-here"})
    assert "No customer has the id or PPPoE user name" in unknown.text
    long_ago = {"customer": "NF-1", "start": "2020-01-01T00:00", "end": "2020-01-02T00:00"}
    assert (
        "NF-1 held no address in this time range" in (await operator.get("/panel/logs/netflow", params=long_ago)).text
    )
    nothing = await operator.get(
        "/panel/logs/netflow", params={"address": "203.0.113.9", "start": "2020-01-01T00:00", "end": "2020-01-02T00:00"}
    )
    assert "No flows match this search" in nothing.text and "No capture files cover this time range" in nothing.text


async def test_purge_removes_files_past_the_retention_only_and_twice_is_harmless(world, db: Database):
    tenant: TenantRef = world["tenant"]
    directory = source_dir(world["data_dir"], tenant.slug, world["router_id"])
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
    for name in ("nfcapd.202605010000", "nfcapd.202606071000", "nfcapd.202612030355", "nfcapd.current.777"):
        (directory / name).write_bytes(b"old" if "2026" in name else b"")
    await db.pool.execute("UPDATE platform.tenant SET netflow_retention_days = 180 WHERE id = $1", tenant.id)
    ctx = JobContext(db=db, today=date(2026, 12, 3), now=now, tenant=tenant, data_dir=world["data_dir"])
    first, second = await asyncio.gather(purge_netflow(ctx), purge_netflow(ctx))
    assert first["files_removed"] + second["files_removed"] == 1  # only May is older than 180 days
    names = sorted(path.name for path in directory.iterdir())
    assert "nfcapd.202605010000" not in names and "nfcapd.202606071000" in names
    assert "nfcapd.current.777" in names, "the current file is never removed"
    later = JobContext(db=db, today=date(2027, 12, 3), now=now + timedelta(days=3650), tenant=tenant,
                       data_dir=world["data_dir"])  # fmt: skip
    assert (await purge_netflow(later))["retention_days"] == 180
    assert sorted(path.name for path in directory.iterdir()) == ["nfcapd.current.777"]
    assert (await purge_netflow(JobContext(db=db, today=date(2026, 12, 3), now=now, tenant=tenant)))["no_data_dir"] == 1


async def test_the_collect_command_files_flows_and_stops_cleanly_on_sigterm(
    world, database_url: str, tmp_path: Path
) -> None:
    """``ispb netflow collect`` as systemd would run it: flows land under the tenant's router, SIGTERM stops it
    and nfcapd with it (its file closed, no nfcapd left behind)."""
    tenant: TenantRef = world["tenant"]
    port = free_udp_port()
    environment = ispb_environment(
        database_url, ISPB_SECRET_KEY="c" * 40, ISPB_DATA_DIR=str(tmp_path), ISPB_NETFLOW_HOST="127.0.0.1",
        ISPB_NETFLOW_PORT=str(port),
    )  # fmt: skip
    output, status, nfcapd = await asyncio.to_thread(_collect_command, environment, world["router"], port)
    assert status == 0, output
    assert "Traceback" not in output and f"collecting NetFlow on 127.0.0.1:{port}" in output
    assert nfcapd is not None and not await asyncio.to_thread(Path(f"/proc/{nfcapd}").exists), "nfcapd outlived it"
    files = capture_files(source_dir(tmp_path, tenant.slug, world["router_id"]))
    assert len(files) == 1 and files[0].path.stat().st_size > 0


def _collect_command(environment: dict[str, str], router: str, port: int) -> tuple[str, int, int | None]:
    """Start the command, send a flow once its nfcapd runs, SIGTERM it: (output, exit status, nfcapd's pid)."""
    command = subprocess.Popen(
        [ISPB, "netflow", "collect", "--refresh", "1", "--rotation", "60"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    nfcapd = None
    try:
        deadline = time.monotonic() + 30
        while not (children := _nfcapd_children(command.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        nfcapd = children[0] if children else None
        time.sleep(0.5)
        now = datetime.now(UTC)
        LoopbackExporter(router, port).send([_flow(SHARED, INTERNET, now - timedelta(minutes=2), 4321)])
        time.sleep(0.5)
    finally:
        command.send_signal(signal.SIGTERM)
        output, _ = command.communicate(timeout=30)
    return output, command.returncode, nfcapd


def _nfcapd_children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid), "-x", "nfcapd"], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]
