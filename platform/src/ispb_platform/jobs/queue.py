"""The job queue: Redis in production, SAQ's PostgreSQL queue when no Redis is configured (DESIGN 3)."""

import zlib

from saq import Queue
from saq.queue.postgres import PostgresQueue
from saq.queue.redis import RedisQueue

QUEUE_NAME = "ispb"


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
