"""Settings -> Backup Settings: the operator's last backup and restore test, its retention, "Back up now",
"Restore..." and downloads of its own backups (operator admins only; streamed, sealed as stored, restorable
with ``ispb backup restore FILE --as NEW_SLUG``).

"Back up now" and "Restore..." are queued for a worker (``backups/requests.py``); the page shows the request
queued, running, done or failed, and polls its state (``GET .../state``) while it is open."""

from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Stream, Template

from ispb_platform.activity.service import actor_label, record_activity
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal, Role
from ispb_platform.backups import forms
from ispb_platform.backups.destinations import destination_named
from ispb_platform.backups.queries import BackupRow, get_backup, list_backups, save_tenant_retention, tenant_retention
from ispb_platform.backups.requests import BACK_UP_NOW, LANE, RESTORE, actor_arguments
from ispb_platform.backups.storage import BackupStorageError
from ispb_platform.jobs.requests import AlreadyRequested, JobRequest, RequestedJob, latest_request, request_job
from ispb_platform.runtime import Runtime
from ispb_platform.web.confirm import Confirmation, confirm_page, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_tenants import TenantRef

Operator = NamedDependency[Principal]
PAGE = "/panel/settings/backup"
POLL_S = 2
"""How often the page asks for the state of a queued or running backup or restore."""


