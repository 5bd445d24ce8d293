"""Admin console -> Backups: where backups go (the local disk or an S3-compatible bucket, its secret sealed),
how many full backups are kept, and the recent full backups with their restore tests. Platform admins only:
the destination holds every operator's data."""

from dataclasses import replace
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import Role
from ispb_platform.backups import forms
from ispb_platform.backups.destinations import load_settings, save_settings
from ispb_platform.backups.queries import list_backups
from ispb_platform.runtime import Runtime
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other

PAGE = "/admin/backups"
_FIELDS = ("destination", "s3_endpoint", "s3_bucket", "s3_region", "s3_prefix", "s3_access_key")


def _runtime(request: Request[Any, Any, Any]) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class BackupAdminController(Controller):
    path = PAGE
    opt = allow(frozenset({Role.PLATFORM_ADMIN}))

    @get("/")
    async def page(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(request, {}, {})

    async def _page(
        self, request: Request[Any, Any, Any], form: dict[str, str], errors: dict[str, str], status: int = 200
    ) -> Template:
        db = _runtime(request).db
        settings = await load_settings(db)
        values = {name: str(getattr(settings, name)) for name in (*_FIELDS, *(f"full_{k}" for k in forms.LIMITS))}
        values |= {k: v for k, v in form.items() if k != "s3_secret"}
        context = {
            "layout": "admin/layout.html", "form": values, "errors": errors, "has_secret": settings.has_s3_secret,
            "backups": await list_backups(db, kind="full", limit=20),
        }  # fmt: skip
        return Template("backups/admin.html", context=context, status_code=status)

    @post("/")
    async def save(self, request: Request[Any, Any, Any]) -> Template | Response[Any]:
        runtime = _runtime(request)
        data = await form_fields(request)
        settings = await load_settings(runtime.db)
        errors = forms.validate_destination(data, has_secret=settings.has_s3_secret)
        if errors:
            return await self._page(request, data, errors, 422)
        local = data["destination"] == "local"
        field = {name: data.get(name, "").strip() for name in _FIELDS}
        updated = replace(
            settings,
            destination=field["destination"],
            s3_endpoint=field["s3_endpoint"],
            s3_bucket=field["s3_bucket"],
            s3_region=field["s3_region"] or "us-east-1",
            s3_prefix=field["s3_prefix"],
            s3_access_key=field["s3_access_key"],
            full_keep_daily=int(data["full_keep_daily"].strip()),
            full_keep_weekly=int(data["full_keep_weekly"].strip()),
            full_keep_monthly=int(data["full_keep_monthly"].strip()),
        )
        secret = data.get("s3_secret", "").strip() or None
        await save_settings(
            runtime.db, updated, s3_secret=secret if not local or secret else None,
            secret_key=runtime.settings.secret_key or "",
        )  # fmt: skip
        flash(request, "Backup settings saved: new backups go to " + ("this server's disk" if local else "the bucket"))
        return see_other(request, PAGE)
