"""RADIUS session housekeeping: closing zombie sessions (``netsync.stale_sessions``) and who is online now.

A session whose Accounting-Stop never arrived (router rebooted or lost power, packet dropped, link to the
RADIUS server down) stays "open" in ``radacct`` for ever: the customer shows as online, and with
``Simultaneous-Use := 1`` the stock ``simul_count_query`` rejects every new login (DESIGN 11). MikroTik sends
an Interim-Update every 5 minutes (``Acct-Interim-Interval``), so an open session with no sign of life for
`STALE_AFTER` is closed here, at its last sign of life, and a Disconnect-Request (RFC 5176) goes to its
router in case the session is in fact still up there: the customer then logs in again and gets a fresh,
accounted session. Accounting-On/Off from a rebooted NAS is handled by FreeRADIUS itself (the generated
``accounting-on`` query closes every open session of that NAS; see docs/radius.md). The statements live in
``queries.py``; the schedule calls `close_stale` through ``network/jobs.py``.

Example::

    counts = await close_stale(db, tenant, now, secret_key)   # {"closed": 3, "disconnect_acked": 1, ...}
    async with db.tenant(tenant) as scope:
        online, total = await who_is_online(scope.connection, q="rahim")
"""

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ispb_netsync.radius import PacketError, RadiusError, disconnect
from ispb_platform.jobs.job import Counts
from ispb_platform.network.radius.queries import (
    ClosedSession,
    OnlineSession,
    close_batch,
    count_online,
    online_customers,
)
from ispb_platform.secrets_box import Binding, Purpose, SealError, reveal
from ispb_tenants import Connection, Database, TenantRef

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
"""Three missed 5-minute Interim-Updates. Shorter closes sessions of customers behind a briefly congested
link (their next Interim-Update cannot reopen the row: the generated query only updates open rows and its
insert fallback does nothing on the existing AcctUniqueId); longer keeps Simultaneous-Use blocking a customer whose
router rebooted without Accounting-On. Routers must send interim updates at most every 5 minutes."""
BATCH = 500
"""Sessions closed per transaction: short row locks, so FreeRADIUS's own updates never wait long."""
DISCONNECT_TIMEOUT = 2.0
"""Seconds per Disconnect-Request attempt. A NAS that fails to answer once is not asked again in this run."""
DISCONNECT_RETRIES = 1
COUNT_KEYS = ("closed", "disconnect_acked", "disconnect_nak", "nas_unreachable", "disconnect_skipped")


@dataclass(frozen=True)
class DisconnectSettings:
    secret_key: str
    tenant_id: int
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
    settings = DisconnectSettings(secret_key, tenant.id, disconnect_timeout, disconnect_retries)
    counts: Counter[str] = Counter(dict.fromkeys(COUNT_KEYS, 0))
    down: set[str] = set()  # NAS addresses that did not answer in this run
    while True:
        async with db.tenant(tenant) as scope:
            closed = await close_batch(scope.connection, cutoff, batch)
        counts["closed"] += len(closed)
        counts.update(await disconnect_closed(closed, settings, down))
        if len(closed) < batch:
            return dict(counts)


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
        binding = Binding(settings.tenant_id, Purpose.ROUTER_RADIUS_SECRET, router.id)
        secret = reveal(settings.secret_key, router.secret_sealed, binding)
    except SealError as problem:
        log.warning("router %s: its RADIUS secret cannot be revealed: %s", router.id, problem)
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


async def who_is_online(connection: Connection, *, q: str | None = None) -> tuple[list[OnlineSession], int]:
    """Customers → Online: up to `ONLINE_LIMIT` open sessions (matching ``q``) and how many are open in all."""
    return await online_customers(connection, limit=ONLINE_LIMIT, q=q), await count_online(connection)


def is_stale(session: OnlineSession, now: datetime) -> bool:
    """Silent long enough that the next ``netsync.stale_sessions`` run will close it."""
    return session.is_stale(now, STALE_AFTER)


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
