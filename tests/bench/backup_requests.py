"""Benchmark: "Back up now" and "Restore..." of Backup Settings as jobs, from the click to "done", at 100,000
customers of one operator.

Run:  uv run python tests/bench/backup_requests.py [--customers 100000]

It creates a scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) and
seeds it (not timed): one operator with ``--customers`` customers (``ispb seed``'s set-based seeding). A real
worker (``build_worker``, in this process, on a PostgreSQL queue in the scratch database) takes the requests.
It times, each from ``request_job`` (what the page's POST does) to the request row's end, as the page's polling
sees it:

1. "Back up now" (``backup.take_now``): queue pickup, figures, pg_dump, sealing, the file in place;
2. "Restore..." of that backup (``backup.restore``): a backup of the current data first, then the restore into
   a scratch database, the copy into the live database and the swap, the migration check, the activity log.

It checks that both ended ``succeeded``, that the restored operator has every customer, and that the page's
POST itself only queues (the request row exists before any work is done). Goals: backup < 30 s, restore < 120 s
(docs/backups.md measured 4.2 s and 28.1 s for the same work from the CLI on this machine).
"""

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

from common import Figure, peak_rss, report, scratch_database
from saq import Queue

from ispb_platform.backups.requests import BACK_UP_NOW, RESTORE
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.requests import JobRequest, get_request, request_job
from ispb_platform.jobs.worker import build_worker
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

SECRET_KEY = "b" * 40
ACTOR = {"user_id": 0, "name": "Bench", "login": "bench@isp.test", "role": "operator_admin", "ip": ""}


async def _until_done(db: Database, request: JobRequest, limit_s: float) -> tuple[JobRequest, float]:
    started = time.perf_counter()
    while True:
        found = await get_request(db, request.id)
        assert found is not None
        if not found.open:
            return found, time.perf_counter() - started
        assert time.perf_counter() - started < limit_s, f"{request.job} did not end within {limit_s} s"
        await asyncio.sleep(0.05)


async def _count(db: Database, tenant: TenantRef) -> int:
    async with db.tenant(tenant) as scope:
        return int(await scope.connection.fetchval("SELECT count(*) FROM customer"))


async def main(customers: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=2, max_size=10)
        queue = make_queue(None, url, name=f"bench-{secrets.token_hex(3)}")
        data_dir = Path(tempfile.mkdtemp(prefix="ispb-bench-backups-"))
        try:
            await migrate_platform(db)
            tenant = await create_tenant(db, "bench-backup", "Bench Backup")
            async with db.tenant(tenant) as scope:
                await ensure_packages(scope)
                await seed_customers(scope, customers)
            await queue.connect()
            worker = build_worker(db, queue, secret_key=SECRET_KEY, data_dir=data_dir, embedded=True)
            running = asyncio.create_task(worker.start())
            try:
                await _bench(db, queue, tenant, customers)
            finally:
                await worker.stop()
                await asyncio.wait_for(running, 30)
        finally:
            await queue.disconnect()
            await db.close()


async def _bench(db: Database, queue: Queue, tenant: TenantRef, customers: int) -> None:
    size = f"{customers:,} customers"
    with peak_rss() as peak:
        asked = time.perf_counter()
        request = await request_job(db, queue, BACK_UP_NOW, tenant, ACTOR, "Bench <bench@isp.test>")
        queued_s = time.perf_counter() - asked
        done, backup_s = await _until_done(db, request, 600)
    assert done.status == "succeeded", done.message
    report(Figure("Back up now: the POST's work (queue it)", size, queued_s * 1000, "ms", goal_below=200))
    report(Figure("Back up now: click to done", size, backup_s, "s", goal_below=30, peak_rss_mb=peak.mb))

    arguments = {**ACTOR, "backup_id": done.result["backup_id"], "reason": "bench"}
    with peak_rss() as peak:
        request = await request_job(db, queue, RESTORE, tenant, arguments, "Bench <bench@isp.test>")
        done, restore_s = await _until_done(db, request, 1800)
    assert done.status == "succeeded", done.message
    assert await _count(db, tenant) == customers
    report(Figure("Restore: click to done (backup first)", size, restore_s, "s", goal_below=120, peak_rss_mb=peak.mb))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().customers))
