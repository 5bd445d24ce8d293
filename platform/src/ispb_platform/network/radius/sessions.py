"""RADIUS session housekeeping: closing zombie sessions (``netsync.stale_sessions``) and who is online now.

A session whose Accounting-Stop never arrived (router rebooted or lost power, packet dropped, link to the
RADIUS server down) stays "open" in ``radacct`` for ever: the customer shows as online, and with
``Simultaneous-Use := 1`` the stock ``simul_count_query`` rejects every new login (DESIGN 11). MikroTik sends
an Interim-Update every 5 minutes (``Acct-Interim-Interval``), so an open session with no sign of life for
`STALE_AFTER` is closed here, at its last sign of life, and a Disconnect-Request (RFC 5176) goes to its
router in case the session is in fact still up there: the customer then logs in again and gets a fresh,
accounted session. Accounting-On/Off from a rebooted NAS is handled by FreeRADIUS itself (the stock
``accounting-on`` query closes every open session of that NAS; see docs/radius.md).

Example::

    counts = await close_stale(db, tenant, now, secret_key)   # {"closed": 3, "disconnect_acked": 1, ...}
    async with db.tenant(tenant) as scope:
        online = await online_customers(scope.connection, q="rahim")
"""

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ispb_netsync.radius import PacketError, RadiusError, disconnect
from ispb_platform.jobs.job import Counts
from ispb_platform.secrets_box import SealError, reveal
from ispb_tenants import Connection, Database, TenantRef

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
"""Three missed 5-minute Interim-Updates. Shorter closes sessions of customers behind a briefly congested
link (their next Interim-Update cannot reopen the row: the stock query only updates open rows and its insert
fallback does nothing on the existing AcctUniqueId); longer keeps Simultaneous-Use blocking a customer whose
router rebooted without Accounting-On. Routers must send interim updates at most every 5 minutes."""
STALE_CAUSE = "Stale-Session"
"""AcctTerminateCause written on sessions closed here (the NAS's own causes are RFC 2866 names)."""
BATCH = 500
"""Sessions closed per transaction: short row locks, so FreeRADIUS's own updates never wait long."""
DISCONNECT_TIMEOUT = 2.0
"""Seconds per Disconnect-Request attempt. A NAS that fails to answer once is not asked again in this run."""
DISCONNECT_RETRIES = 1
COUNT_KEYS = ("closed", "disconnect_acked", "disconnect_nak", "nas_unreachable", "disconnect_skipped")

# One statement per batch: pick stale open rows nobody else holds (a second worker skips them), close them at
# their last sign of life, and return each with its tenant's RADIUS router (if any) for the Disconnect. The
# OR keeps both halves on radacct_stale_idx (AcctUpdateTime, partial on open rows; NULLs are indexed too).
_CLOSE_BATCH = """
WITH stale AS (
    SELECT radacctid FROM radacct
    WHERE acctstoptime IS NULL
      AND (acctupdatetime < $1 OR (acctupdatetime IS NULL AND acctstarttime < $1))
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE radacct a
    SET acctstoptime = coalesce(a.acctupdatetime, a.acctstarttime),
        acctsessiontime = CASE WHEN a.acctstarttime IS NULL THEN a.acctsessiontime
            ELSE greatest(0, floor(extract(epoch FROM coalesce(a.acctupdatetime, a.acctstarttime) - a.acctstarttime)))
            END::bigint,
        acctterminatecause = $3
    FROM stale
    WHERE a.radacctid = stale.radacctid AND a.acctstoptime IS NULL
    RETURNING a.username, a.acctsessionid, a.nasipaddress
)
SELECT c.username, c.acctsessionid, host(c.nasipaddress) AS nas_address, r.id AS router_id, r.coa_port,
       r.radius_secret_sealed
FROM closed c
LEFT JOIN LATERAL (
    SELECT id, coa_port, radius_secret_sealed FROM router
    WHERE mode = 'radius' AND nas_address = c.nasipaddress
    ORDER BY id LIMIT 1
) r ON true
"""


@dataclass(frozen=True)
class ClosedSession:
    """A session this run closed, and where its Disconnect-Request goes (no router: nowhere)."""

    username: str | None
    acct_session_id: str
    nas_address: str
    router_id: int | None
    coa_port: int | None
    secret_sealed: str | None


@dataclass(frozen=True)
class DisconnectSettings:
    secret_key: str
    timeout: float
    retries: int


