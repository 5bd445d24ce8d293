"""``netsync.olt_sync``: every OLT of the tenant walked over SNMP, its ONUs stored, every 15 minutes.

Several OLTs are walked at once (``OLTS_AT_ONCE`` per tenant, ``WALKS_PER_WORKER`` for all tenants a worker
syncs at the same time); SNMPv2c OLTs share one pysnmp engine. Each OLT's walk is
bounded twice: per request (``TIMEOUT`` s, ``RETRIES``) and as a whole (``OLT_WITHIN`` s), so an OLT that is
down, answers slowly or returns garbage costs at most its own bound and never holds up the others. An OLT that
failed is tried once more after the others (``RETRY_PAUSE``), and again at the next run; it is marked
(``down``, ``auth_failed``, ``garbage``) with its error, and its ONUs are left exactly as they were.

A reading is all or nothing (``ispb_netsync.olt.read_onus``): a walk cut in the middle raises, so a partial
list never marks ONUs missing. ONUs are never deleted: those a complete walk no longer lists get
``missing_since``.

The walks hold no transaction. Each OLT's results are written in one short transaction under
``pg_advisory_xact_lock`` on the OLT (two runs at once write one after the other), one statement per table
(``writes.py``); everything is an upsert, so a second run writes the same rows again and no extra readings.
"""

import asyncio
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from ispb_netsync.olt import (
    OLTAuthFailed,
    OLTError,
    OLTGarbage,
    OltReading,
    new_engine,
    read_onus,
)
from ispb_platform.jobs.job import Counts
from ispb_platform.network.olts import queries, writes
from ispb_platform.network.olts.queries import OltRow
from ispb_platform.secrets_box import SealError
from ispb_tenants import Database, TenantRef

OLTS_AT_ONCE = 16
"""OLTs of one tenant walked at once."""
WALKS_PER_WORKER = 32
"""OLTs walked at once by one worker process, all tenants together: the worker runs several tenants' syncs at
the same time, and walking is CPU work (decoding replies) that must not starve its other jobs."""
TIMEOUT = 3.0
RETRIES = 2
OLT_WITHIN = 120.0
"""Seconds one OLT's whole walk may take: 512 ONUs take about a second on a healthy OLT."""
RETRY_PAUSE = 10.0
_worker_gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()
"""The worker-wide bound, one per event loop (a semaphore belongs to the loop it is used in)."""


def _worker_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _worker_gates:
        _worker_gates[loop] = asyncio.Semaphore(WALKS_PER_WORKER)
    return _worker_gates[loop]


@dataclass(frozen=True)
class SyncOptions:
    """The bounds above, as arguments (tests and the bench use short ones)."""

    olts_at_once: int = OLTS_AT_ONCE
    timeout: float = TIMEOUT
    retries: int = RETRIES
    olt_within: float = OLT_WITHIN
    retry_pause: float = RETRY_PAUSE


@dataclass(frozen=True)
class Failure:
    status: str
    error: str


def _failure(problem: Exception) -> Failure:
    if isinstance(problem, OLTAuthFailed | SealError):
        return Failure("auth_failed", f"{type(problem).__name__}: {problem}")
    if isinstance(problem, OLTGarbage | LookupError | ValueError):
        return Failure("garbage", f"{type(problem).__name__}: {problem}")
    return Failure("down", f"{type(problem).__name__}: {problem}")


async def _walk(
    olt: OltRow, tenant: TenantRef, secret_key: str, engine: SnmpEngine, options: SyncOptions
) -> OltReading | Failure:
    try:
        address = queries.address_of(olt, secret_key, tenant.id, timeout=options.timeout, retries=options.retries)
        shared = engine if address.v3 is None else None
        return await asyncio.wait_for(read_onus(address, olt["vendor"], engine=shared), options.olt_within)
    except TimeoutError:
        return Failure("down", f"OLTTimedOut: {olt['host']}: the walk took longer than {options.olt_within:g} s")
    except (OLTError, SealError, LookupError, ValueError, OSError) as problem:
        return _failure(problem)


async def _write(db: Database, tenant: TenantRef, olt: OltRow, outcome: OltReading | Failure, now: datetime) -> Counts:
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1), $2)", writes.SYNC_LOCK, olt["id"])
        if not await writes.olt_exists(connection, olt["id"]):
            return {"olts_removed_meanwhile": 1}
        if isinstance(outcome, Failure):
            await writes.record_failure(connection, olt["id"], now, status=outcome.status, error=outcome.error)
            return {f"olts_{outcome.status}": 1}
        rules = await queries.settings()
        readings = await writes.save_onus(connection, olt["id"], outcome.onus, now)
        missing = await writes.mark_missing(connection, olt["id"], [onu.serial for onu in outcome.onus], now)
        mapped, unmapped = await writes.map_automatically(
            connection, olt["id"], rules["match_onu_field"], rules["match_customer_field"]
        )
        await writes.record_success(connection, olt["id"], now, onus=len(outcome.onus), garbled=outcome.garbled)
    return {
        "olts_read": 1,
        "onus_seen": len(outcome.onus),
        "readings_kept": readings,
        "onus_missing": missing,
        "onus_mapped": mapped,
        "onus_unmapped": unmapped,
        "values_garbled": outcome.garbled,
    }


async def sync_olts(db: Database, tenant: TenantRef, secret_key: str, options: SyncOptions = SyncOptions()) -> Counts:
    """Walk and record every OLT of ``tenant`` (see the module doc); counts for the run record."""
    async with db.tenant(tenant):
        olts = await queries.all_olts()
    if not olts:
        return {}
    engine = new_engine()
    gate, worker = asyncio.Semaphore(options.olts_at_once), _worker_gate()
    totals: Counter[str] = Counter()

    async def one(olt: OltRow) -> bool:
        async with gate, worker:
            outcome = await _walk(olt, tenant, secret_key, engine, options)
        totals.update(await _write(db, tenant, olt, outcome, datetime.now(UTC)))
        return not isinstance(outcome, Failure)

    try:
        done = await asyncio.gather(*(one(olt) for olt in olts))
        failed = [olt for olt, ok in zip(olts, done, strict=True) if not ok]
        if failed and options.retry_pause >= 0:
            await asyncio.sleep(options.retry_pause)
            totals["olts_retried"] += len(failed)
            retried = await asyncio.gather(*(one(olt) for olt in failed))
            totals["olts_recovered"] += sum(retried)
    finally:
        engine.close_dispatcher()
    async with db.tenant(tenant) as scope:
        totals["readings_forgotten"] += await writes.forget_old_readings(scope.connection, datetime.now(UTC))
    return dict(totals)
