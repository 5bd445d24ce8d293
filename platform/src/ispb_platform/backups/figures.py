"""Row counts and checksums of every table of some schemas, read inside one snapshot.

A backup records these for the tables it dumps, read in the very transaction whose snapshot pg_dump uses
(``pg_export_snapshot``), so they describe exactly what the file holds; the restore test reads them again
from the restored copy and compares. The checksum is the sum of a 64-bit hash of each row's text: it does
not depend on row order (a restore may load rows in another order) and is one set-based scan per table.
Row text depends on a few session settings, pinned here for both sides.
"""

from typing import Any

import asyncpg

from ispb_tenants.slugs import quote_ident

# Settings that change how a row prints; the same on the source and the restored copy.
_PINNED = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = 'hex'",
    "SET LOCAL IntervalStyle = 'postgres'",
)

Figures = dict[str, dict[str, Any]]
"""``{"schema.table": {"rows": n, "checksum": "decimal text"}}``."""


async def table_figures(connection: asyncpg.Connection, schemas: list[str]) -> Figures:
    """Figures of every ordinary table (and partition) of ``schemas``; call inside an open transaction."""
    for statement in _PINNED:
        await connection.execute(statement)
    tables = await connection.fetch(
        "SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = ANY($1::text[]) ORDER BY 1, 2",
        schemas,
    )
    figures: Figures = {}
    for table in tables:
        name = f"{quote_ident(table['schema'])}.{quote_ident(table['table'])}"
        row = await connection.fetchrow(
            f"SELECT count(*) AS rows, coalesce(sum(hashtextextended(t::text, 0)), 0)::text AS checksum"  # noqa: S608
            f" FROM {name} t"  # names from the catalog, quoted
        )
        assert row is not None  # an aggregate always returns a row
        figures[f"{table['schema']}.{table['table']}"] = {"rows": int(row["rows"]), "checksum": row["checksum"]}
    return figures


def compare(expected: Figures, found: Figures, *, rename: dict[str, str] | None = None) -> list[str]:
    """What differs between the figures of a backup and those of its restored copy, in plain words.

    ``rename`` maps schemas of ``expected`` to the names they have in ``found``.
    """
    rename = rename or {}
    problems: list[str] = []
    for name, figure in sorted(expected.items()):
        schema, _, table = name.partition(".")
        other = found.get(f"{rename.get(schema, schema)}.{table}")
        if other is None:
            problems.append(f"{name} is missing from the restored copy")
        elif other["rows"] != figure["rows"]:
            problems.append(f"{name} has {other['rows']} rows restored, {figure['rows']} when dumped")
        elif other["checksum"] != figure["checksum"]:
            problems.append(f"{name}: same {figure['rows']} rows but different contents")
    return problems
