"""Settings -> Backup Settings: an operator admin takes a backup, downloads it (streamed, as stored) and the
download restores as a new operator with the same customers and bills; retention is checked (422 beside the
field); staff see the page but cannot back up or download; another operator's file is a 404.

"Back up now" and "Restore..." are queued for a worker: here a real worker (``build_worker``) on a queue of the
test's own takes them, and the page shows them queued, then done (its htmx polling stops) or failed."""

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from saq import Queue

from factories import make_bill, make_customer
from ispb_platform.backups.restore import restore_tenant
from ispb_platform.backups.storage import LocalDestination
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.queue import make_queue
from ispb_platform.jobs.reaper import DEAD_REQUEST, LOST_REQUEST, close_dead_requests
from ispb_platform.jobs.registry import REQUESTED_BY_NAME
from ispb_platform.jobs.requests import request_key
from ispb_platform.jobs.worker import build_worker
from ispb_tenants import Database, drop_tenant

SECRET = "t" * 40  # the web app's ISPB_SECRET_KEY (tests/conftest.py)
STATE = "/panel/settings/backup/state"
WAIT_S = 120  # a backup takes well under a second here; a restore a few seconds, more under load


@pytest.fixture(autouse=True)
async def fx_no_earlier_backups(db: Database) -> None:
    async with db.platform() as connection:
        await connection.execute("DELETE FROM backup")


@pytest.fixture(name="own_queue")
async def fx_own_queue(web_app: Any, database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Queue]:
    """The web app queues to a queue of this test's own (no other test's jobs, no worker unless started)."""
    queue = make_queue(None, database_url, name=f"test-{secrets.token_hex(4)}")
    await queue.connect()
    monkeypatch.setattr(web_app.state.runtime, "queue", queue)
    yield queue
    await queue.disconnect()


@pytest.fixture(name="start_worker")
async def fx_start_worker(web_app: Any, db: Database, own_queue: Queue) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """``await start_worker()``: a real worker on the test's queue, with the web app's key and data directory."""
    started: list[tuple[Any, asyncio.Task[None]]] = []

    async def start() -> None:
        worker = build_worker(
            db, own_queue, secret_key=SECRET, data_dir=web_app.state.runtime.settings.data_dir, embedded=True
        )
        started.append((worker, asyncio.create_task(worker.start())))

    yield start
    for worker, task in started:
        await worker.stop()
        await asyncio.wait_for(task, 20)


async def _state_when_done(client: httpx.AsyncClient) -> str:
    """The page's polled part once the request is done or failed: polling has stopped (no trigger left)."""
    for _ in range(WAIT_S * 4):
        part = (await client.get(STATE)).text
        if "hx-trigger" not in part:
            return part
        await asyncio.sleep(0.25)
    raise AssertionError(f"the backup request did not end within {WAIT_S} s: {part}")


