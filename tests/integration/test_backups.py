"""Backups against the real PostgreSQL: per-operator and full dumps, sealed; restores over the operator, as a
new operator and into a scratch database (the restore test); a changed or cut file refused; a full disk."""

import contextlib
import os
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from factories import TEST_SECRET_KEY, make_bill, make_customer
from ispb_platform.backups.destinations import destination_named, load_settings, save_settings
from ispb_platform.backups.dump import server_major, take_backup
from ispb_platform.backups.leftovers import made_at, scratch_database_name, staging_schema_name
from ispb_platform.backups.pg_process import BackupFailed, dump_stream, replace_database
from ispb_platform.backups.queries import get_backup, list_backups
from ispb_platform.backups.restore import restore_tenant, scratch_database, verify_backup
from ispb_platform.backups.sealed_stream import open_stream, read_header
from ispb_platform.backups.storage import BackupStorageError, LocalDestination
from ispb_platform.backups.tools import BackupToolMismatch, find_tools
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.secrets_box import Binding, Purpose, SealError, reveal
from ispb_tenants import Database, TenantRef, drop_tenant, get_tenant
from peers.s3 import create_bucket, object_keys, s3_server

KEYS = (TEST_SECRET_KEY,)
TODAY = date(2026, 12, 3)


@pytest.fixture(autouse=True)
async def fx_no_earlier_backups(db: Database) -> None:
    """Backup rows of other tests name files in their own temporary directories: the jobs here see only ours."""
    async with db.platform() as connection:
        await connection.execute("DELETE FROM backup")


async def _customers(db: Database, tenant: TenantRef) -> list[tuple[str, str]]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT code, name FROM customer ORDER BY code")
    return [(r["code"], r["name"]) for r in rows]


async def _bills(db: Database, tenant: TenantRef) -> list[tuple[str, int]]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT number, total_minor FROM bill ORDER BY number")
    return [(r["number"], r["total_minor"]) for r in rows]


async def _operator_with_data(db: Database, make_tenant) -> TenantRef:
    tenant = await make_tenant("bk")
    async with db.tenant(tenant) as scope:
        for n in range(3):
            customer = await make_customer(scope, name=f"Karim {n}", pppoe_password=f"dial-{n}")
            await make_bill(scope, customer_id=customer)
    return tenant


async def _backup(db: Database, tenant: TenantRef | None, root: Path) -> str:
    taken = await take_backup(
        db, LocalDestination(root), secret_key=TEST_SECRET_KEY, tenant=tenant, trigger="manual", period=TODAY
    )
    assert taken is not None
    return taken.object_key


async def test_operator_backup_is_sealed_and_restores_as_dumped(db: Database, make_tenant, tmp_path: Path):
    tenant = await _operator_with_data(db, make_tenant)
    key = await _backup(db, tenant, tmp_path)
    raw = (tmp_path / key).read_bytes()
    assert b"Karim 1" not in raw and b"COPY" not in raw  # sealed: no row, no statement in the clear
    header = await read_header(LocalDestination(tmp_path).read(key))
    assert header["kind"] == "tenant" and header["tenants"][0]["slug"] == tenant.slug
    assert header["figures"][f"{tenant.schema}.customer"]["rows"] == 3
    row = (await list_backups(db, tenant_id=tenant.id))[0]
    assert row.status == "succeeded" and row.size_bytes == len(raw) and row.object_key == key

    result = await verify_backup(db, LocalDestination(tmp_path), key, KEYS, row.figures)
    assert result.ok, result.detail
    assert result.tables == len(row.figures)


async def test_the_figures_are_those_of_the_dump_not_of_later_writes(db: Database, make_tenant, tmp_path: Path):
    """A restore test compares with the snapshot the dump used: rows added after it are not expected."""
    tenant = await _operator_with_data(db, make_tenant)
    key = await _backup(db, tenant, tmp_path)
    async with db.tenant(tenant) as scope:
        await make_customer(scope, name="Later")
    row = (await list_backups(db, tenant_id=tenant.id))[0]
    assert (await verify_backup(db, LocalDestination(tmp_path), key, KEYS, row.figures)).ok
    wrong = {**row.figures, f"{tenant.schema}.customer": {"rows": 4, "checksum": "1"}}
    result = await verify_backup(db, LocalDestination(tmp_path), key, KEYS, wrong)
    assert not result.ok and "customer has 3 rows restored, 4 when dumped" in result.detail


