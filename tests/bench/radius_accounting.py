"""Benchmark: accounting packets per second through a real FreeRADIUS into the partitioned radacct.

Run:  uv run python tests/bench/radius_accounting.py [--sessions 20000] [--parallel 64]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL), one
tenant with one RADIUS router (127.0.0.1), writes the configuration with ``config.render`` and starts FreeRADIUS
from tests/peers/freeradius.py (the installed /etc/freeradius/3.0, the documented files removed). Then
``radclient`` (freeradius-utils) sends, ``--parallel`` requests in flight, three waves: a Start for every session
(half of them on 30 November, half on 1 December: two partitions), an Interim-Update with 64-bit counters, and a
Stop. Each wave is timed from the first packet to the last answer; the figure is all packets over all waves.

It checks the work: one row per session, in the partition of its start, stopped, with the Stop's counters, one
radacct_key row each, and that radclient got an answer to every packet. Goal: > 500 packets/s on the 2-CPU
machine (a NAS sends a session's Interim-Update every 5 minutes: 500/s is 150,000 online sessions).
"""

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from common import Figure, report, scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: peers

from ispb_platform.network.radius.config import Listen, RadiusNas, RadiusTenant, render
from ispb_tenants import Database, create_tenant, migrate_platform
from peers.freeradius import free_udp_ports, running_freeradius

NAS, SECRET = "127.0.0.1", "bench-s3cret"
NOVEMBER_30 = int(datetime(2026, 11, 30, 20, tzinfo=UTC).timestamp())
DECEMBER_1 = int(datetime(2026, 12, 1, 4, tzinfo=UTC).timestamp())


def _packet(session: int, status: str, at: int, extra: str = "") -> str:
    return (
        f'User-Name = "user{session}"\nNAS-IP-Address = {NAS}\nNAS-Port = {session}\n'
        f'Acct-Session-Id = "{session:08x}"\nAcct-Status-Type = {status}\nEvent-Timestamp = {at}\n'
        f"Framed-IP-Address = 100.64.{session // 250 % 256}.{session % 250 + 1}\n{extra}"
    )


def waves(sessions: int) -> list[tuple[str, str]]:
    """(name, radclient file) for the Start, Interim-Update and Stop waves."""
    starts, interims, stops = [], [], []
    for n in range(1, sessions + 1):
        start = NOVEMBER_30 if n % 2 else DECEMBER_1
        starts.append(_packet(n, "Start", start))
        counters = (
            f"Acct-Session-Time = 300\nAcct-Input-Octets = {n}\nAcct-Output-Gigawords = 1\nAcct-Output-Octets = {n}\n"
        )
        interims.append(_packet(n, "Interim-Update", start + 300, counters))
        final = f"Acct-Session-Time = 600\nAcct-Input-Octets = {2 * n}\nAcct-Output-Gigawords = 2\n"
        final += f"Acct-Output-Octets = {n}\n"
        stops.append(_packet(n, "Stop", start + 600, final + "Acct-Terminate-Cause = User-Request\n"))
    return [(name, "\n".join(packets)) for name, packets in (("start", starts), ("interim", interims), ("stop", stops))]


def send(packets: str, port: int, parallel: int) -> float:
    """Send a wave with radclient; seconds until every packet was answered."""
    with tempfile.NamedTemporaryFile("w", suffix=".radclient") as file:
        file.write(packets)
        file.flush()
        started = time.perf_counter()
        done = subprocess.run(
            [
                "radclient",
                "-q",
                "-s",
                "-r",
                "5",
                "-t",
                "5",
                "-p",
                str(parallel),
                "-f",
                file.name,
                "-S",
                "/dev/stdin",
                f"{NAS}:{port}",
                "acct",
            ],
            input=SECRET,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        elapsed = time.perf_counter() - started
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]  # radclient fails when a packet got no answer
    return elapsed


async def main(sessions: int, parallel: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=1, max_size=2)
        try:
            await migrate_platform(db)
            tenant = await create_tenant(db, "bench-radius", "Bench RADIUS ISP")
            async with db.tenant(tenant) as scope:
                for month in (date(2026, 11, 1), date(2026, 12, 1)):
                    await scope.connection.fetchval("SELECT radacct_add_month($1)", month)
            auth_port, acct_port = free_udp_ports(2)
            radius_tenant = RadiusTenant(tenant.slug, tenant.schema, (RadiusNas(1, "core", NAS, SECRET),))
            files = render([radius_tenant], database_url=url, listen=Listen(NAS, auth_port, acct_port)).files
            timings = {}
            with running_freeradius(files, auth_port=auth_port, acct_port=acct_port):
                for name, packets in waves(sessions):
                    timings[name] = send(packets, acct_port, parallel)
                    await db.pool.execute("ANALYZE")  # as autovacuum does after a burst of new rows
                    print(
                        f"{name:8s} {sessions:,} packets in {timings[name]:.2f} s ({sessions / timings[name]:,.0f}/s)"
                    )
            async with db.tenant(tenant) as scope:
                rows = await scope.connection.fetch(
                    "SELECT tableoid::regclass::text AS part, count(*) AS n, count(acctstoptime) AS stopped,"
                    " sum(acctinputoctets) AS up, sum(acctoutputoctets) AS down FROM radacct GROUP BY 1 ORDER BY 1"
                )
                keys = await scope.connection.fetchval("SELECT count(*) FROM radacct_key")
            parts = {r["part"].rsplit(".", 1)[-1]: r for r in rows}
            november, december = (sessions + 1) // 2, sessions // 2
            assert set(parts) == {"radacct_p202611", "radacct_p202612"}, parts
            assert (parts["radacct_p202611"]["n"], parts["radacct_p202612"]["n"]) == (november, december), parts
            assert sum(r["stopped"] for r in rows) == sessions == keys
            assert sum(r["up"] for r in rows) == sum(2 * n for n in range(1, sessions + 1))
            assert sum(r["down"] for r in rows) == sum((2 << 32) + n for n in range(1, sessions + 1))
            print(f"checked: {sessions:,} sessions, {november:,} in November, {december:,} in December, all stopped")
            total = sum(timings.values())
            report(
                Figure(
                    "accounting through FreeRADIUS into partitioned radacct",
                    f"{3 * sessions:,} packets, {parallel} in flight",
                    3 * sessions / total,
                    "packets/s",
                    goal_above=500,
                )
            )
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--parallel", type=int, default=64)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sessions, arguments.parallel))
