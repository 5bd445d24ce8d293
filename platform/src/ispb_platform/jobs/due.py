"""Which operators have work for a tenant job, asked of every tenant schema in one query per batch.

The per-minute tenant jobs (``notify.send_outbox``, ``netsync.router_commands``) used to be queued for every
active operator every minute, work or not: at 1,000 operators that was 2,000 queued jobs and 2,000 run records a
minute (~2.9M records a day, ~3 GB of Redis at a 24 h retention), nearly all of them finding nothing. A job with
a ``due_work`` test (``ScheduledJob.due_work``) is queued only for the operators where that test is true: the
tick asks every schema at once, ``UNION ALL`` of one ``EXISTS`` per tenant, each answered from an index (for the
per-minute jobs the partial "due" index their own claim uses), in statements sized to the locks they take
(`LOCK_BUDGET`). The five-minute, hourly and other tenant jobs have tests too (their modules say which).
Work that becomes due between ticks is still run at once by ``run_soon`` (payments, router commands).
"""

from collections.abc import Sequence

from ispb_tenants import Connection, Database, TenantRef
from ispb_tenants.slugs import quote_ident

BATCH = 250
"""Tenants per statement at most: keeps the statement's planning time small (a few ms) at thousands of operators."""

LOCK_BUDGET = 800
"""Relation locks one statement may take. A statement holds a lock on every table, partition and index it plans
over until it ends, and every session shares one lock table of ``max_locks_per_transaction`` x
``max_connections`` slots (6,400 by default). A test over ``radacct`` (five monthly partitions, nine indexes each,
more months as they come) takes ~50 locks per schema: at 250 schemas a statement needed ~12,000 and failed with
"out of shared memory" (the 1,000-operator drill). So the batch is sized from the locks one schema's test takes,
measured at each tick (twice that, for schemas with more partitions than the one measured)."""


async def tenants_with_due_work(db: Database, due_work: str, tenants: Sequence[TenantRef]) -> list[TenantRef]:
    """The ``tenants`` whose schema answers ``due_work`` (an SQL condition naming tables as ``{schema}.table``)."""
    if not tenants:
        return []
    due: list[TenantRef] = []
    async with db.pool.acquire() as connection:
        per_schema = await _locks_per_schema(connection, due_work, tenants[0])
        batch = max(1, min(BATCH, LOCK_BUDGET // (2 * per_schema)))
        for start in range(0, len(tenants), batch):
            chunk = tenants[start : start + batch]
            branches = [
                f"SELECT {index}::int AS i WHERE {due_work.format(schema=quote_ident(tenant.schema))}"
                for index, tenant in enumerate(chunk)
            ]
            rows = await connection.fetch(" UNION ALL ".join(branches))
            due.extend(chunk[row["i"]] for row in rows)
    return due


async def _locks_per_schema(connection: Connection, due_work: str, tenant: TenantRef) -> int:
    """The relation locks the test takes in one schema (at least 1)."""
    count = "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'"
    async with connection.transaction():
        before = await connection.fetchval(count)
        # execute (the simple protocol) plans afresh: a cached plan would take fewer locks than a first planning
        await connection.execute(f"SELECT 1 WHERE {due_work.format(schema=quote_ident(tenant.schema))}")
        after = await connection.fetchval(count)
    return max(1, int(after) - int(before))
