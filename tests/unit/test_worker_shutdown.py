"""``ispb worker``'s shutdown deadline: a stop stuck past it prints the pending tasks and every thread's stack,
then exits with status 1 instead of hanging until a supervisor kills it without a trace."""

import asyncio
import subprocess
import sys

from ispb_platform.jobs.worker import cancel_until_done

STUCK_STOP = """
import asyncio, saq
from ispb_platform.jobs.worker import ProcessWorker

async def stuck(self):  # SAQ waiting on a task that never finishes cancelling
    await asyncio.sleep(60)

saq.Worker.stop = stuck

class Worker(ProcessWorker):
    stop_deadline_s = 1.5
    def __init__(self):  # no queue needed to stop
        self.event = asyncio.Event()
        self.tasks = set()

asyncio.run(Worker().stop())
"""


def test_a_stuck_shutdown_ends_with_stacks_and_status_1() -> None:
    done = subprocess.run([sys.executable, "-c", STUCK_STOP], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "shutdown is overdue; pending tasks" in done.stderr and "in stop" in done.stderr
    assert "Timeout (0:00:01.500000)!" in done.stderr  # faulthandler's dump of every thread


async def _swallows_one_cancellation(waiting: asyncio.Event) -> str:
    """What SAQ's PostgreSQL ``dequeue`` can do: take a cancellation as "no job" and wait for the next one."""
    try:
        waiting.set()
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        pass
    await asyncio.sleep(3600)
    return "never"


async def test_a_task_that_swallows_a_cancellation_still_stops() -> None:
    waiting = asyncio.Event()
    task = asyncio.create_task(_swallows_one_cancellation(waiting))
    await waiting.wait()
    assert await cancel_until_done({task}, within_s=5) == set()
    assert task.cancelled()


async def test_a_task_that_never_stops_is_given_back_after_the_bound() -> None:
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_until_done({task}, within_s=0.3) == {task}
    released.set()  # leave nothing running behind the test
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.done()
