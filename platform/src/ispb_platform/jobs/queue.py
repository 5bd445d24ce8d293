"""The job queue: Redis in production, SAQ's PostgreSQL queue when no Redis is configured (DESIGN 3).

Also ``run_soon``, the one way a domain asks for a scheduled job to run now: it names the job and knows
nothing of the schedule (``jobs/registry.py`` imports the domains, never the other way round).
"""

import asyncio
import logging
import zlib
from datetime import UTC, datetime
from typing import Any

from saq import Queue
from saq.job import Job, Status
from saq.queue.postgres import PostgresQueue
from saq.queue.redis import RedisQueue
from saq.utils import now

from ispb_platform.jobs.outage import QueueOutage, is_unreachable
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
        return SafeSweepRedisQueue.from_url(redis_url, name=name)
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


class SafeSweepRedisQueue(RedisQueue):
    """SAQ's Redis queue with a sweeper that aborts only jobs that are really stuck (tobymao/saq#277, #124).

    SAQ 0.26's ``RedisQueue.sweep`` reads every id of the active list with its record, then aborts each job
    whose status is not ``active`` or that is past its timeout or heartbeat. Two windows make it abort live work:

    - A worker moves a job to the active list (``BLMOVE``) and only then writes ``status: active``. A sweep in
      between sees ``queued`` and aborts a job its worker is about to run. Every worker sweeps as it starts,
      right when its tasks dequeue, so a job waiting for a starting worker is the usual victim.
    - The sweep acts later on the record it read: it writes ``aborting`` over whatever the worker wrote since,
      waits for the job to end, then retries it or writes ``aborted`` over a job the worker had just completed
      (seen: ``status: aborted, error: swept, progress: 1.0`` under CPU load).
    - It takes the job out of every list before it waits (up to 5 s) for the job to end: a sweeping worker that
      dies in those seconds (a worker killed again and again just after it started) leaves the job ``aborting``
      in no list, never run again (seen in ``tests/reliability/test_killed_worker.py``).

    This sweep acts only on the exact record it judged (its ``aborting`` write is a compare-and-set in Redis),
    leaves a job whose record is terminal alone (it only drops the leftover id from the active list), leaves
    a ``queued`` job in the active list alone until it has been seen there for ``dequeue_grace_s`` (then its
    worker died between the move and the status write), does not wait for a dead worker (no worker info left)
    to acknowledge the abort, sweeps all its jobs at once, and never overwrites a job that completed or failed
    while the sweep waited for it. A job being swept stays in the active list, stamped with the time the sweep
    began to wait: another sweep leaves it alone for that wait, then sweeps it again if it is still ``aborting``
    (its sweeper died); SAQ's retry and finish take it out of the list. Jobs past their timeout or heartbeat,
    and the jobs of dead workers, are still swept: retried when they have attempts left, else aborted, as SAQ
    does.
    """

    dequeue_grace_s: float = 60.0
    """How long a job may sit in the active list as ``queued`` before it counts as a dead worker's."""

    _SNAPSHOT = """
        local id_jobs = {}
        if redis.call('EXISTS', KEYS[1]) == 0 then
            redis.call('SETEX', KEYS[1], ARGV[1], 1)
            for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
                id_jobs[i] = {v, redis.call('GET', v)}
            end
        end
        return id_jobs
    """
    _ABORT_IF_UNCHANGED = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[1], ARGV[2])
        redis.call('SETEX', KEYS[2], ARGV[3], ARGV[4])
        redis.call('LREM', KEYS[3], 0, KEYS[1])
        redis.call('ZREM', KEYS[4], KEYS[1])
        redis.call('PUBLISH', KEYS[1], ARGV[5])
        return 1
    """
    _DROP_IF_UNCHANGED = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        return redis.call('LREM', KEYS[2], 0, KEYS[1])
    """
    _ABORT_TTL_S = 5  # as SAQ's abort

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued_seen = self.namespace("sweep_queued_seen")
        self.outage = QueueOutage()
        """Shared with the worker's upkeep tasks (``jobs/worker.py``): one back-off, one warning, one catch-up."""

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 (SAQ)
        """SAQ's dequeue, waiting with back-off while Redis cannot be reached (``jobs/outage.py``).

        SAQ's worker calls dequeue again the moment it fails: with Redis down that loop used a whole core."""
        try:
            job = await super().dequeue(timeout, poll_interval)
        except Exception as error:
            if not is_unreachable(error):
                raise
            await asyncio.sleep(self.outage.failed(error))
            return None
        await self.outage.recovered()
        return job

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        return await self.sweep_jobs(await self.sweep_snapshot(lock), lock=lock, abort=abort)

    async def sweep_snapshot(self, lock: int = 60) -> list[tuple[bytes, bytes | None]]:
        """The active list's ids with their records, read at once; nothing if another sweep ran within ``lock`` s."""
        rows = await self.redis.eval(self._SNAPSHOT, 2, self._sweep, self._active, lock)  # type: ignore[misc]
        return [(row[0], row[1] if len(row) > 1 else None) for row in rows]

    async def sweep_jobs(
        self, snapshot: list[tuple[bytes, bytes | None]], *, lock: int = 60, abort: float = 5.0
    ) -> list[str]:
        """Sweep what ``snapshot`` shows, acting on each job only if its record is still the one read."""
        seen = {k.decode(): v.decode() for k, v in (await self.redis.hgetall(self._queued_seen)).items()}  # type: ignore[misc]
        still_queued: dict[str, str] = {}
        swept: list[str] = []
        to_abort: list[tuple[Job, bytes, bytes]] = []
        current = now()
        for raw_id, job_bytes in snapshot:
            job_id = raw_id.decode()
            job = self.deserialize(job_bytes) if job_bytes else None
            if job is None:  # as SAQ: the record is gone, so is the id
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self._active, 0, job_id)
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                log.info("swept the id of a missing job %s", job_id)
                swept.append(job_id)
                continue
            assert job_bytes is not None
            if job.status in (Status.COMPLETE, Status.FAILED, Status.ABORTED):
                await self.redis.eval(self._DROP_IF_UNCHANGED, 2, raw_id, self._active, job_bytes)  # type: ignore[misc]
                continue
            if job.status == Status.QUEUED:  # dequeued: its worker is about to mark it active
                mark = f"{job.attempts}:{job.queued}:{job.touched}"
                previous_mark, _, previous_seen = seen.get(job_id, "").partition(" ")
                first_seen = int(previous_seen) if previous_mark == mark else current
                if current - first_seen < self.dequeue_grace_s * 1000:
                    still_queued[job_id] = f"{mark} {first_seen}"
                    continue
            elif job.status == Status.ACTIVE and not job.stuck:
                continue
            elif job.status == Status.ABORTING and current - job.touched < (abort + 1) * 1000:
                continue  # a sweep (perhaps another worker's) is waiting for it to end
            to_abort.append((job, raw_id, job_bytes))
        # at once: each may wait up to ``abort`` s for its worker, and a worker killed soon after it started
        # must not die with most of its sweep still to do
        results = await asyncio.gather(*(self._abort_swept(job, raw, data, abort) for job, raw, data in to_abort))
        swept.extend(job.id for (job, _, _), done in zip(to_abort, results, strict=True) if done)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._queued_seen)
            if still_queued:
                pipe.hset(self._queued_seen, mapping=still_queued)
                pipe.expire(self._queued_seen, int(self.dequeue_grace_s) + 2 * lock)
            await pipe.execute()
        return swept

    async def _abort_swept(self, job: Job, raw_id: bytes, job_bytes: bytes, abort: float) -> bool:
        """Abort ``job`` as SAQ's sweep does, if its record is still ``job_bytes``; False if it changed."""
        error = self.swept_error_message
        job.status = Status.ABORTING
        job.error = error
        job.touched = now()  # when this sweep began to wait for it: another sweep leaves it alone meanwhile
        keys = (raw_id, job.abort_id, self._queued, self._incomplete)
        args = (job_bytes, self.serialize(job), self._ABORT_TTL_S, error, Status.ABORTING.value)
        if not await self.redis.eval(self._ABORT_IF_UNCHANGED, len(keys), *keys, *args):  # type: ignore[misc]
            return False  # the worker moved on since the snapshot: the next sweep judges the new record
        log.info("sweeping job %s", job.info(log.isEnabledFor(logging.DEBUG)))
        if await self._worker_alive(job):
            try:
                await job.refresh(abort)  # its worker cancels it and says so
            except TimeoutError:
                log.info("could not abort job %s", job.id)
        if job.status in (Status.COMPLETE, Status.FAILED):
            log.info("job %s ended (%s) while being swept; left as it is", job.id, job.status.value)
        elif job.retryable:
            await self.retry(job, error=error)
        else:
            await self.finish(job, Status.ABORTED, error=error)
        return True

    async def _worker_alive(self, job: Job) -> bool:
        """Whether the worker that ran ``job`` still writes its worker info (every 10 s, kept 11 s): a dead
        worker will never answer the abort, so the sweep does not wait for it."""
        if not job.worker_id:
            return False
        return bool(await self.redis.exists(self.namespace(f"worker_info:{job.worker_id}")))


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