async def close_stale(
    db: Database,
    tenant: TenantRef,
    now: datetime,
    secret_key: str,
    *,
    stale_after: timedelta = STALE_AFTER,
    batch: int = BATCH,
    disconnect_timeout: float = DISCONNECT_TIMEOUT,
    disconnect_retries: int = DISCONNECT_RETRIES,
) -> Counts:
    """Close ``tenant``'s open sessions silent for ``stale_after`` before ``now``, then ask their routers to
    drop them (``netsync.stale_sessions``).

    Idempotent by data (a closed row is never picked again) and safe with two workers (``SKIP LOCKED``: each
    row is closed, and disconnected, by exactly one of them). Each batch commits before its Disconnects are
    sent, so a router that does not answer never holds row locks; it is counted, not raised. A crash between
    commit and Disconnect loses only that Disconnect: the row stays correctly closed.

    Example::

        await close_stale(db, tenant, now, secret_key)
        # {'closed': 2, 'disconnect_acked': 1, 'disconnect_nak': 1, 'nas_unreachable': 0, 'disconnect_skipped': 0}
    """
    cutoff = now - stale_after
    settings = DisconnectSettings(secret_key, disconnect_timeout, disconnect_retries)
    counts: Counter[str] = Counter(dict.fromkeys(COUNT_KEYS, 0))
    down: set[str] = set()  # NAS addresses that did not answer in this run
    while True:
        async with db.tenant(tenant) as scope:
            closed = await close_batch(scope.connection, cutoff, batch)
        counts["closed"] += len(closed)
        counts.update(await disconnect_closed(closed, settings, down))
        if len(closed) < batch:
            return dict(counts)


