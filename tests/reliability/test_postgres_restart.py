"""PostgreSQL stopped and started under the web app and a bill run, on a PostgreSQL of this test's own.

The test starts its own embedded PostgreSQL (never the shared server on :5432) and stops it with ``pg_ctl stop
-m fast`` (connections terminated, as in a restart or a failover), then starts it again. While it is down a
panel page answers 503 with a plain page and ``Retry-After`` (it answered 500 with a logged stack), and a
program gets JSON; once it is back, pages answer again without restarting the app. A bill run cut by the stop
leaves no partial bill (each chunk is one transaction), and running it again bills everyone once with gap-free
numbers. Closing the pool afterwards does not hang.
"""

import asyncio
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ispb_platform.billing.jobs import generate_bills
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.embedded_postgres import start_embedded_postgres
from ispb_platform.jobs.job import JobContext
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DEC_1 = date(2026, 12, 1)


class _OwnPostgres:
    """The embedded PostgreSQL (pgserver's binaries) in a directory of this test, stopped and started with pg_ctl."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ispb-test-pg-restart-"))
        self.url = start_embedded_postgres(self.root)
        self.pgdata = self.root / "postgres"
        from pgserver.postgres_server import POSTGRES_BIN_PATH

        self.pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
        self.user = self.pgdata.owner()  # pgserver runs the server as its own user when started as root

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [self.pg_ctl, "-D", str(self.pgdata), "-w", *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self.user,
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        options = f'-h "" -k {self.pgdata}'  # as pgserver starts it: a Unix socket only
        self._pg_ctl("-l", str(self.pgdata / "log"), "-o", options, "start")


@pytest.fixture(name="own_postgres", scope="module")
def fx_own_postgres() -> Iterator[_OwnPostgres]:
    server = _OwnPostgres()
    yield server
    subprocess.run(
        [server.pg_ctl, "-D", str(server.pgdata), "-m", "fast", "stop"], capture_output=True, user=server.user
    )


@pytest.fixture(name="own_db")
async def fx_own_db(own_postgres: _OwnPostgres) -> AsyncIterator[Database]:
    db = await Database.connect(own_postgres.url, min_size=2, max_size=6)
    await migrate_platform(db)
    yield db
    await asyncio.wait_for(db.close(), 20)  # after a restart: must not hang on connections the server dropped


async def _app(own_postgres: _OwnPostgres, db: Database, data_dir: Path) -> Any:
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
    own_postgres: _OwnPostgres, own_db: Database, tmp_path: Path
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
    own_postgres: _OwnPostgres, own_db: Database
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