async def test_back_up_download_and_restore_as_a_new_operator(
    db: Database, make_tenant, make_staff, make_client, sign_in, tmp_path: Path, start_worker
):
    tenant = await make_tenant("bkp")
    async with db.tenant(tenant) as scope:
        for n in range(2):
            await make_bill(scope, customer_id=await make_customer(scope, name=f"Nasrin {n}", secret_key=SECRET))
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    page = await client.get("/panel/settings/backup")
    assert page.status_code == 200 and "none yet" in page.text

    taken = await client.post("/panel/settings/backup/now", data={"_csrf_token": token})
    assert taken.status_code == 303
    page = await client.get("/panel/settings/backup")  # no worker yet: queued, and the page polls its state
    assert "Backup queued" in page.text and "waiting for a worker" in page.text
    assert f'hx-get="{STATE}"' in page.text and "hx-trigger" in page.text
    again = await client.post("/panel/settings/backup/now", data={"_csrf_token": token})
    assert again.status_code == 303
    assert "The backup is already queued: wait until it is done" in (await client.get("/panel/settings/backup")).text
    assert await db.fetchval("SELECT count(*) FROM platform.job_request WHERE tenant_id = $1", tenant.id) == 1

    await start_worker()
    done = await _state_when_done(client)
    assert "done" in done and "Backup taken: " in done and "/download" in done, done
    assert 'name="_csrf_token"' in done  # the swapped-in "Back up now" form still posts
    async with db.tenant(tenant) as scope:
        logged = await scope.connection.fetchval("SELECT actor FROM activity_log WHERE action = 'backup.taken'")
    assert logged is not None and "operator.admin." in logged  # the person who asked, not the worker
    backup_id = await db.fetchval("SELECT id FROM platform.backup WHERE tenant_id = $1", tenant.id)

    download = await client.get(f"/panel/settings/backup/{backup_id}/download")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith(f'attachment; filename="{tenant.slug}-')
    saved = tmp_path / "download.ispb-backup"
    saved.write_bytes(download.content)
    stored = await db.fetchval("SELECT size_bytes FROM platform.backup WHERE id = $1", backup_id)
    assert len(download.content) == stored

    copy_slug = f"copy-{secrets.token_hex(3)}"
    try:
        copy = await restore_tenant(db, LocalDestination(tmp_path), saved.name, secret_key=SECRET, as_slug=copy_slug)
        for ref in (tenant, copy):
            async with db.tenant(ref) as scope:
                rows = await scope.connection.fetch(
                    "SELECT c.name, b.number, b.total_minor FROM customer c JOIN bill b ON b.customer_id = c.id"
                    " ORDER BY c.name"
                )
            if ref is tenant:
                original = [tuple(r) for r in rows]
            else:
                assert [tuple(r) for r in rows] == original and len(original) == 2
    finally:
        with contextlib.suppress(LookupError):
            await drop_tenant(db, copy_slug)

    # another operator's admin: a 404, not the file
    other = await make_tenant("bkp")
    stranger = make_client()
    await sign_in(stranger, await make_staff("operator_admin", other))
    assert (await stranger.get(f"/panel/settings/backup/{backup_id}/download")).status_code == 404


async def test_retention_is_checked_and_staff_only_read(db: Database, make_tenant, make_staff, make_client, sign_in):
    tenant = await make_tenant("bkp")
    admin = make_client()
    token = await sign_in(admin, await make_staff("operator_admin", tenant))
    bad = await admin.post(
        "/panel/settings/backup/retention",
        data={"_csrf_token": token, "keep_daily": "0", "keep_weekly": "4", "keep_monthly": "x"},
    )
    assert bad.status_code == 422
    assert "Enter a whole number of daily backups from 1 to 366" in bad.text
    assert "Enter a whole number of monthly backups from 0 to 240" in bad.text
    good = await admin.post(
        "/panel/settings/backup/retention",
        data={"_csrf_token": token, "keep_daily": "10", "keep_weekly": "5", "keep_monthly": "12"},
    )
    assert good.status_code == 303
    kept = await db.fetchval(
        "SELECT array[backup_keep_daily, backup_keep_weekly, backup_keep_monthly] FROM platform.tenant WHERE id = $1",
        tenant.id,
    )
    assert kept == [10, 5, 12]

    staff = make_client()
    staff_token = await sign_in(staff, await make_staff("operator_staff", tenant))
    page = await staff.get("/panel/settings/backup")
    assert page.status_code == 200 and "Back up now" not in page.text and "How long backups are kept" not in page.text
    assert (await staff.post("/panel/settings/backup/now", data={"_csrf_token": staff_token})).status_code == 403


