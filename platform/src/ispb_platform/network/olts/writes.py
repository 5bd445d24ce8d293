"""The sync's writes: set-based SQL, one statement per OLT per table (never one round trip per ONU).

SQL rather than Piccolo: an upsert of hundreds of ONUs from arrays (``unnest``) that also writes their readings
from the same statement's RETURNING, and mapping updates joined against customers, are not expressible in
Piccolo's query builder. Every function runs in the caller's tenant scope and is safe to repeat: upserts key
on (olt, serial), readings are written only when something changed (or an hour passed), a second identical
run writes no new readings.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg

from ispb_netsync.olt import OnuRecord

SYNC_LOCK = "netsync.olt_sync"
"""Advisory lock name, with the OLT's id as the second key: held while a sync writes one OLT's walk, and by
removing the OLT, so the two never interleave."""
READING_STEP_DB = Decimal("0.5")
"""A reading is kept when Rx moves by this much (dB) or more ..."""
READING_EVERY = "55 minutes"
"""... or the last kept reading is this old (a little under the hour, so a 15-minute sync keeps one an hour)."""
KEEP_READINGS = timedelta(days=90)

_CHANGED = (
    "{old}.status IS DISTINCT FROM {new}.status"
    " OR abs(coalesce({old}.rx_dbm, -99) - coalesce({new}.rx_dbm, -99)) >= 0.5"
    " OR {old}.history_at IS NULL OR {old}.history_at < $2::timestamptz - interval '55 minutes'"
)

_UPSERT = f"""
WITH incoming AS (
    SELECT DISTINCT ON (serial) *
    FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::numeric[], $8::numeric[], $9::int[],
                $10::text[], $11::timestamptz[])
         AS t(serial, port, onu_index, status, rx_dbm, tx_dbm, distance_m, description, vendor_change)
    ORDER BY serial
), before AS (
    SELECT o.serial, o.status, o.rx_dbm, o.history_at FROM onu o JOIN incoming i USING (serial) WHERE o.olt_id = $1
), saved AS (
    INSERT INTO onu AS o (olt_id, serial, port, onu_index, status, rx_dbm, tx_dbm, distance_m, description,
                          last_change_at, first_seen_at, last_seen_at, online_at, history_at)
    SELECT $1, serial, port, onu_index, status, rx_dbm, tx_dbm, distance_m, description,
           coalesce(vendor_change, $2), $2, $2, CASE WHEN status = 'online' THEN $2 END, $2
    FROM incoming
    ON CONFLICT (olt_id, serial) DO UPDATE SET
        port = EXCLUDED.port, onu_index = EXCLUDED.onu_index, status = EXCLUDED.status,
        rx_dbm = EXCLUDED.rx_dbm, tx_dbm = EXCLUDED.tx_dbm, distance_m = EXCLUDED.distance_m,
        description = EXCLUDED.description, last_seen_at = $2, missing_since = NULL,
        online_at = CASE WHEN EXCLUDED.status = 'online' THEN $2 ELSE o.online_at END,
        last_change_at = coalesce(
            (SELECT i.vendor_change FROM incoming i WHERE i.serial = EXCLUDED.serial),
            CASE WHEN o.status IS DISTINCT FROM EXCLUDED.status THEN $2 ELSE o.last_change_at END),
        history_at = CASE WHEN {_CHANGED.format(old="o", new="EXCLUDED")} THEN $2 ELSE o.history_at END
    RETURNING o.id, o.serial, o.status, o.rx_dbm, o.tx_dbm
)
INSERT INTO onu_reading (onu_id, at, status, rx_dbm, tx_dbm)
SELECT s.id, $2, s.status, s.rx_dbm, s.tx_dbm
FROM saved s LEFT JOIN before b USING (serial)
WHERE b.serial IS NULL OR {_CHANGED.format(old="b", new="s")}
"""  # noqa: S608 (constants only; values are $n parameters)


async def save_onus(connection: asyncpg.Connection, olt_id: int, onus: Sequence[OnuRecord], now: datetime) -> int:
    """Upsert every ONU of one complete walk and keep readings where something changed; the readings written.

    ``last_change_at`` is the vendor's time of the last up/down where the MIB has it, else when the sync first
    saw the new status. One statement for both tables (the readings come from the upsert's RETURNING).
    """
    status = await connection.execute(
        _UPSERT,
        olt_id,
        now,
        [onu.serial for onu in onus],
        [onu.port for onu in onus],
        [onu.index for onu in onus],
        [onu.status.value for onu in onus],
        [None if onu.rx_dbm is None else Decimal(str(onu.rx_dbm)) for onu in onus],
        [None if onu.tx_dbm is None else Decimal(str(onu.tx_dbm)) for onu in onus],
        [onu.distance_m for onu in onus],
        [onu.description for onu in onus],
        [onu.last_change for onu in onus],
    )
    return int(status.rsplit(" ", 1)[-1])


async def mark_missing(connection: asyncpg.Connection, olt_id: int, serials: Sequence[str], now: datetime) -> int:
    """ONUs a complete walk no longer lists get ``missing_since`` (kept, with their customer). Only after a
    complete walk: a failed or cut walk never gets here."""
    status = await connection.execute(
        "UPDATE onu SET missing_since = $3 WHERE olt_id = $1 AND missing_since IS NULL AND serial <> ALL($2::text[])",
        olt_id,
        list(serials),
        now,
    )
    return int(status.rsplit(" ", 1)[-1])


_NORMAL = "upper(regexp_replace({}, '[^A-Za-z0-9]', '', 'g'))"
ONU_FIELDS = {"description": "o.description", "serial": "o.serial"}
CUSTOMER_FIELDS = {"code": "c.code", "pppoe_username": "c.pppoe_username", "phone": "c.phone", "name": "c.name"}


def _matches(onu_field: str, customer_field: str) -> str:
    """The SQL condition "ONU matches customer" of the operator's rule (fields from the fixed maps above)."""
    onu, customer = _NORMAL.format(ONU_FIELDS[onu_field]), _NORMAL.format(CUSTOMER_FIELDS[customer_field])
    return f"{customer} <> '' AND {onu} = {customer}"


async def map_automatically(
    connection: asyncpg.Connection, olt_id: int | None, onu_field: str, customer_field: str
) -> tuple[int, int]:
    """Apply the mapping rule to the OLT's ONUs (all OLTs for ``None``): (mapped, unmapped).

    An ONU matching exactly one customer gets that customer (``auto``); an ``auto`` mapping that no longer
    matches is cleared. ``manual`` mappings (the operator's override, also "no customer") are never touched.
    """
    if onu_field == "off":
        return 0, 0
    match = _matches(onu_field, customer_field)
    scope = "($1::int IS NULL OR o.olt_id = $1)"
    mapped = await connection.execute(
        f"""UPDATE onu AS o SET customer_id = m.customer_id, mapping = 'auto'
        FROM (SELECT o.id, min(c.id) AS customer_id FROM onu o JOIN customer c ON {match}
              WHERE {scope} AND o.mapping <> 'manual' GROUP BY o.id HAVING count(*) = 1) AS m
        WHERE o.id = m.id AND (o.customer_id IS DISTINCT FROM m.customer_id OR o.mapping <> 'auto')""",  # noqa: S608 (fields from fixed maps)
        olt_id,
    )
    unmapped = await connection.execute(
        f"""UPDATE onu AS o SET customer_id = NULL, mapping = 'none'
        WHERE {scope} AND o.mapping = 'auto' AND (
            SELECT count(*) FROM customer c WHERE {match}) <> 1""",  # noqa: S608 (fields from fixed maps)
        olt_id,
    )
    return int(mapped.rsplit(" ", 1)[-1]), int(unmapped.rsplit(" ", 1)[-1])


async def olt_exists(connection: asyncpg.Connection, olt_id: int) -> bool:
    """Checked under ``SYNC_LOCK``: an OLT removed while it was being walked gets nothing written."""
    return bool(await connection.fetchval("SELECT EXISTS (SELECT 1 FROM olt WHERE id = $1)", olt_id))


async def record_success(
    connection: asyncpg.Connection, olt_id: int, now: datetime, *, onus: int, garbled: int
) -> None:
    await connection.execute(
        """UPDATE olt SET status = 'up', last_sync_at = $2, last_success_at = $2, last_error = '', failures = 0,
        onu_count = $3, garbled = $4 WHERE id = $1""",
        olt_id,
        now,
        onus,
        garbled,
    )


async def record_failure(
    connection: asyncpg.Connection, olt_id: int, now: datetime, *, status: str, error: str
) -> None:
    """The OLT is marked (``down``, ``auth_failed``, ``garbage``) with the error; its ONUs stay as they were."""
    await connection.execute(
        "UPDATE olt SET status = $2, last_sync_at = $3, last_error = $4, failures = failures + 1 WHERE id = $1",
        olt_id,
        status,
        now,
        error[:500],
    )


async def forget_old_readings(connection: asyncpg.Connection, now: datetime) -> int:
    status = await connection.execute(
        "DELETE FROM onu_reading WHERE at < $1::timestamptz - $2::interval", now, KEEP_READINGS
    )
    return int(status.rsplit(" ", 1)[-1])
