"""PostgreSQL stopped and started under the web app and a bill run, on a PostgreSQL of this test's own.

The test starts its own embedded PostgreSQL (never the shared server on :5432) and stops it with ``pg_ctl stop
-m fast`` (connections terminated, as in a restart or a failover), then starts it again. While it is down a
panel page answers 503 with a plain page and ``Retry-After`` (it answered 500 with a logged stack), and a
program gets JSON; once it is back, pages answer again without restarting the app. A bill run cut by the stop
leaves no partial bill (each chunk is one transaction), and running it again bills everyone once with gap-free
numbers. Closing the pool afterwards does not hang.
"""

import asyncio
import logging
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ispb_platform.billing.jobs import generate_bills
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_tenants import Database, TenantRef, create_tenant
from own_postgres import OwnPostgres, fx_own_db, fx_own_postgres

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DEC_1 = date(2026, 12, 1)
__all__ = ("fx_own_db", "fx_own_postgres")  # the fixtures, used by name


async def _app(own_postgres: OwnPostgres, db: Database, data_dir: Path) -> Any:
    from ispb_platform.app import create_app
    from ispb_platform.jobs.queue import make_queue
    from ispb_platform.runtime import Runtime
    from ispb_platform.settings import parse_settings

    settings = parse_settings(
        {"ISPB_DATABASE_URL": own_postgres.url, "ISPB_SECRET_KEY": "p" * 40, "ISPB_DATA_DIR": str(data_dir)}
    )
    return create_app(settings, runtime=Runtime(settings, own_postgres.url, db, make_queue(None, own_postgres.url)))


async def _operator(db: Database, slug: str, customers: int) -> TenantRef:
    tenant = await create_tenant(db, slug, "Restart ISP")
    async with db.tenant(tenant) as scope:
        await ensure_packages(scope)
        await seed_customers(scope, customers, seed=5)
    return tenant


async def test_while_postgres_is_down_pages_answer_503_and_after_it_is_back_they_answer_again(
    own_postgres: OwnPostgres, own_db: Database, tmp_path: Path
):
    await _operator(own_db, "restart-isp", 5)
    app = await _app(own_postgres, own_db, tmp_path)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="https://isp.test") as client:
        page = "/portal/restart-isp/login"  # reads the operator from the database
        assert (await client.get(page)).status_code == 200

        await asyncio.to_thread(own_postgres.stop)
        try:
            down = await client.get(page)
            assert down.status_code == 503
            assert down.headers["retry-after"] == "30"
            assert "We cannot reach our database at the moment" in down.text
            assert "Traceback" not in down.text and "asyncpg" not in down.text
            api = await client.get(page, headers={"accept": "application/json"})
            assert api.status_code == 503 and api.json()["error"] == "The service is briefly unavailable"
        finally:
            await asyncio.to_thread(own_postgres.start)

        for _ in range(20):  # the pool replaces the connections the server dropped
            back = await client.get(page)
            if back.status_code == 200:
                break
            assert back.status_code == 503, back.text
            await asyncio.sleep(0.25)
        assert back.status_code == 200


