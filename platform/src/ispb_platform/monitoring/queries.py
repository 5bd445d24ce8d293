"""Reads and writes of the monitoring tables.

SQL, not Piccolo: the same statements serve an operator's schema and the platform's (platform-wide checks),
the scope's search_path choosing which (the platform's Piccolo classes name their schema, the tenant's do
not); and the round's writes are one ``UPDATE ... FROM unnest(...)`` per tenant, not a statement per check.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ispb_tenants import Connection

CHECK_COLUMNS = """
    c.id, c.name, c.public_name, c.kind, c.target, c.port, c.options, c.secret_sealed, c.router_id, c.timeout_s,
    c.confirm_count, c.paused, c.shown, c.failures, c.successes, c.failing_since, c.recovering_since,
    c.last_status, c.last_latency_ms, c.last_message, c.last_checked_at, c.monitored_since
"""


class CheckNameTaken(Exception):
    pass


def _options(row: asyncpg.Record) -> dict[str, Any]:
    value = row["options"]
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def as_dict(row: asyncpg.Record) -> dict[str, Any]:
    found = dict(row)
    if "options" in found:
        found["options"] = _options(row)
    return found


async def list_checks(connection: Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        f"SELECT {CHECK_COLUMNS}, i.started_at AS open_since FROM status_check c"  # noqa: S608 (constants)
        " LEFT JOIN status_incident i ON i.check_id = c.id AND i.ended_at IS NULL ORDER BY c.name"
    )
    return [as_dict(r) for r in rows]


async def get_check(connection: Connection, check_id: int) -> dict[str, Any] | None:
    row = await connection.fetchrow(f"SELECT {CHECK_COLUMNS} FROM status_check c WHERE c.id = $1", check_id)  # noqa: S608
    return as_dict(row) if row is not None else None


@dataclass(frozen=True)
class CheckFields:
    """What a form saves (the secret already sealed, or None to keep the stored one)."""

    name: str
    public_name: str
    kind: str
    target: str
    port: int | None
    options: dict[str, Any]
    router_id: int | None
    timeout_s: int
    confirm_count: int


async def next_check_id(connection: Connection) -> int:
    """The id a new check will get (its secret is sealed for that row before the insert)."""
    return int(await connection.fetchval("SELECT nextval(pg_get_serial_sequence('status_check', 'id'))"))


async def save_check(
    connection: Connection, check_id: int, fields: CheckFields, secret_sealed: str | None, *, new: bool
) -> None:
    """Insert (with the id from `next_check_id`) or update; a name another check has raises `CheckNameTaken`."""
    values = (
        check_id, fields.name, fields.public_name, fields.kind, fields.target, fields.port,
        json.dumps(fields.options), fields.router_id, fields.timeout_s, fields.confirm_count, secret_sealed,
    )  # fmt: skip
    try:
        async with connection.transaction():  # a savepoint: a unique violation leaves the request usable
            if new:
                await connection.execute(
                    "INSERT INTO status_check (id, name, public_name, kind, target, port, options, router_id,"
                    " timeout_s, confirm_count, secret_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9,"
                    " $10, $11)",
                    *values,
                )
            else:
                # a changed target starts afresh: the tracker belonged to what was checked before
                await connection.execute(
                    "UPDATE status_check SET name = $2, public_name = $3, kind = $4, target = $5, port = $6,"
                    " options = $7::jsonb, router_id = $8, timeout_s = $9, confirm_count = $10,"
                    " secret_sealed = coalesce($11, secret_sealed), updated_at = now() WHERE id = $1",
                    *values,
                )
    except asyncpg.UniqueViolationError as error:
        raise CheckNameTaken(fields.name) from error


async def name_taken(connection: Connection, name: str, except_id: int | None) -> bool:
    found = await connection.fetchval(
        "SELECT 1 FROM status_check WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2", name, except_id
    )
    return found is not None


async def set_paused(connection: Connection, check_id: int, paused: bool) -> bool:
    """Pause or resume; a resumed check starts a fresh run of results (and any open incident ends now: nobody
    watched while it was paused)."""
    done = await connection.fetchval(
        "UPDATE status_check SET paused = $2, failures = 0, successes = 0, failing_since = NULL,"
        " recovering_since = NULL, shown = CASE WHEN $2 THEN shown ELSE NULL END, updated_at = now()"
        " WHERE id = $1 RETURNING id",
        check_id,
        paused,
    )
    if done is not None and paused:
        await connection.execute(
            "UPDATE status_incident SET ended_at = now() WHERE check_id = $1 AND ended_at IS NULL", check_id
        )
    return done is not None


# --- the round ---------------------------------------------------------------------------------------------------

DUE_AFTER_S = 50
"""A check is due when its last result is older than this: a second round in the same minute finds nothing."""

_DUE = f"""
SELECT {CHECK_COLUMNS},
       r.host AS router_host, r.api_port AS router_port, r.use_tls AS router_tls, r.username AS router_username,
       r.password_sealed AS router_password_sealed,
       EXISTS (SELECT 1 FROM status_maintenance m WHERE (m.check_id = c.id OR m.check_id IS NULL)
               AND m.starts_at <= $1 AND m.ends_at > $1) AS in_maintenance
