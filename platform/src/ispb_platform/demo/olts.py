"""The demo's OLTs: two simulated OLTs (snmpsim serving recordings written through the vendor profiles).

Each demo operator gets two OLT rows, a Huawei MA5683T (GPON) and a BDCOM P3310 (EPON). While the demo serves,
one snmpsim process on loopback plays all of them (each operator's OLTs under their own communities) and
``netsync.olt_sync`` runs once at start, so the ONU list is filled at once instead of after 15 minutes; the
worker's schedule keeps syncing them. Three ONUs carry the codes of the first demo customers in their
description and are mapped by the rule; C000001 (the portal login) has a weak signal (-28.6 dBm), so it is
highlighted in the ONU list and the portal says "Signal weak". One ONU is in LOS.

snmpsim is a development dependency (``uv sync`` installs it). Without it the demo says so on the console and
on both OLTs' pages (their last error), and everything else runs.
"""

import asyncio
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from litestar import Litestar

from ispb_netsync.olt import PROFILES, OnuRecord, OnuStatus, write_recording
from ispb_netsync.olt.simulator import OltSimulator, SimulatorUnavailable, available
from ispb_platform.network.olts.sync import sync_olts
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef, get_tenant

log = logging.getLogger(__name__)
DEMO_OLTS = (
    ("Demo OLT Mirpur (simulated Huawei)", "huawei_gpon", "Mirpur POP", "0/1/{}"),
    ("Demo OLT Uttara (simulated BDCOM)", "bdcom_epon", "Uttara POP", "EPON0/{}"),
)
NOT_RUNNING = "Demo: snmpsim is not installed (uv sync installs it), so this simulated OLT is not running"


def _community(slug: str, number: int) -> str:
    return f"{slug}-olt{number}"


async def prepare_olts(db: Database, tenant: TenantRef, secret_key: str) -> None:
    """The two OLT rows (idempotent; the simulator's port is set when the demo starts)."""
    async with db.tenant(tenant) as scope:
        for number, (name, vendor, site, _) in enumerate(DEMO_OLTS, start=1):
            if await scope.connection.fetchval("SELECT id FROM olt WHERE name = $1", name) is not None:
                continue
            olt_id = await scope.connection.fetchval("SELECT nextval(pg_get_serial_sequence('olt', 'id'))")
            sealed = seal(
                secret_key, _community(tenant.slug, number), Binding(tenant.id, Purpose.OLT_COMMUNITY, olt_id)
            )
            await scope.connection.execute(
                "INSERT INTO olt (id, name, host, snmp_port, community_sealed, vendor, site)"
                " VALUES ($1, $2, '127.0.0.1', 161, $3, $4, $5)",
                olt_id, name, sealed, vendor, site,
            )  # fmt: skip


def demo_onus(vendor: str, port_format: str, first_customer: bool) -> list[OnuRecord]:
    """16 ONUs on two ports; on the first OLT three carry customer codes (C000001 weak), one is in LOS."""
    epon = vendor.endswith("epon")
    onus = []
    for n in range(1, 17):
        serial = f"a8:5e:45:10:00:{n:02x}" if epon else f"HWTC5A{n:06X}"
        description = f"C00000{n}" if first_customer and n <= 3 else f"spare-{n:02d}"
        lost = not first_customer and n == 5
        rx = -28.6 if first_customer and n == 1 else -17.0 - n / 5
        onus.append(
            OnuRecord(
                port_format.format(1 + (n - 1) // 8), (n - 1) % 8 + 1, serial,
                OnuStatus.LOS if lost else OnuStatus.ONLINE,
                None if lost else round(rx, 1), None if lost else 2.3, None if lost else 400 + 130 * n, description,
            )
        )  # fmt: skip
    return onus


def _recordings(slugs: list[str]) -> Path:
    """A fresh directory (readable by snmpsim's unprivileged user) with every operator's two recordings."""
    directory = Path(tempfile.mkdtemp(prefix="ispb-demo-olts-"))
    directory.chmod(0o755)
    for slug in slugs:
        for number, (_, vendor, _, ports) in enumerate(DEMO_OLTS, start=1):
            onus = demo_onus(vendor, ports, first_customer=number == 1)
            path = directory / f"{_community(slug, number)}.snmprec"
            write_recording(path, PROFILES[vendor], onus, description=f"{DEMO_OLTS[number - 1][0]} (snmpsim)")
    return directory


async def _point_at(db: Database, tenant: TenantRef, port: int | None) -> None:
    names = [name for name, *_ in DEMO_OLTS]
    async with db.tenant(tenant) as scope:
        if port is None:
            await scope.connection.execute(
                "UPDATE olt SET status = 'down', last_error = $2 WHERE name = ANY($1::text[])", names, NOT_RUNNING
            )
        else:
            await scope.connection.execute(
                "UPDATE olt SET snmp_port = $2, status = 'unknown', last_error = '' WHERE name = ANY($1::text[])",
                names,
                port,
            )


def demo_olts(slugs: list[str]) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan hook for ``create_app``: snmpsim playing every demo operator's two OLTs while the demo serves,
    and a first sync of them (in the background: the demo does not wait for it)."""

    @asynccontextmanager
    async def simulated(app: Litestar) -> AsyncIterator[None]:
        db: Database = app.state.runtime.db
        secret_key = str(app.state.runtime.settings.secret_key)
        tenants = [await get_tenant(db, slug) for slug in slugs]
        if not available():
            log.warning("The demo's OLTs are skipped: %s", NOT_RUNNING)
            for tenant in tenants:
                await _point_at(db, tenant, None)
            yield
            return
        directory = await asyncio.to_thread(_recordings, slugs)
        simulator = OltSimulator(directory)
        try:
            await asyncio.to_thread(simulator.start)
        except SimulatorUnavailable as problem:
            log.warning("The demo's OLTs are skipped: snmpsim did not start: %s", problem)
            for tenant in tenants:
                await _point_at(db, tenant, None)
            shutil.rmtree(directory, ignore_errors=True)
            yield
            return
        for tenant in tenants:
            await _point_at(db, tenant, simulator.port)
        first_sync = asyncio.gather(*(sync_olts(db, tenant, secret_key) for tenant in tenants), return_exceptions=True)
        try:
            yield
        finally:
            first_sync.cancel()
            await asyncio.to_thread(simulator.stop)
            shutil.rmtree(directory, ignore_errors=True)

    return simulated
