"""Reads and writes of FreeRADIUS's tables (``radacct``, ``radcheck``, ``radreply``, ``radusergroup``): SQL.

Why SQL and not Piccolo: these are FreeRADIUS's stock tables, whose shape FreeRADIUS's own queries dictate; the
reads lean on their partial indexes on open sessions (``AcctStopTime IS NULL``), with ``host()`` and joins the
query builder does not express; closing stale sessions is one set-based statement with ``FOR UPDATE SKIP
LOCKED``; and the configuration reads every tenant's schema from one connection outside any tenant scope.
Functions take the connection of the caller's open scope (or, for the configuration, a pool connection).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ispb_netsync.radius import CustomerRows
from ispb_tenants.slugs import quote_ident

AnyConnection = asyncpg.Connection | PoolConnectionProxy

STALE_CAUSE = "Stale-Session"
"""AcctTerminateCause written on sessions closed by ``netsync.stale_sessions`` (the NAS's own causes are
RFC 2866 names)."""

# --- closing stale sessions ---------------------------------------------------------------------------------

# One statement per batch: pick stale open rows nobody else holds (a second worker skips them), close them at
# their last sign of life, and return each with its tenant's RADIUS router (if any) for the Disconnect. The
# OR keeps both halves on radacct_stale_idx (AcctUpdateTime, partial on open rows; NULLs are indexed too).
# A row is named by (radacctid, acctstarttime): radacct's key, partitioned by month on acctstarttime.
_CLOSE_BATCH = """
WITH stale AS (
    SELECT radacctid, acctstarttime FROM radacct
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
    WHERE a.radacctid = stale.radacctid AND a.acctstarttime = stale.acctstarttime AND a.acctstoptime IS NULL
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


async def close_batch(connection: AnyConnection, cutoff: datetime, limit: int) -> list[ClosedSession]:
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


# --- who is online ------------------------------------------------------------------------------------------


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

    def is_stale(self, now: datetime, stale_after: timedelta) -> bool:
        """Silent for longer than ``stale_after`` (the next ``netsync.stale_sessions`` run will close it)."""
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
ORDER BY a.acctstarttime DESC, a.radacctid DESC
LIMIT $1
"""


def _contains(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def online_customers(connection: AnyConnection, *, limit: int, q: str | None = None) -> list[OnlineSession]:
    """Open sessions, newest first, each with its customer; ``q`` matches username, customer id or name,
    framed IP or NAS address (substring, case-insensitive).

    Reads only open rows (the partial indexes on ``AcctStopTime IS NULL``), so the cost follows how many are
    online, not how much accounting history the tenant has; the first page reads ``radacct_online_start_idx``
    backwards and stops after ``limit`` rows (AcctStartTime is never NULL since radacct is partitioned on it).

    Example::

        [s.customer_code for s in await online_customers(conn, limit=200, q="rahim")]  # ['C-1001']
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


async def count_online(connection: AnyConnection) -> int:
    """How many sessions are open (an index-only count on the partial online index)."""
    return int(await connection.fetchval("SELECT count(*) FROM radacct WHERE acctstoptime IS NULL"))


# --- customers' authorisation rows --------------------------------------------------------------------------

_CUSTOMERS = """
SELECT c.id, c.status, c.pppoe_username, c.pppoe_password_sealed, host(c.ip_address) AS ip_address, r.mode,
       -- over the data allowance (fair usage): the package's FUP speeds until the cycle ends
       CASE WHEN c.fup_until IS NOT NULL AND p.fup_download_kbps IS NOT NULL THEN p.fup_download_kbps
            ELSE p.download_kbps END AS download_kbps,
       CASE WHEN c.fup_until IS NOT NULL AND p.fup_upload_kbps IS NOT NULL THEN p.fup_upload_kbps
            ELSE p.upload_kbps END AS upload_kbps
FROM customer c LEFT JOIN router r ON r.id = c.router_id LEFT JOIN package p ON p.id = c.package_id
WHERE c.id = ANY($1::int[])
ORDER BY c.id
"""


async def customers_radius_state(connection: AnyConnection, customer_ids: Sequence[int]) -> list[asyncpg.Record]:
    """What the customers' rows derive from, in id order: status, PPPoE credentials, static address, router
    mode, speeds. Customers that do not exist are left out."""
    rows: list[asyncpg.Record] = await connection.fetch(_CUSTOMERS, list(customer_ids))
    return rows


# The rows of a set of usernames made exactly the wanted ones, touching only what differs: a suspension changes
# the group and the rate limit but not the password, so the radcheck rows FreeRADIUS reads on every sign-in are
# left alone (auto-suspension at 100k customers rewrote 60,000 unchanged rows before). Every CTE sees the rows
# as they were before the statement: the deletes take exactly the rows not wanted, the inserts the wanted rows
# not there, so the two never meet. Usernames with no wanted row lose all their rows.
_REPLACE_ROWS = """
WITH want_check AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS w(username, attribute, op, value)
), want_reply AS (
    SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::text[]) AS w(username, attribute, op, value)
), want_group AS (
    SELECT * FROM unnest($10::text[], $11::text[], $12::int[]) AS w(username, groupname, priority)
), check_gone AS (
    DELETE FROM radcheck r WHERE r.username = ANY($1::text[]) AND NOT EXISTS (
        SELECT 1 FROM want_check w
        WHERE (w.username, w.attribute, w.op, w.value) = (r.username, r.attribute, r.op, r.value))
), check_new AS (
    INSERT INTO radcheck (username, attribute, op, value)
    SELECT * FROM want_check w WHERE NOT EXISTS (
        SELECT 1 FROM radcheck r
        WHERE (r.username, r.attribute, r.op, r.value) = (w.username, w.attribute, w.op, w.value))
), reply_gone AS (
    DELETE FROM radreply r WHERE r.username = ANY($1::text[]) AND NOT EXISTS (
        SELECT 1 FROM want_reply w
        WHERE (w.username, w.attribute, w.op, w.value) = (r.username, r.attribute, r.op, r.value))
), reply_new AS (
    INSERT INTO radreply (username, attribute, op, value)
    SELECT * FROM want_reply w WHERE NOT EXISTS (
        SELECT 1 FROM radreply r
        WHERE (r.username, r.attribute, r.op, r.value) = (w.username, w.attribute, w.op, w.value))
), group_gone AS (
    DELETE FROM radusergroup r WHERE r.username = ANY($1::text[]) AND NOT EXISTS (
        SELECT 1 FROM want_group w WHERE (w.username, w.groupname, w.priority) = (r.username, r.groupname, r.priority))
)
INSERT INTO radusergroup (username, groupname, priority)
SELECT * FROM want_group w WHERE NOT EXISTS (
    SELECT 1 FROM radusergroup r WHERE (r.username, r.groupname, r.priority) = (w.username, w.groupname, w.priority))
"""


async def replace_user_rows(
    connection: AnyConnection, usernames: Sequence[str], customers: Sequence[CustomerRows]
) -> None:
    """Make the radcheck/radreply/radusergroup rows of ``usernames`` exactly those of ``customers`` (whose
    usernames must be among them), in one statement that writes only the rows that differ."""
    if not usernames:
        return
    check = [row for rows in customers for row in rows.radcheck]
    reply = [row for rows in customers for row in rows.radreply]
    groups = [row for rows in customers for row in rows.radusergroup]
    await connection.execute(
        _REPLACE_ROWS,
        list(usernames),
        [r.name for r in check],
        [r.attribute for r in check],
        [r.op for r in check],
        [r.value for r in check],
        [r.name for r in reply],
        [r.attribute for r in reply],
        [r.op for r in reply],
        [r.value for r in reply],
        [g.username for g in groups],
        [g.groupname for g in groups],
        [g.priority for g in groups],
    )


# --- the configuration's view of every tenant ---------------------------------------------------------------


async def tenant_schemas(connection: AnyConnection) -> list[tuple[int, str, str]]:
    """(id, slug, schema) of every tenant, in id order."""
    rows = await connection.fetch("SELECT id, slug, schema_name FROM platform.tenant ORDER BY id")
    return [(row["id"], row["slug"], row["schema_name"]) for row in rows]


async def has_radius_tables(connection: AnyConnection, schema: str) -> bool:
    """Whether ``schema`` is migrated far enough for the generated queries: the RADIUS tables (tenant migration
    0005) with the partitioned accounting and its ``radacct_key`` (0012)."""
    return bool(await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{quote_ident(schema)}.radacct_key"))


async def radius_routers(connection: AnyConnection, schema: str) -> list[dict[str, Any]]:
    """The RADIUS-mode routers of the tenant in ``schema``: id, name, NAS address and sealed secret."""
    rows = await connection.fetch(
        "SELECT id, name, host(nas_address) AS address, radius_secret_sealed"  # noqa: S608 (validated schema)
        f" FROM {quote_ident(schema)}.router WHERE mode = 'radius' ORDER BY id"
    )
    return [dict(row) for row in rows]