FROM status_check c
LEFT JOIN ROUTER_TABLE r ON r.id = c.router_id
WHERE NOT c.paused AND (c.last_checked_at IS NULL OR c.last_checked_at <= $1 - make_interval(secs => $2))
ORDER BY c.id
"""  # noqa: S608 (constants)

_PLATFORM_DUE = _DUE.replace(
    "r.host AS router_host, r.api_port AS router_port, r.use_tls AS router_tls, r.username AS router_username,\n"
    "       r.password_sealed AS router_password_sealed,",
    "NULL::text AS router_host, NULL::int AS router_port, NULL::bool AS router_tls, NULL::text AS router_username,"
    " NULL::text AS router_password_sealed,",
).replace("LEFT JOIN ROUTER_TABLE r ON r.id = c.router_id\n", "")
_TENANT_DUE = _DUE.replace("ROUTER_TABLE", "router")


async def check_to_run(
    connection: Connection, check_id: int, now: datetime, *, platform: bool
) -> asyncpg.Record | None:
    """One check as a round reads it, whether due or paused ("Test now")."""
    sql = (_PLATFORM_DUE if platform else _TENANT_DUE).replace(
        "WHERE NOT c.paused AND (c.last_checked_at IS NULL OR c.last_checked_at <= $1 - make_interval(secs => $2))",
        "WHERE $2::int IS NOT NULL AND c.id = $3",
    )
    return await connection.fetchrow(sql, now, 0, check_id)


async def due_checks(connection: Connection, now: datetime, *, platform: bool) -> list[asyncpg.Record]:
    """Checks not paused whose last result is older than `DUE_AFTER_S`, with their router's address (a RouterOS
    check bound to a router) and whether a maintenance window covers them now."""
    return list(await connection.fetch(_PLATFORM_DUE if platform else _TENANT_DUE, now, DUE_AFTER_S))


_WRITE_RESULTS = """
UPDATE status_check c SET
    shown = u.shown, failures = u.failures, successes = u.successes, failing_since = u.failing_since,
    recovering_since = u.recovering_since, last_status = u.status, last_latency_ms = u.latency,
    last_message = u.message, last_checked_at = u.checked_at,
    monitored_since = coalesce(c.monitored_since, u.checked_at)