async def test_restore_as_a_new_operator_shows_the_same_customers_bills_and_secrets(
    db: Database, make_tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("ispb_platform.backups.restore.REBIND_BATCH", 2)  # 3 customers: two batches
    tenant = await _operator_with_data(db, make_tenant)
    other = await _operator_with_data(db, make_tenant)
    key = await _backup(db, tenant, tmp_path)
    slug = f"copy-{tenant.slug}"
    try:
        copy = await restore_tenant(db, LocalDestination(tmp_path), key, secret_key=TEST_SECRET_KEY, as_slug=slug)
        assert copy.id != tenant.id and copy.name == f"{tenant.name} (restored copy)"
        assert await _customers(db, copy) == await _customers(db, tenant)
        assert await _bills(db, copy) == await _bills(db, tenant)
        async with db.tenant(copy) as scope:
            sealed = await scope.connection.fetch("SELECT id, pppoe_password_sealed FROM customer ORDER BY id")
        opened = [
            reveal(
                TEST_SECRET_KEY, r["pppoe_password_sealed"], Binding(copy.id, Purpose.CUSTOMER_PPPOE_PASSWORD, r["id"])
            )
            for r in sealed
        ]
        assert opened == ["dial-0", "dial-1", "dial-2"]
        assert len(await _customers(db, other)) == 3  # the other operator untouched
        with pytest.raises(BackupFailed, match="exists already"):
            await restore_tenant(db, LocalDestination(tmp_path), key, secret_key=TEST_SECRET_KEY, as_slug=slug)
    finally:
        with contextlib.suppress(LookupError):
            await drop_tenant(db, slug)
    leftovers = await db.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'restore\\_%'")
    assert leftovers == 0
    assert await db.fetchval("SELECT count(*) FROM pg_database WHERE datname LIKE 'ispb\\_scratch\\_%'") == 0


async def test_restore_over_the_operator_brings_back_what_was_deleted(db: Database, make_tenant, tmp_path: Path):
    tenant = await _operator_with_data(db, make_tenant)
    before = await _customers(db, tenant)
    key = await _backup(db, tenant, tmp_path)
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("DELETE FROM radcheck")  # anything: a customer has bills that guard it
        await make_customer(scope, name="After the backup")
    restored = await restore_tenant(db, LocalDestination(tmp_path), key, secret_key=TEST_SECRET_KEY)
    assert restored.id == tenant.id and restored.schema == tenant.schema
    assert await _customers(db, tenant) == before


async def test_a_changed_or_cut_backup_file_does_not_open(db: Database, make_tenant, tmp_path: Path):
    tenant = await make_tenant("bk")
    key = await _backup(db, tenant, tmp_path)
    path = tmp_path / key
    data = bytearray(path.read_bytes())

    async def drain(name: str) -> None:
        opened = await open_stream(KEYS, LocalDestination(tmp_path).read(name))
        async for _ in opened.plain:
            pass

    await drain(key)  # intact: opens
    changed = data.copy()
    changed[-100] ^= 1
    (tmp_path / "changed.ispb-backup").write_bytes(changed)
    with pytest.raises(SealError, match="was changed"):
        await drain("changed.ispb-backup")
    (tmp_path / "cut.ispb-backup").write_bytes(data[:-20])
    with pytest.raises(SealError, match="cut short"):
        await drain("cut.ispb-backup")
    with pytest.raises(SealError, match="does not have"):
        await open_stream(("z" * 40,), LocalDestination(tmp_path).read(key))


async def test_full_backup_and_the_verify_job_record_a_passed_restore_test(db: Database, make_tenant, tmp_path: Path):
    await _operator_with_data(db, make_tenant)
    now = datetime.now(UTC)
    record = await execute(
        db, get_job("backup.full"), tenant=None, trigger=Trigger.MANUAL, key="t", today=TODAY, now=now,
        secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
    )  # fmt: skip
    assert record.counts["bytes"] > 0 and record.counts["tables"] > 20
    again = await execute(
        db, get_job("backup.full"), tenant=None, trigger=Trigger.MANUAL, key="t", today=TODAY, now=now,
        secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
    )  # fmt: skip
    assert again.counts == {"already_taken": 1}  # once a day
    verified = await execute(
        db, get_job("backup.verify"), tenant=None, trigger=Trigger.MANUAL, key="v", today=TODAY, now=now,
        secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
    )  # fmt: skip
    assert verified.counts["verified"] >= 1
    [full] = await list_backups(db, kind="full", limit=1)
    assert full.verify_ok is True and "restored as dumped" in (full.verify_detail or "")


async def test_a_pg_dump_of_another_major_version_is_a_clear_error(db: Database):
    major = await server_major(db)
    tools = find_tools(major)  # the test server's own: the embedded one's, Debian's or on PATH
    assert tools.major == major
    with pytest.raises(BackupToolMismatch, match="no pg_dump/pg_restore of PostgreSQL 99"):
        find_tools(99)
    with pytest.raises(BackupToolMismatch, match="ISPB_PG_BIN_DIR"):
        find_tools(major + 1, configured=str(tools.pg_dump.parent))


def test_the_embedded_servers_own_tools_are_found():
    """pgserver ships PostgreSQL 16's client tools beside its server: backups of the embedded database use them."""
    tools = find_tools(16, configured=None)
    assert tools.major == 16


@pytest.fixture(name="small_disk")
def fx_small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a real file system that fills up (root can mount; CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root, where this test must run)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=False)
    assert done.returncode == 0, "root could not mount a 1 MiB tmpfs: the full-disk test cannot run here"
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_a_full_disk_fails_the_backup_clearly_and_keeps_earlier_ones(db: Database, make_tenant, small_disk: Path):
    tenant = await make_tenant("bk")
    first = await _backup(db, tenant, small_disk)
    kept = (small_disk / first).read_bytes()
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 8192))
    with pytest.raises(BackupStorageError, match="is full"):
        await _backup(db, tenant, small_disk)
    assert (small_disk / first).read_bytes() == kept
    assert sorted(p.name for p in (small_disk / f"tenants/{tenant.slug}").iterdir()) == [first.rsplit("/", 1)[1]]
    failed = (await list_backups(db, tenant_id=tenant.id))[0]
    assert failed.status == "failed" and "is full" in (failed.error or "")
    assert (await get_tenant(db, tenant.slug)).id == tenant.id
    assert (await get_backup(db, failed.id)) is not None


