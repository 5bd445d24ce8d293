"""The job queue: Redis in production, SAQ's PostgreSQL queue when no Redis is configured (DESIGN 3).

Also ``run_soon``, the one way a domain asks for a scheduled job to run now: it names the job and knows
nothing of the schedule (``jobs/registry.py`` imports the domains, never the other way round).
"""

import logging
import zlib
from datetime import UTC, datetime

from saq import Queue
from saq.queue.postgres import PostgresQueue
from saq.queue.redis import RedisQueue

from ispb_tenants import TenantRef

QUEUE_NAME = "ispb"
RUN_SOON = "ispb.run_soon"
"""The worker task that turns a "run soon" request into the named job, with the schedule's options."""
RUN_SOON_OPTIONS = {"timeout": 60, "retries": 4, "retry_delay": 1.0, "retry_backoff": True, "ttl": 3600}

log = logging.getLogger(__name__)


def make_queue(redis_url: str | None, database_url: str, *, name: str = QUEUE_NAME) -> Queue:
    """A queue for ``redis_url``, or the PostgreSQL queue inside ``database_url`` when there is none.

    The PostgreSQL queue keeps its ``saq_*`` tables in the database's default schema, apart from the
    platform and tenant schemas. SAQ makes a job key unique per table, not per queue name (Redis scopes keys
    by queue), so each queue name gets its own tables: otherwise one queue's cron keys would swallow
    another's ticks. It also guards table creation with a session advisory lock on ``(keyspace, 0)`` that
    stays held on a pooled connection, so each queue name gets its own keyspace too, or a second queue in the
    same database would skip creating its tables.
    """
    if redis_url:
        return RedisQueue.from_url(redis_url, name=name)
    default = name == QUEUE_NAME
    suffix = "" if default else "_" + name
    return PostgresQueue.from_url(
        database_url,
        name=name,
        min_size=1,
        max_size=8,
        jobs_table=f"saq_jobs{suffix}",
        stats_table=f"saq_stats{suffix}",
        versions_table=f"saq_versions{suffix}",
        saq_lock_keyspace=0 if default else zlib.crc32(name.encode()) & 0x7FFFFFFF,
    )


def queue_backend(queue: Queue) -> str:
    return "redis" if isinstance(queue, RedisQueue) else "postgres"


async def ping_queue(queue: Queue) -> None:
    """Raise if the queue's store does not answer (used by /healthz)."""
    if isinstance(queue, RedisQueue):
        await queue.redis.ping()  # type: ignore[misc]  # redis-py types ping() for sync and async
        return
    if isinstance(queue, PostgresQueue):
        async with queue.pool.connection() as connection:
            await connection.execute("SELECT 1")
        return
    await queue.info()


async def run_soon(queue: Queue, job_name: str, tenant: TenantRef, reason: str) -> None:
    """Run a tenant's scheduled job soon, through the queue, instead of at its next tick.

    Used after a commit whose effects should not wait a minute (a router command, a payment's message). The
    worker's ``ispb.run_soon`` task enqueues the job itself, with the timeout and retries the schedule gives
    it, so it is recorded like any run. A failure to enqueue is logged: the next scheduled tick does the work.
    """
    try:
        await queue.enqueue(
            RUN_SOON,
            key=f"soon:{job_name}:{tenant.slug}:{reason}:{datetime.now(UTC):%Y%m%dT%H%M%S%f}",
            job_name=job_name,
            tenant=tenant.slug,
            **RUN_SOON_OPTIONS,
        )
    except Exception:  # the queue being down must not fail what already committed
        log.exception("could not enqueue %s for %s; its next scheduled tick will do it", job_name, tenant.slug)