FROM unnest($1::int[], $2::text[], $3::int[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::text[],
            $8::real[], $9::text[], $10::timestamptz[], $11::timestamptz[])
     AS u(id, shown, failures, successes, failing_since, recovering_since, status, latency, message, checked_at, seen)
WHERE c.id = u.id AND c.last_checked_at IS NOT DISTINCT FROM u.seen AND NOT c.paused
RETURNING c.id
"""


@dataclass(frozen=True)
class RoundRow:
    """One check's result and tracker after the round, and what it read (``seen``: its last_checked_at)."""

    check_id: int
    shown: str | None
    failures: int
    successes: int
    failing_since: datetime | None
    recovering_since: datetime | None
    status: str
    latency_ms: float | None
    message: str
    checked_at: datetime
    seen: datetime | None


async def write_results(connection: Connection, rows: Sequence[RoundRow]) -> set[int]:
    """Store a round's results in one statement; returns the checks written. A check whose ``last_checked_at``
    changed since it was read (another round wrote first) or that was paused meanwhile is left alone."""
    if not rows:
        return set()
    columns = list(zip(*(
        (r.check_id, r.shown, r.failures, r.successes, r.failing_since, r.recovering_since, r.status, r.latency_ms,
         r.message[:1000], r.checked_at, r.seen)
        for r in rows
    ), strict=True))  # fmt: skip
    written = await connection.fetch(_WRITE_RESULTS, *[list(c) for c in columns])
    return {int(r["id"]) for r in written}


async def open_incidents(
    connection: Connection, opened: Sequence[tuple[int, datetime, str]]
) -> list[tuple[int, int, str]]:
    """Open an incident per (check, start, cause); one open incident per check (the unique index), so a second
    round adds nothing. Returns (incident id, check id, check name) of those opened now."""
    if not opened:
        return []
    rows = await connection.fetch(
        "WITH new AS (INSERT INTO status_incident (check_id, started_at, cause)"
        " SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::text[])"
        " ON CONFLICT (check_id) WHERE ended_at IS NULL DO NOTHING RETURNING id, check_id)"
        " SELECT new.id, new.check_id, c.name, c.public_name FROM new JOIN status_check c ON c.id = new.check_id",
        [o[0] for o in opened],
        [o[1] for o in opened],
        [o[2][:1000] for o in opened],
    )
    return [(int(r["id"]), int(r["check_id"]), str(r["name"])) for r in rows]


async def close_incidents(
    connection: Connection, closed: Sequence[tuple[int, datetime]]
) -> list[tuple[int, int, str, datetime]]:
    """End the open incident of each (check, at); returns (incident id, check id, check name, started_at)."""
    if not closed:
        return []
    rows = await connection.fetch(
        "WITH ended AS (UPDATE status_incident i SET ended_at = greatest(u.at, i.started_at)"
        " FROM unnest($1::int[], $2::timestamptz[]) AS u(id, at)"
        " WHERE i.check_id = u.id AND i.ended_at IS NULL RETURNING i.id, i.check_id, i.started_at)"
        " SELECT ended.id, ended.check_id, ended.started_at, c.name"
        " FROM ended JOIN status_check c ON c.id = ended.check_id",
        [c[0] for c in closed],
        [c[1] for c in closed],
    )
    return [(int(r["id"]), int(r["check_id"]), str(r["name"]), r["started_at"]) for r in rows]


# --- incidents, history, the status page ----------------------------------------------------------------------


async def incidents_since(connection: Connection, since: datetime, *, public_only: bool) -> list[dict[str, Any]]:
    """Incidents open now or that ended after ``since``, newest first, with their check's names."""
    rows = await connection.fetch(
        "SELECT i.id, i.check_id, i.started_at, i.ended_at, i.cause, c.name, c.public_name FROM status_incident i"
        " JOIN status_check c ON c.id = i.check_id"
        " WHERE (i.ended_at IS NULL OR i.ended_at >= $1) AND (NOT $2 OR c.public_name <> '')"
        " ORDER BY i.ended_at IS NULL DESC, i.started_at DESC LIMIT 200",
        since,
        public_only,
    )
    return [dict(r) for r in rows]


async def open_incident_list(connection: Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT i.id, i.started_at, i.cause, c.id AS check_id, c.name FROM status_incident i"
        " JOIN status_check c ON c.id = i.check_id WHERE i.ended_at IS NULL ORDER BY i.started_at"
    )
    return [dict(r) for r in rows]


async def history_inputs(
    connection: Connection, since: datetime, *, public_only: bool
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], list[asyncpg.Record]]:
    """What the uptime bars are drawn from: the checks, their incidents and the maintenance windows since
    ``since`` (three queries, whatever the number of checks)."""
    checks = await connection.fetch(
        "SELECT id, name, public_name, kind, shown, last_status, last_checked_at, monitored_since, paused"
        " FROM status_check WHERE NOT $1 OR public_name <> '' ORDER BY public_name, name",
        public_only,
    )
    incidents = await connection.fetch(
        "SELECT check_id, started_at, ended_at FROM status_incident WHERE ended_at IS NULL OR ended_at >= $1", since
    )
    maintenance = await connection.fetch(
        "SELECT id, check_id, starts_at, ends_at, note FROM status_maintenance WHERE ends_at >= $1 ORDER BY starts_at",
        since,
    )
    return list(checks), list(incidents), list(maintenance)