@pytest.fixture(name="s3_endpoint", scope="module")
def fx_s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


async def test_backups_go_to_an_s3_bucket_with_a_sealed_key_and_restore_from_it(
    db: Database, make_tenant, s3_endpoint: str, tmp_path: Path
):
    bucket = f"ispb-{secrets.token_hex(4)}"
    create_bucket(s3_endpoint, bucket)
    settings = await load_settings(db)
    await save_settings(
        db,
        replace(settings, destination="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket, s3_access_key="AKIDTEST",
                s3_prefix="isp-one"),
        s3_secret="s3-secret-value",
        secret_key=TEST_SECRET_KEY,
    )  # fmt: skip
    try:
        async with db.platform() as connection:
            sealed = await connection.fetchval("SELECT s3_secret_sealed FROM backup_settings")
        assert sealed.startswith("v2:") and "s3-secret-value" not in sealed
        tenant = await _operator_with_data(db, make_tenant)
        record = await execute(
            db, get_job("backup.customer_data"), tenant=tenant, trigger=Trigger.MANUAL, key="s3", today=TODAY,
            secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
        )  # fmt: skip
        assert record.counts["bytes"] > 0
        [row] = await list_backups(db, tenant_id=tenant.id)
        assert row.destination == "s3"
        assert object_keys(s3_endpoint, bucket) == [f"isp-one/{row.object_key}"]
        assert not (tmp_path / "backups").exists()  # nothing on the local disk
        destination = await destination_named(db, "s3", data_dir=tmp_path, secret_key=TEST_SECRET_KEY)
        assert (await verify_backup(db, destination, row.object_key, KEYS, row.figures)).ok
        await destination.delete(row.object_key)
        assert object_keys(s3_endpoint, bucket) == []
    finally:
        await save_settings(db, settings, s3_secret="", secret_key=TEST_SECRET_KEY)


async def test_cleanup_keeps_what_retention_says_and_never_the_last_good_one(db: Database, make_tenant, tmp_path: Path):
    tenant = await make_tenant("bk")
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE tenant SET backup_keep_daily = 2, backup_keep_weekly = 0, backup_keep_monthly = 0 WHERE id = $1",
            tenant.id,
        )
    root = tmp_path / "backups"  # where the job's local destination is, under ISPB_DATA_DIR
    keys = [await _backup(db, tenant, root) for _ in range(4)]
    async with db.platform() as connection:  # four days in a row, the oldest first
        for age, key in enumerate(reversed(keys)):
            await connection.execute(
                "UPDATE backup SET started_at = now() - make_interval(days => $2) WHERE object_key = $1", key, age
            )
    record = await execute(
        db, get_job("backup.cleanup"), tenant=None, trigger=Trigger.MANUAL, key="c", today=TODAY,
        secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
    )  # fmt: skip
    assert record.counts["removed"] == 2
    assert [(root / k).exists() for k in keys] == [False, False, True, True]
    assert [r.object_key for r in await list_backups(db, tenant_id=tenant.id)] == keys[:1:-1]
    again = await execute(
        db, get_job("backup.cleanup"), tenant=None, trigger=Trigger.MANUAL, key="c", today=TODAY,
        secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
    )  # fmt: skip
    assert again.counts["removed"] == 0


