"""A worker SIGKILLed in the middle of a restore asked for on Backup Settings: the request ends ``failed`` with a
clear message instead of ``running`` forever, the backup row it was taking is closed, the operator's data is as it
was, and the next request runs on the restarted worker.

An operator with three customers is backed up, a fourth customer is entered, and a restore of that backup is
requested (as the page's "Restore..." does: ``request_job``) on a Redis queue of this test's own. An ``ispb
worker`` (heartbeat 2 s, ``ISPB_JOB_HEARTBEAT_S``) claims it and starts the backup of the current data that a
restore takes first; the moment the request notes that backup's row, the worker is SIGKILLed. A second worker
is started, as a supervisor would: its sweep finds the dead worker's job silent and ends it (one attempt), and
``system.close_dead_runs`` (run here beside it, as on every worker each minute) fails the request and the backup
row. Asked again, the restore runs: three customers, and the reason in the restored activity log.
"""

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from factories import make_customer
from ispb_platform.backups.dump import take_backup
from ispb_platform.backups.requests import RESTORE
from ispb_platform.backups.storage import LocalDestination
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.reaper import DEAD_REQUEST, close_dead_requests
from ispb_platform.jobs.registry import REQUESTED_BY_NAME
from ispb_platform.jobs.requests import get_request, request_job
from ispb_tenants import Database, TenantRef
from processes import QUEUE_NAME, ispb_environment, start_ispb, stop_ispb

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

KEY = "r" * 40
HEARTBEAT_S = 2
STARTUP_S = 60
"""How long a started worker may take to claim the request (its imports alone take 2-15 s on a busy machine)."""
SETTLE_S = 180


async def _customers(db: Database, tenant: TenantRef) -> list[str]:
    async with db.tenant(tenant) as scope:
        return [r["name"] for r in await scope.connection.fetch("SELECT name FROM customer ORDER BY name")]


async def _wait(
    what: str, deadline_s: float, check: Callable[[], Awaitable[bool]], worker: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + deadline_s
    while not await check():
        assert worker is None or worker.poll() is None, f"the worker exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture(name="workers")
def fx_workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for worker in started:
        stop_ispb(worker)


async def test_a_restore_whose_worker_is_killed_fails_clearly_and_the_next_one_runs(
    db: Database, database_url: str, redis_url: str, make_tenant, tmp_path: Path, workers
):
    tenant = await make_tenant("rkill")
    async with db.tenant(tenant) as scope:
        for n in range(3):
            await make_customer(scope, name=f"Backed up {n}", secret_key=KEY)
    taken = await take_backup(
        db, LocalDestination(tmp_path / "backups"), secret_key=KEY, tenant=tenant, trigger="manual",
        period=date.today(),
    )  # fmt: skip
    assert taken is not None
    async with db.tenant(tenant) as scope:
        await make_customer(scope, name="Entered after", secret_key=KEY)
    before = await _customers(db, tenant)

    queue_name = f"{QUEUE_NAME}-rkill"
    queue = make_queue(redis_url, database_url, name=queue_name)
    await queue.connect()
    environment = ispb_environment(
        database_url, ISPB_SECRET_KEY=KEY, ISPB_REDIS_URL=redis_url, ISPB_QUEUE_NAME=queue_name,
        ISPB_JOB_HEARTBEAT_S=str(HEARTBEAT_S), ISPB_WORKER_CONCURRENCY="1", ISPB_DATA_DIR=str(tmp_path),
    )  # fmt: skip
    log = tmp_path / "worker.log"

    def start() -> subprocess.Popen[bytes]:
        worker = start_ispb("worker", environment, log)
        workers.append(worker)
        return worker

    arguments = {"backup_id": taken.backup_id, "reason": "kill drill", "user_id": 0, "name": "Drill",
                 "login": "drill@isp.test", "role": "operator_admin", "ip": ""}  # fmt: skip
    try:
        first = await request_job(db, queue, RESTORE, tenant, arguments, "Drill <drill@isp.test>")

        async def backing_up() -> bool:  # the restore's first step has its backup row
            request = await get_request(db, first.id)
            return request is not None and "backup_before_id" in request.result

        worker = start()
        await _wait("the worker to start the backup before the restore", STARTUP_S, backing_up, worker)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed = await get_request(db, first.id)
        assert killed is not None and killed.status == "running"  # what the page said until now

        start()  # a supervisor restarts it: its sweep ends the dead worker's job

        async def reaped() -> bool:
            now = datetime.now(UTC)
            await close_dead_requests(JobContext(db=db, today=now.date(), now=now, queue=queue), REQUESTED_BY_NAME)
            request = await get_request(db, first.id)
            await asyncio.sleep(0.5)
            return request is not None and request.status == "failed"

        await _wait("the dead worker's request to be failed", SETTLE_S, reaped)
        failed = await get_request(db, first.id)
        assert failed is not None and failed.message == DEAD_REQUEST
        assert await _customers(db, tenant) == before  # killed before the swap: nothing restored
        left = await db.pool.fetchrow(
            "SELECT status, error FROM platform.backup WHERE id = $1", int(failed.result["backup_before_id"])
        )
        assert left["status"] == "failed" and left["error"].startswith("interrupted")

        second = await request_job(db, queue, RESTORE, tenant, arguments, "Drill <drill@isp.test>")

        async def restored() -> bool:
            request = await get_request(db, second.id)
            await asyncio.sleep(0.2)
            return request is not None and not request.open

        await _wait("the second restore to end", SETTLE_S, restored)
        done = await get_request(db, second.id)
        assert done is not None and done.status == "succeeded", (done, log.read_text()[-3000:])
        assert await _customers(db, tenant) == [f"Backed up {n}" for n in range(3)]
        async with db.tenant(tenant) as scope:
            reason = await scope.connection.fetchval(
                "SELECT details ->> 'reason' FROM activity_log WHERE action = 'backup.restored'"
            )
        assert reason == "kill drill"
    finally:
        await queue.disconnect()