async def close_batch(connection: Connection, cutoff: datetime, limit: int) -> list[ClosedSession]:
    """Close up to ``limit`` open sessions whose last sign of life is before ``cutoff`` (caller's transaction)."""
    rows = await connection.fetch(_CLOSE_BATCH, cutoff, limit, STALE_CAUSE)
    return [
        ClosedSession(
            r["username"],
            r["acctsessionid"],
            r["nas_address"],
            r["router_id"],
            r["coa_port"],
            r["radius_secret_sealed"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class _Router:
    id: int
    address: str
    coa_port: int
    secret_sealed: str


async def disconnect_closed(sessions: Iterable[ClosedSession], settings: DisconnectSettings, down: set[str]) -> Counts:
    """Send one Disconnect-Request per closed session; routers in parallel, one router's sessions in turn.

    Sequential per router so a router that is down costs one timeout per run, not one per session: after its
    first silence, its remaining sessions are counted ``nas_unreachable`` without being sent (``down``).
    """
    by_router: dict[_Router, list[ClosedSession]] = defaultdict(list)
    total: Counter[str] = Counter()
    for s in sessions:
        if s.router_id is None or s.coa_port is None or s.secret_sealed is None:
            total["disconnect_skipped"] += 1  # not one of this tenant's RADIUS routers: nobody to ask
        else:
            by_router[_Router(s.router_id, s.nas_address, s.coa_port, s.secret_sealed)].append(s)
    for result in await asyncio.gather(*(_disconnect_at(r, group, settings, down) for r, group in by_router.items())):
        total.update(result)
    return dict(total)


async def _disconnect_at(
    router: _Router, sessions: list[ClosedSession], settings: DisconnectSettings, down: set[str]
) -> Counts:
    try:
        secret = reveal(settings.secret_key, router.secret_sealed)
    except SealError:
        log.warning("router %s: its RADIUS secret cannot be revealed (another ISPB_SECRET_KEY?)", router.id)
        return {"disconnect_skipped": len(sessions)}
    counts: Counter[str] = Counter()
    for session in sessions:
        if router.address in down:
            counts["nas_unreachable"] += 1
        elif not session.username:
            counts["disconnect_skipped"] += 1  # a Disconnect-Request must name the user
        else:
            counts[
                await _disconnect_one(router, session.username, session.acct_session_id, secret, settings, down)
            ] += 1
    return dict(counts)


async def _disconnect_one(
    router: _Router, username: str, acct_session_id: str, secret: str, settings: DisconnectSettings, down: set[str]
) -> str:
    try:
        result = await disconnect(
            router.address,
            router.coa_port,
            secret,
            user_name=username,
            acct_session_id=acct_session_id,
            timeout=settings.timeout,
            retries=settings.retries,
        )
    except PacketError as problem:  # e.g. a username too long for one attribute
        log.warning("Disconnect-Request for %r cannot be built: %s", username, problem)
        return "disconnect_skipped"
    except (RadiusError, OSError) as problem:
        log.warning(
            "router %s (%s:%s) did not answer a Disconnect-Request: %s",
            router.id,
            router.address,
            router.coa_port,
            problem,
        )
        down.add(router.address)
        return "nas_unreachable"
    # A NAK (usually Error-Cause 503, Session-Context-Not-Found) means the session was already gone: expected.
    return "disconnect_acked" if result.acked else "disconnect_nak"


# --- who is online ------------------------------------------------------------------------------------------

ONLINE_LIMIT = 200


@dataclass(frozen=True)
class OnlineSession:
    """One open session, with the customer whose PPPoE username it is (None: no such customer here).

    Octets are seen from the NAS port: ``input_octets`` came from the customer (upload), ``output_octets`` went
    to the customer (download). Counters are as of the last Interim-Update.
    """

    username: str
    acct_session_id: str
    customer_id: int | None
    customer_code: str | None
    customer_name: str | None
    nas_address: str
    framed_ip: str | None
    started_at: datetime | None
    last_seen: datetime | None
    input_octets: int
    output_octets: int

    def duration(self, now: datetime) -> timedelta | None:
        return max(now - self.started_at, timedelta(0)) if self.started_at else None

    def is_stale(self, now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
        """Silent long enough that the next ``netsync.stale_sessions`` run will close it."""
        return self.last_seen is not None and now - self.last_seen > stale_after


_ONLINE = """
SELECT a.username, a.acctsessionid, host(a.nasipaddress) AS nas_address, host(a.framedipaddress) AS framed_ip,
       a.acctstarttime, coalesce(a.acctupdatetime, a.acctstarttime) AS last_seen,
       coalesce(a.acctinputoctets, 0) AS input_octets, coalesce(a.acctoutputoctets, 0) AS output_octets,
       c.id AS customer_id, c.code, c.name
FROM radacct a
LEFT JOIN customer c ON c.pppoe_username = a.username
WHERE a.acctstoptime IS NULL
  AND ($2::text IS NULL OR a.username ILIKE $2 OR c.code ILIKE $2 OR c.name ILIKE $2
       OR host(a.framedipaddress) LIKE $2 OR host(a.nasipaddress) LIKE $2)
ORDER BY a.acctstarttime DESC NULLS LAST, a.radacctid DESC
LIMIT $1
"""


def _contains(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def online_customers(
    connection: Connection, *, limit: int = ONLINE_LIMIT, q: str | None = None
) -> list[OnlineSession]:
    """Open sessions, newest first, each with its customer; ``q`` matches username, customer id or name,
    framed IP or NAS address (substring, case-insensitive).

    Reads only open rows (the partial indexes on ``AcctStopTime IS NULL``), so the cost follows how many are
    online, not how much accounting history the tenant has.

    Example::

        [s.customer_code for s in await online_customers(conn, q="rahim")]  # ['C-1001']
    """
    rows = await connection.fetch(_ONLINE, limit, _contains(q) if q else None)
    return [
        OnlineSession(
            username=r["username"] or "",
            acct_session_id=r["acctsessionid"],
            customer_id=r["customer_id"],
            customer_code=r["code"],
            customer_name=r["name"],
            nas_address=r["nas_address"],
            framed_ip=r["framed_ip"],
            started_at=r["acctstarttime"],
            last_seen=r["last_seen"],
            input_octets=int(r["input_octets"]),
            output_octets=int(r["output_octets"]),
        )
        for r in rows
    ]


async def count_online(connection: Connection) -> int:
    """How many sessions are open (an index-only count on the partial online index)."""
    return int(await connection.fetchval("SELECT count(*) FROM radacct WHERE acctstoptime IS NULL"))


def format_bytes(octets: int | None) -> str:
    """Octets for people, in 1024 steps like the package allowances (1 GB = 1024 MB).

    >>> format_bytes(0), format_bytes(1536), format_bytes(5 * 1024**3)
    ('0 B', '1.5 KB', '5.0 GB')
    """
    if octets is None:
        return "—"
    if octets < 1024:
        return f"{octets} B"
    value = octets / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def format_duration(duration: timedelta | None) -> str:
    """A session's age, coarse enough to read at a glance.

    >>> format_duration(timedelta(days=2, hours=3, minutes=4)), format_duration(timedelta(minutes=7))
    ('2d 3h', '7m')
    """
    if duration is None:
        return "—"
    minutes = int(duration.total_seconds()) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"
