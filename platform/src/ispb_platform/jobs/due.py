"""Which operators have work for a per-minute job, asked of every tenant schema in one query per batch.

The per-minute tenant jobs (``notify.send_outbox``, ``netsync.router_commands``) used to be queued for every
active operator every minute, work or not: at 1,000 operators that was 2,000 queued jobs and 2,000 run records a
minute (~2.9M records a day, ~3 GB of Redis at a 24 h retention), nearly all of them finding nothing. A job with
a ``due_work`` test (``ScheduledJob.due_work``) is queued only for the operators where that test is true: the
tick asks every schema at once, ``UNION ALL`` of one ``EXISTS`` per tenant, each answered from the partial
"due" index the job's own claim query uses, so the question costs about a millisecond per hundred operators.
Work that becomes due between ticks is still run at once by ``run_soon`` (payments, router commands).
"""

from collections.abc import Sequence

from ispb_tenants import Database, TenantRef
from ispb_tenants.slugs import quote_ident

BATCH = 250
"""Tenants per statement: keeps the statement's planning time small (a few ms) at thousands of operators."""


async def tenants_with_due_work(db: Database, due_work: str, tenants: Sequence[TenantRef]) -> list[TenantRef]:
    """The ``tenants`` whose schema answers ``due_work`` (an SQL condition naming tables as ``{schema}.table``)."""
    due: list[TenantRef] = []
    for start in range(0, len(tenants), BATCH):
        batch = tenants[start : start + BATCH]
        branches = [
            f"SELECT {index}::int AS i WHERE {due_work.format(schema=quote_ident(tenant.schema))}"
            for index, tenant in enumerate(batch)
        ]
        async with db.pool.acquire() as connection:
            rows = await connection.fetch(" UNION ALL ".join(branches))
        due.extend(batch[row["i"]] for row in rows)
    return due