async def test_a_bill_run_cut_by_a_restart_leaves_no_partial_bill_and_the_rerun_bills_everyone_once(
    own_postgres: OwnPostgres, own_db: Database
):
    tenant = await _operator(own_db, "restart-bills", 2_000)
    ctx = JobContext(db=own_db, today=DEC_1, now=datetime.now(UTC), tenant=tenant)
    run = asyncio.create_task(generate_bills(ctx))
    await asyncio.sleep(0.3)  # mid-run: candidates read, bills being decided or written
    await asyncio.to_thread(own_postgres.stop)
    await asyncio.to_thread(own_postgres.start)
    cut = await asyncio.gather(run, return_exceptions=True)

    async def bills() -> list[Any]:
        for _ in range(20):
            try:
                async with own_db.tenant(tenant) as scope:
                    return list(await scope.connection.fetch("SELECT customer_id, number FROM bill ORDER BY number"))
            except Exception:  # the first uses of the pool after a restart find dropped connections
                await asyncio.sleep(0.25)
        raise AssertionError("the database did not answer after the restart")

    before = await bills()
    async with own_db.tenant(tenant) as scope:
        bills_without_line = await scope.connection.fetchval(
            "SELECT count(*) FROM bill b WHERE NOT EXISTS (SELECT FROM bill_line l WHERE l.bill_id = b.id)"
        )
    assert bills_without_line == 0
    rerun = await generate_bills(ctx)
    after = await bills()
    # one chunk of 2,000 is one transaction: all of it committed before the stop, or none of it
    assert len(before) in (0, len(after)), f"{len(before)} of {len(after)} bills survived the cut run"
    assert isinstance(cut[0], BaseException) or len(before) == len(after)
    assert len({b["customer_id"] for b in after}) == len(after) > 0
    assert [b["number"] for b in after] == [f"INV-2026-{n:06d}" for n in range(1, len(after) + 1)]
    assert rerun["billed"] == len(after) - len(before)
    assert (await generate_bills(ctx))["billed"] == 0


CLIENTS = 20
RESTARTS = 3


async def test_under_load_restarts_give_503s_not_500s_and_leave_no_broken_connection_in_the_pool(
    own_postgres: OwnPostgres, own_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """Issue 19: after restarts under load asyncpg logged "another operation is in progress" and pages answered
    500. The cause: connections the stopping server had dropped while idle in the pool (``ispb_tenants/
    availability.py``). Every answer is a 200 or, while the server is away, a 503; once it is back, pages answer
    200 with no such error, and every connection of the pool answers."""
    await _operator(own_db, "restart-load", 5)
    app = await _app(own_postgres, own_db, tmp_path)
    caplog.set_level(logging.WARNING)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4711))
    page = "/portal/restart-load/login"
    answers: Counter[tuple[str, int]] = Counter()
    phase = "before"
    stop = asyncio.Event()

    async def browse(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            answer = await client.get(page)
            answers[(phase, answer.status_code)] += 1

    async with httpx.AsyncClient(transport=transport, base_url="https://isp.test", timeout=30) as client:
        browsing = [asyncio.create_task(browse(client)) for _ in range(CLIENTS)]
        try:
            await asyncio.sleep(2)
            for restart in range(RESTARTS):
                phase = f"restart {restart}"
                await asyncio.to_thread(own_postgres.stop)
                await asyncio.sleep(1)
                await asyncio.to_thread(own_postgres.start)
                deadline = time.monotonic() + 30
                while (await client.get(page)).status_code != 200:
                    assert time.monotonic() < deadline, "pages did not answer again after the restart"
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1)  # the pool has replaced the connections the server dropped
            phase = "after"
            seen_before_after = len(caplog.records)
            await asyncio.sleep(3)
        finally:
            stop.set()
            await asyncio.gather(*browsing)

    print(dict(answers))
    assert not [key for key in answers if key[1] not in (200, 503)], dict(answers)
    assert answers[("before", 200)] > 0 and not [key for key in answers if key[0] == "after" and key[1] != 200]
    assert answers[("after", 200)] > 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "an unhandled error was logged"
    after = [r.getMessage() for r in caplog.records[seen_before_after:]]
    assert not [m for m in after if "another operation" in m or "database unavailable" in m], after[:5]

    pool = own_db.pool  # every connection answers: none was left broken or never given back by the restarts
    held: list[Any] = []
    try:
        for _ in range(pool.get_max_size()):
            try:
                held.append(await asyncio.wait_for(pool.acquire(), 10))
            except TimeoutError:
                raise AssertionError(f"{pool.get_max_size() - len(held)} connections were never given back") from None
        assert [await connection.fetchval("SELECT 1") for connection in held] == [1] * len(held)
    finally:
        for connection in held:
            await pool.release(connection)
