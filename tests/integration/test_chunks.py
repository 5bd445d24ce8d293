"""``jobs.chunks.run_in_chunks``: chunks in flight at once, and a failing chunk neither hangs the run nor keeps
the job's lock."""

import asyncio

import pytest

from ispb_platform.jobs.chunks import run_in_chunks
from ispb_tenants import Database, TenantScope


async def test_chunks_overlap_and_each_starts_after_the_one_before(db: Database, make_tenant):
    tenant = await make_tenant("chunks")
    started: list[int] = []
    in_flight = 0
    most = 0

    async def chunk(scope: TenantScope, after: int, locked: asyncio.Future[int | None]) -> None:
        nonlocal in_flight, most
        started.append(after)
        in_flight += 1
        most = max(most, in_flight)
        locked.set_result(after + 10 if after < 30 else None)
        await scope.connection.execute("SELECT pg_sleep(0.05)")  # "writing", while the next one starts
        in_flight -= 1

    await asyncio.wait_for(run_in_chunks(db, tenant, "test.chunks", chunk), 30)
    assert started == [0, 10, 20, 30] and most == 2


@pytest.mark.parametrize("before_locking", [True, False])
async def test_a_failing_chunk_fails_the_run_and_releases_the_lock(db: Database, make_tenant, before_locking: bool):
    tenant = await make_tenant("chunks")

    async def chunk(scope: TenantScope, after: int, locked: asyncio.Future[int | None]) -> None:
        if after == 0:
            locked.set_result(1)
            await scope.connection.execute("SELECT pg_sleep(0.2)")
            return
        if not before_locking:
            locked.set_result(None)
        raise ValueError("broken chunk")

    with pytest.raises(ValueError, match="broken chunk"):
        await asyncio.wait_for(run_in_chunks(db, tenant, "test.chunks", chunk), 30)

    async def nothing(scope: TenantScope, after: int, locked: asyncio.Future[int | None]) -> None:
        locked.set_result(None)

    await asyncio.wait_for(run_in_chunks(db, tenant, "test.chunks", nothing), 10)  # the lock is free again
