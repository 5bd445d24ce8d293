"""Benchmark: ``netsync.olt_sync`` of 50 OLTs x 512 ONUs served by snmpsim, from one worker, against net-snmp's
``snmpbulkwalk`` of the same columns of the same simulated OLTs (the floor).

Run:  uv run python tests/bench/olt_sync.py [--olts 50] [--onus 512] [--simulators 2]

The OLTs rotate through the four vendor profiles (BDCOM, V-SOL, Huawei, ZTE); each is a recording of 512 ONUs
written through its profile and served by snmpsim under its own community. ``--simulators`` snmpsim processes
share the OLTs (real OLTs are separate devices; one snmpsim process is single-threaded Python and would be the
bottleneck of both sides). Not timed: writing the recordings, starting snmpsim, the scratch database with one
tenant and its 50 OLTs (community sealed as the panel seals it).

Timed, alternating, fastest of ``--rounds`` each (the machine is shared):

1. ours: ``sync_olts`` (the job's work: concurrent walks, at most 16 OLTs at once, parse, one upsert per OLT
   with readings, mapping, status) into PostgreSQL;
2. the floor: ``snmpbulkwalk -v2c -Cr25 -On`` of every column of every OLT, at most 16 processes at once, output
   thrown away: the same SNMP traffic from C with nothing parsed or stored.

The first sync writes every ONU and its first reading; the timed rounds are steady-state syncs (ONUs upserted,
no new readings). It checks that every OLT is up with 512 ONUs. Goal: < 30 s for 50 x 512.
"""

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from common import Figure, peak_rss, report, scratch_database

from ispb_netsync.olt import PROFILES, OnuRecord, OnuStatus, write_recording
from ispb_netsync.olt.simulator import OltSimulator
from ispb_platform.network.olts.sync import SyncOptions, sync_olts
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform
from ispb_tenants.tables import Olt

SECRET_KEY = "b" * 40
VENDORS = ("huawei_gpon", "zte_gpon", "bdcom_epon", "vsol_epon")
PORTS = {"huawei_gpon": "0/{}/{}", "zte_gpon": "1/{}/{}", "bdcom_epon": "EPON0/{1}", "vsol_epon": "EPON0/{1}"}
AT_ONCE = 16


def onus(vendor: str, count: int) -> list[OnuRecord]:
    """``count`` ONUs over 16 ports (GPON: 2 slots x 8 ports), 1 in 20 offline, the rest between -14 and -28 dBm."""
    records = []
    for n in range(count):
        port = PORTS[vendor].format(1 + n // 256, n // 32 % 8 + 1)
        down = n % 20 == 7
        serial = (
            f"a8:5e:45:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}" if "epon" in vendor else f"HWTC{n:08X}"
        )
        records.append(
            OnuRecord(
                port, n % 32 + 1, serial, OnuStatus.LOS if down else OnuStatus.ONLINE,
                None if down else round(-14 - (n % 140) / 10, 1), None if down else 2.1,
                None if down else 300 + n * 7, f"C-{n:05d}",
            )
        )  # fmt: skip
    return records


def write_recordings(directory: Path, olts: int, count: int) -> list[str]:
    vendors = []
    for i in range(olts):
        vendor = VENDORS[i % len(VENDORS)]
        write_recording(directory / f"olt-{i}.snmprec", PROFILES[vendor], onus(vendor, count), description=vendor)
        vendors.append(vendor)
    return vendors


async def seed(db: Database, ports: list[int], vendors: list[str]) -> TenantRef:
    tenant = await create_tenant(db, "bench-olt", "Bench OLT ISP")
    async with db.tenant(tenant) as scope:
        for i, (port, vendor) in enumerate(zip(ports, vendors, strict=True)):
            olt_id = int(await scope.connection.fetchval("SELECT nextval(pg_get_serial_sequence('olt', 'id'))"))
            community = seal(SECRET_KEY, f"olt-{i}", Binding(tenant.id, Purpose.OLT_COMMUNITY, olt_id))
            await scope.connection.execute(
                "INSERT INTO olt (id, name, host, snmp_port, community_sealed, vendor) VALUES ($1, $2, '127.0.0.1', $3,"
                " $4, $5)",
                olt_id, f"OLT {i}", port, community, vendor,
            )  # fmt: skip
    return tenant


async def floor(ports: list[int], vendors: list[str]) -> float:
    gate = asyncio.Semaphore(AT_ONCE)

    async def walk(i: int, root: str) -> None:
        async with gate:
            process = await asyncio.create_subprocess_exec(
                "snmpbulkwalk", "-v2c", f"-colt-{i}", "-Cr25", "-On", "-t", "3", "-r", "2",
                f"127.0.0.1:{ports[i]}", root, stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            assert await process.wait() == 0

    started = time.perf_counter()
    await asyncio.gather(
        *(walk(i, root) for i, vendor in enumerate(vendors) for root in PROFILES[vendor].columns.values())
    )
    return time.perf_counter() - started


async def ours(db: Database, tenant: TenantRef) -> float:
    started = time.perf_counter()
    counts = await sync_olts(db, tenant, SECRET_KEY, SyncOptions(olts_at_once=AT_ONCE, retry_pause=-1))
    took = time.perf_counter() - started
    assert counts.get("olts_read") == len(await _olts(db, tenant)), counts
    return took


async def _olts(db: Database, tenant: TenantRef) -> list[dict]:
    async with db.tenant(tenant):
        return await Olt.select(Olt.status, Olt.onu_count)


async def main(olts: int, count: int, simulators: int, rounds: int) -> None:
    directories = [Path(tempfile.mkdtemp(prefix="ispb-bench-olt-")) for _ in range(simulators)]
    for directory in directories:
        directory.chmod(0o755)
    all_vendors = write_recordings(directories[0], olts, count)
    for i in range(olts):  # OLT i is served by simulator i % simulators
        target = directories[i % simulators]
        if target != directories[0]:
            shutil.move(directories[0] / f"olt-{i}.snmprec", target / f"olt-{i}.snmprec")
    vendors = all_vendors
    sims = [OltSimulator(directory) for directory in directories]
    try:
        for sim in sims:
            sim.start(ready_within=120)
        ports = [sims[i % simulators].port for i in range(olts)]
        async with scratch_database() as url:
            db = await Database.connect(url, min_size=2, max_size=8)
            try:
                await migrate_platform(db)
                tenant = await seed(db, ports, vendors)
                first = await ours(db, tenant)
                print(f"first sync (every ONU new, first readings): {first:.2f} s")
                rows = await _olts(db, tenant)
                assert all(r["status"] == "up" and r["onu_count"] == count for r in rows), rows
                floors, timings, peak_mb = [], [], 0.0
                for _ in range(rounds):
                    floors.append(await floor(ports, vendors))
                    with peak_rss() as peak:
                        timings.append(await ours(db, tenant))
                    peak_mb = max(peak_mb, peak.mb)
                ours_text, floor_text = (", ".join(f"{t:.2f}" for t in times) for times in (timings, floors))
                print(f"ours: {ours_text} s; floor: {floor_text} s")
                size = f"{olts} OLTs x {count} ONUs, {simulators} snmpsim"
                report(
                    Figure("olt sync", size, min(timings), "s", goal_below=30, floor=min(floors), peak_rss_mb=peak_mb)
                )
            finally:
                await db.close()
    finally:
        for sim in sims:
            sim.stop()
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--olts", type=int, default=50)
    parser.add_argument("--onus", type=int, default=512)
    parser.add_argument("--simulators", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.olts, arguments.onus, arguments.simulators, arguments.rounds))
