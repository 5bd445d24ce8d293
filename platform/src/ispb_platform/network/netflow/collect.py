"""The platform's NetFlow collector (``ispb netflow collect``): one nfcapd for every tenant's routers.

Every ``refresh_s`` seconds it reads the routers of every tenant, files each under
``<data_dir>/netflow/<tenant>/router-<id>/`` by its exporter address (`queries.exporter_address`) and restarts
nfcapd when that set changed. nfcapd does the collecting and drops what no router sent; this process only
decides the sources and turns nfcapd's lines into log records (an unknown exporter once an hour per address,
not once a packet). A router without an IP address, or an address two routers claim, is logged and left out:
its flows cannot be told apart, and every other router's still are collected.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from ispb_netsync.netflow import ExporterSource, NfcapdCollector, source_dir, unknown_exporter
from ispb_platform.network.netflow.queries import RouterExporter, router_exporters
from ispb_tenants import Database

log = logging.getLogger("ispb.netflow")
UNKNOWN_LOG_EVERY_S = 3600.0
RESTART_DELAY_S = 5.0


@dataclass(frozen=True)
class SkippedRouter:
    exporter: RouterExporter
    reason: str


def plan_sources(
    exporters: Sequence[RouterExporter], data_dir: Path
) -> tuple[list[ExporterSource], list[SkippedRouter]]:
    """nfcapd's sources for ``exporters``, and the routers left out with the reason."""
    claims = Counter(exporter.address for exporter in exporters if exporter.address is not None)
    sources: list[ExporterSource] = []
    skipped: list[SkippedRouter] = []
    for exporter in exporters:
        if exporter.address is None:
            skipped.append(SkippedRouter(exporter, "no IP address (set its NetFlow address)"))
        elif claims[exporter.address] > 1:
            skipped.append(SkippedRouter(exporter, f"{exporter.address} is also another router's address"))
        else:
            directory = source_dir(data_dir, exporter.tenant, exporter.router_id)
            sources.append(ExporterSource(f"{exporter.tenant}-r{exporter.router_id}", exporter.address, directory))
    return sources, skipped


class CollectorLog:
    """nfcapd's lines as log records; an unknown exporter is told once per ``every_s`` per address."""

    def __init__(self, every_s: float = UNKNOWN_LOG_EVERY_S) -> None:
        self.every_s = every_s
        self.told: dict[str, float] = {}

    async def __call__(self, line: str) -> None:
        stranger = unknown_exporter(line)
        if stranger is None:
            if "Skip UDP packet" not in line:
                log.info("nfcapd: %s", line)
            return
        now = time.monotonic()
        if now - self.told.get(str(stranger), -self.every_s) >= self.every_s:
            self.told[str(stranger)] = now
            log.warning("NetFlow from %s skipped: no router has this exporter address", stranger)


async def run_collector(
    db: Database, data_dir: Path, collector: NfcapdCollector, *, refresh_s: float, rounds: int | None = None
) -> None:
    """Keep nfcapd running for the current routers; ``rounds`` (tests) stops after that many refreshes."""
    reported: set[tuple[str, int, str]] = set()
    done = 0
    try:
        while rounds is None or done < rounds:
            done += 1
            try:
                async with db.pool.acquire() as connection:
                    exporters = await router_exporters(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # the database away for a while: nfcapd keeps collecting for the routers it has
                log.warning("cannot read the routers (%s); collecting for the known ones, retrying", error)
                await _wait(collector, refresh_s)
                continue
            sources, skipped = plan_sources(exporters, data_dir)
            for item in skipped:
                key = (item.exporter.tenant, item.exporter.router_id, item.reason)
                if key not in reported:
                    reported.add(key)
                    log.warning(
                        "router %s of %s not collected: %s",
                        item.exporter.router_name,
                        item.exporter.tenant,
                        item.reason,
                    )
            if await collector.apply(sources):
                log.info("nfcapd collecting from %d routers on %s:%d", len(sources), collector.host, collector.port)
            elif not sources:
                log.info("no router has an exporter address yet; checking again in %g s", refresh_s)
            await _wait(collector, refresh_s)
    finally:
        await collector.stop()


async def _wait(collector: NfcapdCollector, refresh_s: float) -> None:
    """Until the next refresh; if nfcapd ends on its own (a port in use), log it and let the next round restart
    it after a pause."""
    if not collector.running:
        await asyncio.sleep(refresh_s)
        return
    try:
        status = await asyncio.wait_for(collector.wait(), refresh_s)
    except TimeoutError:
        return
    log.error("nfcapd ended with status %s; restarting in %g s", status, RESTART_DELAY_S)
    await asyncio.sleep(RESTART_DELAY_S)
