"""``system.heartbeat``: proves every minute that a worker is alive, can reach the database and run jobs.

Its run records are what the Automation page and ``ispb jobs list`` read to say "the worker is running".
"""

from ispb_platform.jobs.job import Counts, JobContext


async def heartbeat(ctx: JobContext) -> Counts:
    async with ctx.db.platform() as connection:
        active = await connection.fetchval("SELECT count(*) FROM tenant WHERE status = 'active'")
    return {"active_tenants": int(active)}