async def test_platform_admin_sets_the_bucket_with_a_sealed_secret(db: Database, make_staff, make_client, sign_in):
    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    page = await admin.get("/admin/backups/")
    assert page.status_code == 200 and "Where backups go" in page.text
    form = {
        "_csrf_token": token, "destination": "s3", "s3_endpoint": "ftp://x", "s3_bucket": "", "s3_region": "",
        "s3_prefix": "", "s3_access_key": "", "s3_secret": "", "full_keep_daily": "0", "full_keep_weekly": "4",
        "full_keep_monthly": "6",
    }  # fmt: skip
    bad = await admin.post("/admin/backups/", data=form)
    assert bad.status_code == 422
    for message in ("Enter the address as https://host", "Enter the bucket", "Enter the access key id",
                    "Enter the secret access key", "daily backups from 1 to 366"):  # fmt: skip
        assert message in bad.text
    before = await db.fetchval("SELECT row_to_json(s)::text FROM platform.backup_settings s")
    try:
        form |= {"s3_endpoint": "https://s3.example.net", "s3_bucket": "isp-backups", "s3_access_key": "AKID",
                 "s3_secret": "very-secret", "full_keep_daily": "9"}  # fmt: skip
        assert (await admin.post("/admin/backups/", data=form)).status_code == 303
        row = await db.pool.fetchrow("SELECT * FROM platform.backup_settings")
        assert row["destination"] == "s3" and row["s3_bucket"] == "isp-backups" and row["full_keep_daily"] == 9
        assert row["s3_region"] == "us-east-1" and "very-secret" not in row["s3_secret_sealed"]
        kept = await admin.post("/admin/backups/", data=form | {"s3_secret": ""})  # empty keeps the stored one
        assert kept.status_code == 303
        assert await db.fetchval("SELECT s3_secret_sealed FROM platform.backup_settings") == row["s3_secret_sealed"]
    finally:
        await db.pool.execute(
            "UPDATE platform.backup_settings s SET (destination, s3_endpoint, s3_bucket, s3_access_key,"
            " s3_secret_sealed, full_keep_daily) = (o.destination, o.s3_endpoint, o.s3_bucket, o.s3_access_key,"
            " o.s3_secret_sealed, o.full_keep_daily) FROM json_populate_record(NULL::platform.backup_settings, $1) o",
            before,
        )


async def test_operators_cannot_open_the_admin_backups(make_tenant, make_staff, make_client, sign_in):
    operator = make_client()
    await sign_in(operator, await make_staff("operator_admin", await make_tenant("bkp")))
    assert (await operator.get("/admin/backups/")).status_code in (403, 404)


async def test_restore_from_the_page_asks_why_keeps_a_backup_of_before_and_logs_it(
    db: Database, make_tenant, make_staff, make_client, sign_in, start_worker
):
    tenant = await make_tenant("bkp")
    async with db.tenant(tenant) as scope:
        await make_customer(scope, name="Kept", secret_key=SECRET)
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    await start_worker()
    assert (await client.post("/panel/settings/backup/now", data={"_csrf_token": token})).status_code == 303
    assert "Backup taken: " in await _state_when_done(client)
    backup_id = await db.fetchval("SELECT id FROM platform.backup WHERE tenant_id = $1", tenant.id)
    async with db.tenant(tenant) as scope:
        await make_customer(scope, name="Entered after the backup", secret_key=SECRET)

    page = await client.get(f"/panel/settings/backup/{backup_id}/restore")
    assert page.status_code == 200 and "everything entered since is replaced" in page.text
    refused = await client.post(f"/panel/settings/backup/{backup_id}/restore", data={"_csrf_token": token})
    assert refused.status_code == 422 and "Say why" in refused.text
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM customer") == 2  # nothing changed

    done = await client.post(
        f"/panel/settings/backup/{backup_id}/restore", data={"_csrf_token": token, "reason": "Wrong import"}
    )
    assert done.status_code == 303
    assert "queued: this page shows when it is done" in (await client.get("/panel/settings/backup")).text
    finished = await _state_when_done(client)
    assert "The restore asked for by" in finished and "the data before it is in" in finished, finished
    async with db.tenant(tenant) as scope:
        names = await scope.connection.fetch("SELECT name FROM customer")
        logged = await scope.connection.fetchrow(
            "SELECT details FROM activity_log WHERE action = 'backup.restored' ORDER BY id DESC LIMIT 1"
        )
    assert [r["name"] for r in names] == ["Kept"]
    assert logged is not None and "Wrong import" in logged["details"]
    assert await db.fetchval("SELECT count(*) FROM platform.backup WHERE tenant_id = $1", tenant.id) == 2