async def test_one_operator_restores_from_a_full_backup_and_a_dead_run_frees_its_day(
    db: Database, make_tenant, tmp_path: Path
):
    tenant = await _operator_with_data(db, make_tenant)
    before = await _customers(db, tenant)
    key = await _backup(db, None, tmp_path)
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE customer SET name = 'Changed'")
    restored = await restore_tenant(db, LocalDestination(tmp_path), key, secret_key=TEST_SECRET_KEY, slug=tenant.slug)
    assert restored.id == tenant.id and await _customers(db, tenant) == before
    with pytest.raises(BackupFailed, match="name the operator to restore with --tenant"):
        await restore_tenant(db, LocalDestination(tmp_path), key, secret_key=TEST_SECRET_KEY)

    # a scheduled backup whose worker died: after the stale bound it no longer blocks the day's retry
    async with db.platform() as connection:
        await connection.execute(
            "INSERT INTO backup (kind, tenant_id, tenant_slug, period, trigger, destination, object_key,"
            " server_major, key_id, started_at) VALUES ('tenant', $1, $2, $3, 'schedule', 'local', 'dead', 15, 'k',"
            " now() - interval '7 hours')",
            tenant.id, tenant.slug, TODAY,
        )  # fmt: skip
    taken = await take_backup(
        db, LocalDestination(tmp_path), secret_key=TEST_SECRET_KEY, tenant=tenant, trigger="schedule", period=TODAY
    )
    assert taken is not None
    dead = await db.fetchval("SELECT error FROM platform.backup WHERE object_key = 'dead'")
    assert dead.startswith("interrupted")


async def test_operators_with_backups_of_the_same_day_can_be_dropped(db: Database, make_tenant, tmp_path: Path):
    """Their backups stay listed by slug (a drop can be undone by a restore); the daily key never collides."""
    tenants = [await make_tenant("bk"), await make_tenant("bk")]
    for tenant in tenants:
        await take_backup(
            db, LocalDestination(tmp_path), secret_key=TEST_SECRET_KEY, tenant=tenant, trigger="schedule", period=TODAY
        )
        await drop_tenant(db, tenant.slug)
    rows = await list_backups(db, kind="tenant")
    assert {r.tenant_slug for r in rows} == {t.slug for t in tenants} and {r.tenant_id for r in rows} == {None}


async def test_a_full_backup_restores_the_whole_database(db: Database, tmp_path: Path):
    """In a database of its own (a whole-database restore replaces everything): an operator changed and one
    added after the backup; the restore brings back the platform and the operator as they were."""
    from ispb_platform.backups.restore import restore_database, scratch_database
    from ispb_tenants import create_tenant, migrate_platform

    async with scratch_database(db) as url:
        other = await Database.connect(url, min_size=1, max_size=3)
        try:
            await migrate_platform(other)
            tenant = await create_tenant(other, "whole-one", "Whole One")
            async with other.tenant(tenant) as scope:
                await make_customer(scope, name="Before")
            key = await _backup(other, None, tmp_path)
            async with other.tenant(tenant) as scope:
                await scope.connection.execute("UPDATE customer SET name = 'After'")
            await other.pool.execute("UPDATE platform.tenant SET name = 'Renamed' WHERE id = $1", tenant.id)
            header = await restore_database(other, LocalDestination(tmp_path), key, KEYS)
            assert header["kind"] == "full"
            async with other.tenant(tenant) as scope:
                assert await scope.connection.fetchval("SELECT name FROM customer") == "Before"
            assert await other.fetchval("SELECT name FROM platform.tenant WHERE id = $1", tenant.id) == "Whole One"
            with pytest.raises(BackupFailed, match="one operator's backup"):
                await restore_database(other, LocalDestination(tmp_path), await _backup(other, tenant, tmp_path), KEYS)
        finally:
            await other.close()


