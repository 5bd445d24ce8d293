"""SAQ's Redis sweeper against live jobs, with the races driven by hand on the real Redis (jobs/queue.py).

A worker's steps are done here one at a time (dequeue, mark active, finish), with a sweep called in between,
so each race happens every run instead of once in a while under load. On stock SAQ 0.26 the first two tests
fail: the sweep aborts a job just dequeued, and turns a job completed during the sweep into ``aborted``.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from saq import Queue
from saq.job import Job, Status
from saq.utils import now

from ispb_platform.jobs.queue import make_queue


@pytest.fixture(name="queue")
async def fx_queue(redis_url: str, database_url: str) -> AsyncIterator[Queue]:
    queue = make_queue(redis_url, database_url, name=f"sweep-{secrets.token_hex(4)}")
    await queue.connect()
    yield queue
    await queue.disconnect()


async def _sweep(queue: Queue, abort: float = 5.0) -> list[str]:
    """One sweep now: the lock of the previous one is dropped (SAQ sweeps once a ``lock`` period)."""
    await queue.redis.delete(queue.namespace("sweep"))  # type: ignore[attr-defined]
    return await queue.sweep(lock=60, abort=abort)


async def _active_ids(queue: Queue) -> list[str]:
    return [i.decode() for i in await queue.redis.lrange(queue.namespace("active"), 0, -1)]  # type: ignore[attr-defined]


async def _dequeued(queue: Queue, **options: object) -> Job:
    await queue.enqueue("task", key=f"job-{secrets.token_hex(4)}", **options)
    job = await queue.dequeue(timeout=5)
    assert job is not None and job.status is Status.QUEUED  # in the active list, its record not yet active
    return job


async def _mark_active(job: Job, *, live_worker: bool = False) -> None:
    """What SAQ's worker does right after ``dequeue``; ``live_worker``: the worker also writes its worker info,
    as a running worker does every 10 s (without it, the sweep takes the worker for dead and does not wait)."""
    job.started = now()
    job.attempts += 1
    if live_worker:
        job.worker_id = f"worker-{secrets.token_hex(4)}"
        assert job.queue is not None
        await job.queue.write_worker_info(job.worker_id, {"queue_key": None, "stats": None, "metadata": None}, 60)
    await job.update(status=Status.ACTIVE)


async def test_a_job_just_dequeued_is_not_swept(queue: Queue):
    job = await _dequeued(queue, timeout=60)

    assert await _sweep(queue, abort=0.5) == []  # stock SAQ: [job id], and the job is aborted

    assert await _active_ids(queue) == [job.id]
    await _mark_active(job)
    await queue.finish(job, Status.COMPLETE, result={"ok": True})
    stored = await queue.job(job.key)
    assert stored is not None and (stored.status, stored.error, stored.attempts) == (Status.COMPLETE, None, 1)
    assert await _active_ids(queue) == []


async def test_a_job_that_completes_while_being_swept_stays_complete(queue: Queue):
    job = await _dequeued(queue, timeout=1)
    await _mark_active(job, live_worker=True)
    job.started = now() - 5_000  # past its timeout: the sweep may abort it, but its worker finishes first
    await job.update()
    sweep = asyncio.create_task(_sweep(queue, abort=10))
    for _ in range(200):  # the sweep marked it aborting and now waits for the job to end
        stored = await queue.job(job.key)
        if stored is not None and stored.status is Status.ABORTING:
            break
        await asyncio.sleep(0.025)
    else:
        raise AssertionError("the sweep never marked the job aborting")

    await queue.finish(job, Status.COMPLETE, result={"ok": True})  # the worker, not yet aware of the abort
    assert await asyncio.wait_for(sweep, 10) == [job.id]

    stored = await queue.job(job.key)
    assert stored is not None
    # stock SAQ: status aborted, error swept, progress 1.0 (the failure seen in test_web under load)
    assert (stored.status, stored.error, stored.progress, stored.result) == (
        Status.COMPLETE,
        None,
        1.0,
        {"ok": True},
    )


async def test_stuck_jobs_and_dead_workers_jobs_are_still_swept(queue: Queue):
    # a job past its timeout whose worker is gone: no retry left, so aborted
    stuck = await _dequeued(queue, timeout=1)
    await _mark_active(stuck)
    stuck.started = now() - 5_000
    await stuck.update()
    # a job dequeued by a worker that died before marking it active: swept once its grace has passed
    orphan = await _dequeued(queue, timeout=60, retries=2)
    queue.dequeue_grace_s = 0.0  # type: ignore[attr-defined]

    assert sorted(await _sweep(queue, abort=0.2)) == sorted([stuck.id, orphan.id])

    stored_stuck, stored_orphan = await queue.jobs([stuck.key, orphan.key])
    assert stored_stuck is not None and (stored_stuck.status, stored_stuck.error) == (Status.ABORTED, "swept")
    assert stored_orphan is not None and (stored_orphan.status, stored_orphan.error) == (Status.QUEUED, "swept")
    assert await _active_ids(queue) == []


async def test_a_queued_job_left_in_the_active_list_is_swept_after_its_grace(queue: Queue):
    queue.dequeue_grace_s = 0.3  # type: ignore[attr-defined]
    orphan = await _dequeued(queue, timeout=60)

    assert await _sweep(queue, abort=0.2) == []  # first seen: its worker may be about to mark it active
    await asyncio.sleep(0.4)
    assert await _sweep(queue, abort=0.2) == [orphan.id]  # still there after the grace: a dead worker's


async def test_a_finished_jobs_leftover_id_is_dropped_without_touching_the_job(queue: Queue):
    job = await _dequeued(queue, timeout=60)
    await _mark_active(job)
    job.status, job.result, job.progress, job.completed = Status.COMPLETE, {"ok": True}, 1.0, now()
    await queue.redis.set(job.id, queue.serialize(job))  # type: ignore[attr-defined]  # as if LREM never ran

    assert await _sweep(queue, abort=0.2) == []

    stored = await queue.job(job.key)
    assert stored is not None and (stored.status, stored.result) == (Status.COMPLETE, {"ok": True})
    assert await _active_ids(queue) == []


async def test_a_dead_workers_job_is_retried_at_once_and_one_being_swept_is_left_to_its_sweep(queue: Queue):
    job = await _dequeued(queue, timeout=60, retries=3, heartbeat=1)
    await _mark_active(job)  # its worker wrote no worker info: it died (SIGKILL) and its info expired
    await asyncio.sleep(1.1)  # silent past its heartbeat

    assert await _sweep(queue, abort=30) == [job.id]  # without waiting 30 s for a dead worker to answer

    stored = await queue.job(job.key)
    assert stored is not None and (stored.status, stored.error) == (Status.QUEUED, "swept")
    again = await queue.dequeue(timeout=5)
    assert again is not None and again.key == job.key
    await _mark_active(again)
    again.status = Status.ABORTING  # as a sweep that began waiting for it just now (its worker may be killed)
    await again.update()
    assert await _sweep(queue, abort=30) == []  # left to that sweep while it waits
    assert await _active_ids(queue) == [again.id]  # and still listed: a later sweep finds it if that one died
