"""``ispb worker``'s shutdown deadline: a stop stuck past it prints the pending tasks and every thread's stack,
then exits with status 1 instead of hanging until a supervisor kills it without a trace."""

import subprocess
import sys

STUCK_STOP = """
import asyncio, saq
from ispb_platform.jobs.worker import ProcessWorker

async def stuck(self):  # SAQ waiting on a task that never finishes cancelling
    await asyncio.sleep(60)

saq.Worker.stop = stuck

class Worker(ProcessWorker):
    stop_deadline_s = 1.5
    def __init__(self):  # no queue needed to stop
        pass

asyncio.run(Worker().stop())
"""


def test_a_stuck_shutdown_ends_with_stacks_and_status_1() -> None:
    done = subprocess.run([sys.executable, "-c", STUCK_STOP], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "shutdown is overdue; pending tasks" in done.stderr and "in stop" in done.stderr
    assert "Timeout (0:00:01.500000)!" in done.stderr  # faulthandler's dump of every thread
