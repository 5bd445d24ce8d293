"""INSERT and UPDATE for a fixed list of columns, shared by the panel's simple editors (packages, profiles).

Table and column names come from constants in the calling module and are checked here; values always travel
as ``$n`` parameters.
"""

import re
from collections.abc import Sequence
from typing import Any

from ispb_tenants import Connection

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked(*names: str) -> None:
    for name in names:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")


async def insert_row(connection: Connection, table: str, columns: Sequence[str], values: Sequence[Any]) -> int:
    _checked(table, *columns)
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id"  # noqa: S608
    async with connection.transaction():  # a savepoint: a unique violation leaves the caller's transaction usable
        return int(await connection.fetchval(sql, *values))


async def update_row(
    connection: Connection, table: str, row_id: int, columns: Sequence[str], values: Sequence[Any]
) -> bool:
    _checked(table, *columns)
    assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(columns, start=2))
    sql = f"UPDATE {table} SET {assignments}, updated_at = now() WHERE id = $1"  # noqa: S608
    async with connection.transaction():  # a savepoint, as in insert_row
        return str(await connection.execute(sql, row_id, *values)).endswith(" 1")