async def test_a_request_whose_worker_died_or_whose_job_was_lost_is_failed_and_the_page_stops_waiting(
    db: Database, make_tenant, make_staff, make_client, sign_in, own_queue: Queue
):
    """The reaper (``system.close_dead_runs``) fails a request whose queue job ended without it (SAQ's sweep
    aborts a dead worker's job) or is gone (a queue that lost it); the page then says so and stops polling,
    and the next click is taken."""
    tenant = await make_tenant("bkp")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))

    async def ask() -> int:
        assert (await client.post("/panel/settings/backup/now", data={"_csrf_token": token})).status_code == 303
        return int(await db.fetchval("SELECT max(id) FROM platform.job_request WHERE tenant_id = $1", tenant.id))

    async def reap() -> int:
        now = await db.fetchval("SELECT clock_timestamp()") + timedelta(minutes=1)  # past the grace
        ctx = JobContext(db=db, today=now.date(), now=now, queue=own_queue)
        return await close_dead_requests(ctx, REQUESTED_BY_NAME)

    # a worker claimed it, started the backup's row (noted in the request) and died: SAQ's sweep aborted its job
    first = await ask()
    left_running = await db.fetchval(
        "INSERT INTO platform.backup (kind, tenant_id, tenant_slug, period, trigger, destination, object_key,"
        " server_major, key_id) VALUES ('tenant', $1, $2, current_date, 'manual', 'local', $3, 15, 'k') RETURNING id",
        tenant.id, tenant.slug, f"tenants/{tenant.slug}/dead-{secrets.token_hex(4)}.ispb-backup",
    )  # fmt: skip
    await db.pool.execute(
        "UPDATE platform.job_request SET status = 'running', started_at = now(),"
        " result = jsonb_build_object('backup_id', $2::bigint) WHERE id = $1",
        first, left_running,
    )  # fmt: skip
    job = await own_queue.job(request_key(first))
    assert job is not None
    assert await reap() == 0  # its job is still queued: alive
    await own_queue.abort(job, "swept: its worker stopped")
    assert await reap() == 1
    part = await _state_when_done(client)
    assert "failed" in part and DEAD_REQUEST.split(":")[0] in part
    backup = await db.pool.fetchrow("SELECT status, error FROM platform.backup WHERE id = $1", left_running)
    assert backup["status"] == "failed" and backup["error"].startswith("interrupted")  # not "running" for hours

    # a request whose queue job never came (the web process died between the row and the queue; or Redis
    # restarted empty): the row alone, queued
    second = await db.fetchval(
        "INSERT INTO platform.job_request (job, lane, tenant_id, requested_by) VALUES ('backup.take_now', 'backup',"
        " $1, 'Test') RETURNING id",
        tenant.id,
    )
    assert "waiting for a worker" in (await client.get(STATE)).text
    assert await reap() == 1
    assert await reap() == 0  # closed once
    row = await db.pool.fetchrow("SELECT status, message FROM platform.job_request WHERE id = $1", second)
    assert dict(row) == {"status": "failed", "message": LOST_REQUEST}
    assert "badge failed" in await _state_when_done(client)
    await ask()  # the lane is free again
    assert "Backup queued" in (await client.get("/panel/settings/backup")).text


async def test_a_queue_that_cannot_be_reached_fails_the_request_at_once_with_a_message(
    web_app: Any, db: Database, make_tenant, make_staff, make_client, sign_in, monkeypatch: pytest.MonkeyPatch,
    database_url: str,
):  # fmt: skip
    """Redis away when the button is pressed: the request is failed at once, the page says why, and the lane is
    free for the next click (nothing is left queued that no worker will ever see)."""
    with socket.socket() as probe:  # a loopback port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(web_app.state.runtime, "queue", make_queue(f"redis://127.0.0.1:{port}/0", database_url))
    tenant = await make_tenant("bkp")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    assert (await client.post("/panel/settings/backup/now", data={"_csrf_token": token})).status_code == 303
    page = (await client.get("/panel/settings/backup")).text
    assert "The backup could not start: the job queue could not be reached" in page
    assert "hx-trigger" not in page  # nothing to wait for
    row = await db.pool.fetchrow("SELECT status FROM platform.job_request WHERE tenant_id = $1", tenant.id)
    assert row["status"] == "failed"
