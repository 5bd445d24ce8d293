""" "Back up now" and "Restore..." from Backup Settings, run by a worker (``jobs/requests.py``), not in the web
request: a backup takes seconds and a restore about half a minute at 100,000 customers (docs/backups.md),
longer than a proxy waits, and a person should not keep a page open for it.

Both share the lane ``backup``: one at a time per operator (a restore must not run beside a backup of the
same data). A restore first takes a backup of the current data (so it can be undone) and logs the reason and
that backup's name in the restored data's activity log, as the page did when it ran in the request.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal, Role, SessionKind
from ispb_platform.backups.destinations import current_destination, destination_named
from ispb_platform.backups.dump import Taken, close_interrupted, take_backup
from ispb_platform.backups.pg_process import BackupFailed
from ispb_platform.backups.queries import get_backup
from ispb_platform.backups.restore import restore_tenant
from ispb_platform.backups.storage import BackupStorageError
from ispb_platform.backups.tools import BackupToolMismatch
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.requests import JobRequest, Outcome, RequestedJob, RequestFailed, note_result
from ispb_platform.secrets_box import SealError, accepted_old_keys
from ispb_tenants import Database

LANE = "backup"
FAILURES = (BackupFailed, BackupStorageError, BackupToolMismatch, SealError, RuntimeError)
"""What a backup or restore raises with a message for the operator (a full disk, a mismatched pg_dump, ...)."""


def actor_arguments(principal: Principal, ip: str) -> dict[str, Any]:
    """Who asked, kept with the request: the activity log names them, not the worker."""
    return {"user_id": principal.user_id, "name": principal.name, "login": principal.login,
            "role": principal.role.value, "ip": ip}  # fmt: skip


def _actor(ctx: JobContext, arguments: dict[str, Any]) -> Principal | None:
    """The person who asked, for the activity log; None (logged as ``system``) for a request without one."""
    if "user_id" not in arguments:
        return None
    return Principal(
        session_id="", kind=SessionKind.STAFF, user_id=int(arguments["user_id"]), role=Role(arguments["role"]),
        name=str(arguments["name"]), login=str(arguments["login"]), tenant=ctx.require_tenant(),
    )  # fmt: skip


async def back_up_now(ctx: JobContext, request: JobRequest) -> Outcome:
    """``backup.take_now``: a backup of the operator's data now (manual backups are never deduplicated)."""
    tenant = ctx.require_tenant()
    try:
        taken = await _manual_backup(ctx, request, noted_as="backup_id")
    except FAILURES as error:
        raise RequestFailed(f"The backup failed: {error}") from None
    async with ctx.db.tenant(tenant) as scope:
        await record_activity(
            scope, _actor(ctx, request.arguments), "backup.taken", object_type="backup", object_id=taken.backup_id,
            summary=f"Backup taken: {taken.size_bytes:,} bytes", ip=request.arguments.get("ip", ""),
        )  # fmt: skip
    return Outcome(
        f"Backup taken: {taken.tables} tables, {taken.rows:,} rows, {taken.size_bytes:,} bytes",
        {"backup_id": taken.backup_id, "bytes": taken.size_bytes, "tables": taken.tables, "rows": taken.rows},
    )


async def restore_from_backup(ctx: JobContext, request: JobRequest) -> Outcome:
    """``backup.restore``: the operator's data from one of its own backups, after a backup of the current data.
    Until the swap at its end (``restore.py``) the current data stays in place: a failure changes nothing."""
    tenant = ctx.require_tenant()
    backup = await get_backup(ctx.db, int(request.arguments["backup_id"]))
    if backup is None or backup.tenant_id != tenant.id or backup.kind != "tenant" or backup.status != "succeeded":
        raise RequestFailed("The restore failed and your data is as it was: that backup is no longer available")
    taken = f"{backup.started_at:%Y-%m-%d %H:%M} UTC"
    try:
        before = await _manual_backup(ctx, request, noted_as="backup_before_id")
        source = await destination_named(ctx.db, backup.destination, data_dir=ctx.data_dir, secret_key=ctx.secret_key)
        await restore_tenant(
            ctx.db, source, backup.object_key, secret_key=ctx.secret_key, old_keys=accepted_old_keys(),
            slug=tenant.slug,
        )  # fmt: skip
    except FAILURES as error:
        raise RequestFailed(f"The restore failed and your data is as it was: {error}") from None
    async with ctx.db.tenant(tenant) as scope:  # in the restored schema: the entry stays with the data
        await record_activity(
            scope, _actor(ctx, request.arguments), "backup.restored", object_type="backup", object_id=backup.id,
            summary=f"Restored the backup of {taken}", ip=request.arguments.get("ip", ""),
            details={"reason": request.arguments["reason"], "backup_before_restore": before.object_key},
        )  # fmt: skip
    before_name = before.object_key.rsplit("/", 1)[-1]
    return Outcome(
        f"Restored the backup of {taken}; the data before it is in backup {before_name}",
        {"restored_backup_id": backup.id, "backup_before_id": before.backup_id},
    )


async def _manual_backup(ctx: JobContext, request: JobRequest, *, noted_as: str) -> Taken:
    """A backup of the operator's data now, to the current destination; its row's id noted on the request as
    ``noted_as`` as soon as the row exists."""
    destination = await current_destination(ctx.db, data_dir=ctx.data_dir, secret_key=ctx.secret_key)
    taken = await take_backup(
        ctx.db, destination, secret_key=ctx.secret_key, tenant=ctx.require_tenant(), trigger="manual",
        period=ctx.today, now=ctx.now, on_started=_noted(ctx, request, noted_as),
    )  # fmt: skip
    assert taken is not None  # manual backups are never deduplicated
    return taken


def _noted(ctx: JobContext, request: JobRequest, name: str) -> Callable[[int], Awaitable[None]]:
    """Note the id of the backup row a request starts, so `close_backups_left_running` finds it."""

    async def note(backup_id: int) -> None:
        await note_result(ctx.db, request.id, {name: backup_id})

    return note


async def close_backups_left_running(db: Database, request: JobRequest) -> None:
    """A request whose worker died: the backup it was taking has no file (it is renamed into place only when
    complete), so its row is failed now rather than listed as running until the 6-hour stale mark."""
    ids = [int(request.result[name]) for name in ("backup_id", "backup_before_id") if name in request.result]
    if ids:
        await close_interrupted(db, ids)


BACK_UP_NOW = RequestedJob(
    name="backup.take_now",
    lane=LANE,
    run=back_up_now,
    description="A backup of the operator's data, asked for on Backup Settings",
    timeout_s=3600,  # 4.2 s at 100,000 customers
    when_dead=close_backups_left_running,
)
RESTORE = RequestedJob(
    name="backup.restore",
    lane=LANE,
    run=restore_from_backup,
    description="The operator's data restored from one of its backups, after a backup of the current data",
    timeout_s=4 * 3600,  # 28 s at 100,000 customers, with the backup first; as backup.full's timeout
    when_dead=close_backups_left_running,
)