async def add_maintenance(
    connection: Connection, check_id: int | None, starts_at: datetime, ends_at: datetime, note: str
) -> int:
    return int(
        await connection.fetchval(
            "INSERT INTO status_maintenance (check_id, starts_at, ends_at, note) VALUES ($1, $2, $3, $4) RETURNING id",
            check_id,
            starts_at,
            ends_at,
            note,
        )
    )


# --- settings and Zabbix -------------------------------------------------------------------------------------------


async def settings(connection: Connection) -> dict[str, Any]:
    row = await connection.fetchrow("SELECT * FROM monitor_settings WHERE id = 1")
    return dict(row) if row is not None else {}


async def save_page_settings(connection: Connection, enabled: bool, title: str) -> None:
    await connection.execute(
        "INSERT INTO monitor_settings (id, page_enabled, page_title) VALUES (1, $1, $2)"
        " ON CONFLICT (id) DO UPDATE SET page_enabled = $1, page_title = $2",
        enabled,
        title,
    )


async def save_zabbix_settings(connection: Connection, url: str, token_sealed: str | None) -> None:
    """``token_sealed`` None keeps the stored token; an empty URL switches the sync off and forgets it all."""
    if not url:
        await connection.execute(
            "UPDATE monitor_settings SET zabbix_url = '', zabbix_token_sealed = NULL, zabbix_error = '',"
            " zabbix_synced_at = NULL WHERE id = 1"
        )
        await connection.execute("DELETE FROM zabbix_problem")
        await connection.execute("DELETE FROM zabbix_host")
        return
    await connection.execute(
        "UPDATE monitor_settings SET zabbix_url = $1, zabbix_token_sealed = coalesce($2, zabbix_token_sealed)"
        " WHERE id = 1",
        url,
        token_sealed,
    )


async def replace_zabbix(
    connection: Connection, hosts: Sequence[tuple[Any, ...]], problems: Sequence[tuple[Any, ...]], at: datetime
) -> None:
    """Replace what the last sync read with this one's, in the caller's transaction (readers never see half)."""
    await connection.execute("DELETE FROM zabbix_problem")
    await connection.execute("DELETE FROM zabbix_host")
    if hosts:
        await connection.copy_records_to_table(
            "zabbix_host", records=hosts, columns=["hostid", "host", "name", "enabled", "available"]
        )
    if problems:
        await connection.copy_records_to_table(
            "zabbix_problem",
            records=problems,
            columns=["eventid", "triggerid", "name", "severity", "acknowledged", "since", "hosts"],
        )
    await connection.execute("UPDATE monitor_settings SET zabbix_synced_at = $1, zabbix_error = '' WHERE id = 1", at)


async def zabbix_failed(connection: Connection, error: str) -> None:
    await connection.execute("UPDATE monitor_settings SET zabbix_error = $1 WHERE id = 1", error[:1000])


async def zabbix_view(connection: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Hosts by name; problems by severity (highest first), then age (oldest first)."""
    hosts = await connection.fetch("SELECT * FROM zabbix_host ORDER BY name, hostid")
    problems = await connection.fetch("SELECT * FROM zabbix_problem ORDER BY severity DESC, since, eventid")
    return [dict(h) for h in hosts], [dict(p) for p in problems]


async def routers_for_choice(connection: Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch("SELECT id, name, host, api_port FROM router ORDER BY name")
    return [dict(r) for r in rows]