def _runtime(request: Request[Any, Any, Any]) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class BackupSettingsController(Controller):
    path = PAGE
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    async def page(self, request: Request[Any, Any, Any], operator: Operator) -> Template:
        return await self._page(request, operator.require_tenant(), {}, {})

    async def _page(
        self, request: Request[Any, Any, Any], tenant: TenantRef, form: dict[str, str], errors: dict[str, str],
        status: int = 200,
    ) -> Template:  # fmt: skip
        db = _runtime(request).db
        keep = await tenant_retention(db, tenant.id)
        values = {
            "keep_daily": str(keep.daily),
            "keep_weekly": str(keep.weekly),
            "keep_monthly": str(keep.monthly),
            **form,
        }
        context = {
            "nav": PANEL_NAV, "active": PAGE, "form": values, "errors": errors,
            **await self._live_context(request, tenant),
        }  # fmt: skip
        return Template("backups/settings.html", context=context, status_code=status)

    async def _live_context(self, request: Request[Any, Any, Any], tenant: TenantRef) -> dict[str, Any]:
        """The last backup, the last restore test, the recent backups and the latest "Back up now" or restore."""
        db = _runtime(request).db
        backups = await list_backups(db, tenant_id=tenant.id, kind="tenant", limit=20)
        good = [b for b in backups if b.status == "succeeded"]
        latest = await latest_request(db, tenant.id, LANE)
        return {
            "backups": backups, "last": good[0] if good else None,
            "verified": next((b for b in backups if b.verified_at is not None), None),
            "asked": latest, "asked_what": _describe(latest) if latest else "", "poll": POLL_S,
            "admin": request.scope["state"]["principal"].role is Role.OPERATOR_ADMIN,
        }  # fmt: skip

    @post("/retention", opt=allow(OPERATOR_ADMINS))
    async def save_retention(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Response[Any]:
        tenant = operator.require_tenant()
        data = await form_fields(request)
        kept, errors = forms.validate_retention(data)
        if kept is None:
            return await self._page(request, tenant, data, errors, 422)
        db = _runtime(request).db
        await save_tenant_retention(db, tenant.id, kept)
        async with db.tenant(tenant) as scope:
            await record_activity(
                scope, operator, "backup.retention_saved", object_type="tenant", object_id=tenant.id,
                summary=f"Backups kept: {kept.daily} daily, {kept.weekly} weekly, {kept.monthly} monthly",
                ip=client_ip(request),
            )  # fmt: skip
        flash(request, "Backup retention saved")
        return see_other(request, PAGE)

    @get("/state", opt=allow(OPERATORS))
    async def state(self, request: Request[Any, Any, Any], operator: Operator) -> Template:
        """The part of the page a backup or restore changes, polled by htmx while one is queued or running."""
        context = await self._live_context(request, operator.require_tenant())
        return Template("backups/_live.html", context=context)

    @post("/now", opt=allow(OPERATOR_ADMINS))
    async def back_up_now(self, request: Request[Any, Any, Any], operator: Operator) -> Response[Any]:
        """Queue a backup of this operator; the page shows it queued, running, then done or failed (a worker
        takes it: ``backups/requests.py``). One backup or restore at a time: a second click says so."""
        text, refused = await self._request(
            request, operator, BACK_UP_NOW, {}, "Backup queued: this page shows when it is done"
        )
        flash(request, text, alert=refused)
        return see_other(request, PAGE)

    @get("/{backup_id:int}/restore", opt=allow(OPERATOR_ADMINS))
    async def restore_page(
        self, request: Request[Any, Any, Any], operator: Operator, backup_id: FromPath[int]
    ) -> Template:
        """The confirmation: what a restore replaces, and why (kept in the activity log)."""
        backup = await self._own_backup(request, operator, backup_id)
        return confirm_page(_restore_confirmation(backup), panel_layout(PAGE))

    @post("/{backup_id:int}/restore", opt=allow(OPERATOR_ADMINS))
    async def restore(
        self, request: Request[Any, Any, Any], operator: Operator, backup_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Queue the restore of the operator's data from its own backup; the worker first takes a backup of the
        current data (so a restore can be undone by restoring that one). Other operators work on meanwhile."""
        backup = await self._own_backup(request, operator, backup_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_restore_confirmation(backup), panel_layout(PAGE), reason=reason, errors=errors)
        taken = f"{backup.started_at:%Y-%m-%d %H:%M} UTC"
        text, refused = await self._request(
            request, operator, RESTORE, {"backup_id": backup.id, "reason": reason},
            f"Restore of the backup of {taken} queued: this page shows when it is done",
        )  # fmt: skip
        flash(request, text, alert=refused)
        return see_other(request, PAGE)

    async def _request(
        self, request: Request[Any, Any, Any], operator: Operator, job: RequestedJob, arguments: dict[str, Any],
        queued: str,
    ) -> tuple[str, bool]:  # fmt: skip
        """Queue ``job`` for the operator; what to tell the person (``queued``, or why not) and whether it was
        refused (one is already open, or the queue could not be reached)."""
        runtime = _runtime(request)
        arguments = {**arguments, **actor_arguments(operator, client_ip(request))}
        try:
            asked = await request_job(
                runtime.db, runtime.queue, job, operator.require_tenant(), arguments, actor_label(operator)
            )
        except AlreadyRequested as busy:
            return (
                f"{_describe(busy.request)} is already {busy.request.status}: wait until it is done, then try again",
                True,
            )
        if asked.status == "failed":
            return f"{_describe(asked)} could not start: {asked.message}", True
        return queued, False

    async def _own_backup(self, request: Request[Any, Any, Any], operator: Operator, backup_id: int) -> BackupRow:
        backup = await get_backup(_runtime(request).db, backup_id)
        tenant = operator.require_tenant()
        if backup is None or backup.tenant_id != tenant.id or backup.kind != "tenant" or backup.status != "succeeded":
            raise NotFoundException()
        return backup

    @get("/{backup_id:int}/download", opt=allow(OPERATOR_ADMINS))
    async def download(self, request: Request[Any, Any, Any], operator: Operator, backup_id: FromPath[int]) -> Stream:
        """The operator's own backup file, streamed as stored (sealed); another operator's is a 404."""
        tenant = operator.require_tenant()
        runtime = _runtime(request)
        backup = await self._own_backup(request, operator, backup_id)
        destination = await destination_named(
            runtime.db, backup.destination, data_dir=runtime.settings.data_dir,
            secret_key=runtime.settings.secret_key or "",
        )  # fmt: skip
        async with runtime.db.tenant(tenant) as scope:
            await record_activity(
                scope, operator, "backup.downloaded", object_type="backup", object_id=backup.id,
                summary=f"Downloaded backup {backup.file_name}", ip=client_ip(request),
            )  # fmt: skip
        try:
            pieces = await _primed(destination.read(backup.object_key))
        except BackupStorageError:
            raise NotFoundException("this backup's file is no longer in its destination") from None
        headers = {"Content-Disposition": f'attachment; filename="{backup.file_name}"'}
        return Stream(pieces, media_type="application/octet-stream", headers=headers)


async def _primed(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``pieces`` with the first already read: a missing file is known before the response starts."""
    first = await anext(pieces, b"")

    async def stream() -> AsyncIterator[bytes]:
        yield first
        async for piece in pieces:
            yield piece

    return stream()


def _describe(request: JobRequest) -> str:
    """What the request is, for the page: "The backup" or "The restore"."""
    return "The restore" if request.job == RESTORE.name else "The backup"


def _restore_confirmation(backup: BackupRow) -> Confirmation:
    taken = f"{backup.started_at:%Y-%m-%d %H:%M} UTC"
    return Confirmation(
        title=f"Restore the backup of {taken}?",
        consequence=(
            f"Your customers, bills, payments, routers and settings go back to what they were at {taken}: everything"
            " entered since is replaced. A backup of your data as it is now is taken first, so this can be undone"
            " by restoring that one. Customers' service on the routers is not changed by the restore."
        ),
        action=f"{PAGE}/{backup.id}/restore",
        button="Restore this backup",
        back=PAGE,
    )
