"""Benchmark: one round of ``monitor.status_checks`` for 10,000 checks from one worker (issue 16: < 20 s).

Run:  uv run python tests/bench/status_checks.py [--checks 10000] [--tenants 10]

A scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) with
``--tenants`` operators sharing ``--checks`` status checks: half HTTP GETs of a page, half TCP connects, one
in ten to a port nobody listens on (down: refused at once). The peers, an HTTP/1.1 server and a TCP listener on
loopback, run in their own process (tests/peers are not needed: two asyncio servers), so this process's time is
the worker's. The outbound policy allows loopback, as an administrator would allow an ISP's own network.

Figures: the round's wall time (every due check of every tenant run with at most ``CONCURRENCY`` in flight,
results written per tenant in one statement, incidents and messages), against a floor: the same checks run the
same way with no database at all (what the round costs on top of the probing itself). A second round in the same
minute must check nothing; the third (a minute later) is timed too.
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from common import Figure, peak_rss, report, scratch_database

from ispb_monitor.checks import run_check
from ispb_notify import HttpClient, OutboundPolicy
from ispb_platform.monitoring import queries
from ispb_platform.monitoring.checks import usable
from ispb_platform.monitoring.rounds import CONCURRENCY, run_round
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

PEERS = """
import asyncio, signal

async def main():
    async def http(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                while line not in (b"\\r\\n", b""):
                    line = await reader.readline()
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 12\\r\\n\\r\\nall is well.")
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    web = await asyncio.start_server(http, "127.0.0.1", 0, backlog=4096)
    tcp = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, backlog=4096)
    print(web.sockets[0].getsockname()[1], tcp.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()

asyncio.run(main())
"""
LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")
SECRET = "b" * 40


async def _seed(db: Database, tenants: list[TenantRef], checks: int, web_port: int, tcp_port: int) -> None:
    per = checks // len(tenants)
    for t, tenant in enumerate(tenants):
        rows = []
        for n in range(per):
            down = n % 10 == 9
            if n % 2 == 0:
                rows.append((f"web {n}", "http", f"http://127.0.0.1:{web_port if not down else 1}/health?t={t}", None))
            else:
                rows.append((f"tcp {n}", "tcp", "127.0.0.1", tcp_port if not down else 1))
        async with db.tenant(tenant) as scope:
            await scope.connection.copy_records_to_table(
                "status_check", records=rows, columns=["name", "kind", "target", "port"]
            )


async def _floor(db: Database, tenants: list[TenantRef]) -> float:
    """The same checks, run the same way, with no reads or writes of results: the probing alone."""
    rows = []
    for tenant in tenants:
        async with db.tenant(tenant) as scope:
            rows += [
                (dict(r), tenant.id)
                for r in await queries.due_checks(
                    scope.connection, datetime.now(UTC) + timedelta(days=1), platform=False
                )
            ]
    checks = [usable(row, SECRET, tenant_id) for row, tenant_id in rows]
    gate = asyncio.Semaphore(CONCURRENCY)
    async with HttpClient(max_connections=CONCURRENCY, keepalive_expiry=0, policy=LOOPBACK) as http:

        async def one(check: object) -> None:
            async with gate:
                assert not isinstance(check, str)
                await run_check(check, policy=LOOPBACK, http=http)  # type: ignore[arg-type]

        start = time.perf_counter()
        await asyncio.gather(*(one(c) for c in checks))
        return time.perf_counter() - start


async def main(checks: int, tenant_count: int, web_port: int, tcp_port: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=2, max_size=8)
        try:
            await migrate_platform(db)
            tenants = [await create_tenant(db, f"bench-mon-{n}", f"Bench ISP {n}") for n in range(tenant_count)]
            await _seed(db, tenants, checks, web_port, tcp_port)
            floor = await _floor(db, tenants)
            start = datetime.now(UTC)
            timings = []
            with peak_rss() as peak:
                for minute in (0, 0, 1):
                    began = time.perf_counter()
                    counts = await run_round(
                        db,
                        secret_key=SECRET,
                        outbound=LOOPBACK,
                        now=start + timedelta(minutes=minute),
                        include_platform=False,
                    )
                    timings.append(time.perf_counter() - began)
                    print(json.dumps(counts), f"{timings[-1]:.2f} s", flush=True)
                    if len(timings) == 2:
                        assert counts["checked"] == 0, counts  # the same minute again: nothing due
                    else:
                        assert counts["checked"] == counts["written"] == checks, counts
                        assert counts["down"] == checks // 10, counts
            size = f"{checks:,} checks, {tenant_count} tenants"
            report(
                Figure(
                    "status check round",
                    size,
                    timings[0],
                    "s",
                    goal_below=20,
                    floor=floor,
                    ratio_goal=2,
                    peak_rss_mb=peak.mb,
                )
            )
            report(Figure("status check round, a minute later", size, timings[2], "s", goal_below=20, floor=floor))
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=10)
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))  # a socket per check in flight
    peers = subprocess.Popen([sys.executable, "-c", PEERS], stdout=subprocess.PIPE, text=True)
    try:
        assert peers.stdout is not None
        web, tcp = (int(port) for port in peers.stdout.readline().split())
        asyncio.run(main(arguments.checks, arguments.tenants, web, tcp))
    finally:
        peers.terminate()
        peers.wait(10)