async def test_a_whole_database_restore_that_pg_restore_cannot_finish_changes_nothing(db: Database):
    """``replace_database``: psql's input is closed (which commits) only after pg_restore ended well. An archive
    cut right after its first table's data makes pg_restore fail after it wrote whole statements (psql alone
    would commit them): psql is killed, its transaction rolls back, and the prelude's drop never happened. The
    whole archive applies. Both in scratch databases of the test's own."""
    tools = find_tools(await server_major(db))
    psql = tools.pg_restore.parent / "psql"
    async with scratch_database(db) as source, scratch_database(db) as target:
        connection = await asyncpg.connect(source)
        try:
            await connection.execute(
                "CREATE TABLE a_first AS SELECT 'first-' || n AS v FROM generate_series(1, 1000) n;"
                " CREATE TABLE b_second AS SELECT 'second-' || n AS v FROM generate_series(1, 1000) n"
            )
        finally:
            await connection.close()
        dump = dump_stream(tools.pg_dump, source, ["--format=custom", "--compress=0"])
        archive = b"".join([piece async for piece in dump])
        cut = archive.index(b"first-1000\n") + len(b"first-1000\n") + 5  # the block's end: a zero-length chunk

        async def pieces(data: bytes) -> AsyncIterator[bytes]:
            for start in range(0, len(data), 4096):
                yield data[start : start + 4096]

        connection = await asyncpg.connect(target)
        try:
            await connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
            with pytest.raises(BackupFailed, match="pg_restore failed"):
                await replace_database(tools.pg_restore, psql, target, "DROP TABLE kept;\n", pieces(archive[:cut]))
            assert await connection.fetchval("SELECT count(*) FROM kept") == 1  # the drop rolled back
            assert await connection.fetchval("SELECT to_regclass('public.a_first')") is None

            await replace_database(tools.pg_restore, psql, target, "DROP TABLE kept;\n", pieces(archive))
            assert await connection.fetchval("SELECT to_regclass('public.kept')") is None
            assert await connection.fetchval("SELECT count(*) FROM b_second") == 1000
        finally:
            await connection.close()


async def test_cleanup_removes_what_a_killed_restore_or_backup_left_once_a_day_old(db: Database, tmp_path: Path):
    """A worker killed mid-restore leaves its scratch database and staging schema, one killed mid-dump its
    ``.part`` file: ``backup.cleanup`` removes them once they are a day old (their names carry the time), never
    a younger one (it may be in use)."""
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    old_database, young_database = scratch_database_name(two_days_ago), scratch_database_name()
    old_schema, young_schema = staging_schema_name(two_days_ago), staging_schema_name()
    root = tmp_path / "backups" / "tenants" / "gone"
    root.mkdir(parents=True)
    old_part, young_part = root / "old.ispb-backup.part", root / "young.ispb-backup.part"
    for part in (old_part, young_part):
        part.write_bytes(b"cut short")
    os.utime(old_part, (two_days_ago.timestamp(), two_days_ago.timestamp()))
    for name in (old_database, young_database):
        await db.pool.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    for name in (old_schema, young_schema):
        await db.pool.execute(f'CREATE SCHEMA "{name}"')
    try:
        record = await execute(
            db, get_job("backup.cleanup"), tenant=None, trigger=Trigger.MANUAL, key="c", today=TODAY,
            secret_key=TEST_SECRET_KEY, data_dir=tmp_path,
        )  # fmt: skip
        assert record.counts["scratch_databases_dropped"] >= 1 and record.counts["staging_schemas_dropped"] >= 1
        assert record.counts["part_files_removed"] == 1
        databases = {r["datname"] for r in await db.pool.fetch("SELECT datname FROM pg_database")}
        schemas = {r["nspname"] for r in await db.pool.fetch("SELECT nspname FROM pg_namespace")}
        assert old_database not in databases and young_database in databases
        assert old_schema not in schemas and young_schema in schemas
        assert not old_part.exists() and young_part.exists()
        assert made_at("ispb_scratch_0a1b2c3d4e5f") is None  # a name from before the time was in it: left alone
    finally:
        await db.pool.execute(f'DROP DATABASE IF EXISTS "{young_database}" WITH (FORCE)')
        await db.pool.execute(f'DROP DATABASE IF EXISTS "{old_database}" WITH (FORCE)')
        await db.pool.execute(f'DROP SCHEMA IF EXISTS "{young_schema}", "{old_schema}" CASCADE')
