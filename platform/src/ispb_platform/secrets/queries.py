"""Reading and rewriting the sealed columns of one tenant, in its open scope.

SQL, not Piccolo: one pair of statements serves every sealed column of every table (the names come from
`SEALED_COLUMNS`, constants of this module, never from input), and the rewrite is one ``UPDATE ... FROM
unnest(...)`` per column and batch.
"""

from dataclasses import dataclass

from ispb_platform.secrets_box import Purpose
from ispb_tenants import TenantScope


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values, the column that identifies its row in the binding, and their purpose."""

    table: str
    column: str
    row_key: str
    purpose: Purpose


SEALED_COLUMNS = (
    SealedColumn("router", "password_sealed", "id", Purpose.ROUTER_API_PASSWORD),
    SealedColumn("router", "radius_secret_sealed", "id", Purpose.ROUTER_RADIUS_SECRET),
    SealedColumn("customer", "pppoe_password_sealed", "id", Purpose.CUSTOMER_PPPOE_PASSWORD),
    SealedColumn("notify_gateway", "secret_sealed", "channel", Purpose.NOTIFY_GATEWAY_SECRET),
    SealedColumn("outbox", "text_sealed", "key", Purpose.OUTBOX_TEXT),
    SealedColumn("olt", "community_sealed", "id", Purpose.OLT_COMMUNITY),
    SealedColumn("olt", "v3_auth_key_sealed", "id", Purpose.OLT_V3_AUTH_KEY),
    SealedColumn("olt", "v3_priv_key_sealed", "id", Purpose.OLT_V3_PRIV_KEY),
    SealedColumn("payment_gateway", "secret_sealed", "provider", Purpose.PAYMENT_GATEWAY_SECRET),
    SealedColumn("status_check", "secret_sealed", "id", Purpose.MONITOR_CHECK_SECRET),
    SealedColumn("monitor_settings", "zabbix_token_sealed", "id", Purpose.ZABBIX_TOKEN),
)
"""Every sealed column of a tenant schema (a test compares this with the schema's ``*_sealed`` columns)."""


@dataclass(frozen=True)
class SealedValue:
    row: int | str
    sealed: str


async def stale_values(
    scope: TenantScope, column: SealedColumn, key_id: str, *, after: int | str | None, limit: int
) -> list[SealedValue]:
    """Up to ``limit`` values of ``column`` not sealed in today's format under ``key_id``, in row order after
    ``after``, locked until the scope ends (an edit meanwhile waits, then seals under the current key itself)."""
    rows = await scope.connection.fetch(
        f"SELECT {column.row_key} AS row, {column.column} AS sealed FROM {column.table}"  # noqa: S608 (constants)
        f" WHERE {column.column} IS NOT NULL AND {column.column} NOT LIKE $1"
        f" AND ($2::{_type(column)} IS NULL OR {column.row_key} > $2)"
        f" ORDER BY {column.row_key} LIMIT $3 FOR UPDATE",
        f"v2:{key_id}:%",
        after,
        limit,
    )
    return [SealedValue(row["row"], row["sealed"]) for row in rows]


def _type(column: SealedColumn) -> str:
    return "bigint" if column.row_key == "id" else "text"


async def replace_values(scope: TenantScope, column: SealedColumn, values: list[SealedValue]) -> None:
    """Write re-sealed values back, each to its row."""
    await scope.connection.execute(
        f"UPDATE {column.table} t SET {column.column} = u.sealed"  # noqa: S608 (constants)
        f" FROM unnest($1::{_type(column)}[], $2::text[]) AS u(row, sealed) WHERE t.{column.row_key} = u.row",
        [v.row for v in values],
        [v.sealed for v in values],
    )
