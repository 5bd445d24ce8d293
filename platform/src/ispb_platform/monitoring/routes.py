"""Monitoring pages: the operator's dashboard (our checks beside Zabbix), Status Checks (add, edit, pause, test
now), the status page and Zabbix settings; the platform admin's platform-wide checks; the public status pages
``/status/<slug>`` (404 unless the operator enabled it) and ``/status`` (the platform's), which update
themselves (htmx polling of their ``/live`` fragment) and name components by their public names only."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from ispb_monitor.zabbix import Severity, frontend_url
from ispb_notify import OutboundRefused
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import PUBLIC, allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal, Role
from ispb_platform.monitoring import forms, queries, service
from ispb_platform.monitoring.checks import KINDS, PLATFORM_KINDS
from ispb_platform.runtime import Runtime
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_platform.web.tenancy import active_operator

Operator = NamedDependency[Principal]
PLATFORM_ADMINS = frozenset({Role.PLATFORM_ADMIN})
PANEL, ADMIN = "/panel/monitoring", "/admin/monitoring"
POLL_SECONDS = 30


def _runtime(request: Request[Any, Any, Any]) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _secret_key(request: Request[Any, Any, Any]) -> str:
    return str(_runtime(request).settings.secret_key)


def _panel(template: str, active: str, status_code: int = 200, **context: Any) -> Template:
    context = {"nav": PANEL_NAV, "active": active, "layout": "panel/layout.html", "base": PANEL, **context}
    return Template(template, context=context, status_code=status_code)


def _admin(template: str, status_code: int = 200, **context: Any) -> Template:
    context = {"layout": "admin/layout.html", "base": ADMIN, **context}
    return Template(template, context=context, status_code=status_code)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _kinds(platform: bool) -> list[tuple[str, str]]:
    return [(k, v) for k, v in KINDS.items() if not platform or k in PLATFORM_KINDS]


class MonitoringController(Controller):
    """Monitoring in the operator panel."""

    path = PANEL
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def dashboard(self, db: TenantScope) -> Template:
        """Our checks beside Zabbix's hosts and problems: one view of what is wrong."""
        zone = _zone(db.tenant.timezone)
        model = await service.status_model(db.connection, zone, public_only=False)
        settings = await queries.settings(db.connection)
        hosts, problems = await queries.zabbix_view(db.connection)
        now = datetime.now(UTC)
        url = settings.get("zabbix_url") or ""
        for problem in problems:
            problem["severity_label"] = Severity(problem["severity"]).label
            problem["age"] = service._duration((now - problem["since"]).total_seconds())
            problem["link"] = (
                frontend_url(url, "tr_events.php", triggerid=problem["triggerid"], eventid=problem["eventid"])
                if url
                else ""
            )
        for host in hosts:
            host["link"] = (
                frontend_url(url, "zabbix.php", action="host.view", filter_name=host["host"], filter_set="1")
                if url
                else ""
            )
        synced = settings.get("zabbix_synced_at")
        return _panel(
            "monitoring/dashboard.html", PANEL, model=model, hosts=hosts, problems=problems, zabbix_url=url,
            zabbix_error=settings.get("zabbix_error") or "",
            zabbix_synced=service._local(synced, zone) if synced else None, page=settings,
        )  # fmt: skip

    @get("/checks", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_checks(self, db: TenantScope) -> Template:
        return _panel(
            "monitoring/checks.html", f"{PANEL}/checks", checks=await queries.list_checks(db.connection), tested=None
        )

    @get("/checks/new", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def new_check(self, db: TenantScope) -> Template:
        return await self._form(db, forms.NEW_CHECK, {}, None)

    @get("/checks/{check_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_check(self, db: TenantScope, check_id: FromPath[int]) -> Template:
        check = await queries.get_check(db.connection, check_id)
        if check is None:
            raise NotFoundException()
        return await self._form(db, forms.form_values(check), {}, check_id)

    async def _form(
        self, db: TenantScope, form: dict[str, str], errors: dict[str, str], check_id: int | None, status: int = 200
    ) -> Template:
        found = await queries.routers_for_choice(db.connection)
        routers = [(str(r["id"]), f"{r['name']} ({r['host']}:{r['api_port']})") for r in found]
        return _panel(
            "monitoring/form.html", f"{PANEL}/checks", status, form=form, errors=errors, check_id=check_id,
            kinds=_kinds(False), routers=routers,
            record_types=[(t, t) for t in ("A", "AAAA", "CNAME", "MX", "NS", "TXT")],
        )  # fmt: skip

    @post(["/checks/new", "/checks/{check_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_check(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: Operator,
        check_id: FromPath[int | None] = None,
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        if check_id is not None and await queries.get_check(db.connection, check_id) is None:
            raise NotFoundException()
        routers = {int(r["id"]) for r in await queries.routers_for_choice(db.connection)}
        draft, errors = forms.validate_check(data, new=check_id is None, platform=False, routers=routers)
        if draft is not None and await queries.name_taken(db.connection, draft.fields.name, check_id):
            errors = {"name": f"A check named {draft.fields.name!r} already exists."}
        if draft is not None and not errors:
            try:
                saved = await service.save_check(db.connection, _secret_key(request), db.tenant.id, draft, check_id)
            except queries.CheckNameTaken:
                errors = {"name": f"A check named {draft.fields.name!r} already exists."}
            else:
                await record_activity(
                    db, operator, "monitor.check_saved", object_type="status_check", object_id=saved,
                    summary=f"Saved status check {draft.fields.name} ({draft.fields.kind})", ip=client_ip(request),
                )  # fmt: skip
                flash(request, "Status check saved")
                return see_other(request, f"{PANEL}/checks")
        return await self._form(db, forms.without_secrets(data), errors, check_id, 422)

    @post(["/checks/{check_id:int}/pause", "/checks/{check_id:int}/resume"], opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def pause(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, check_id: FromPath[int]
    ) -> Response[Any]:
        paused = request.url.path.endswith("/pause")
        check = await queries.get_check(db.connection, check_id)
        if check is None or not await queries.set_paused(db.connection, check_id, paused):
            raise NotFoundException()
        word = "Paused" if paused else "Resumed"
        await record_activity(
            db, operator, "monitor.check_paused" if paused else "monitor.check_resumed", object_type="status_check",
            object_id=check_id, summary=f"{word} status check {check['name']}", ip=client_ip(request),
        )  # fmt: skip
        flash(request, f"{word} {check['name']}")
        return see_other(request, f"{PANEL}/checks")

    @post("/checks/{check_id:int}/test", opt=allow(OPERATOR_ADMINS))
    async def test_now(self, request: Request[Any, Any, Any], operator: Operator, check_id: FromPath[int]) -> Template:
        """Run the check now and show its answer above the list. Not ``@in_tenant_scope``: no transaction is held
        while the check waits (up to its timeout)."""
        runtime = _runtime(request)
        tenant = operator.require_tenant()
        tested = await service.test_now(
            runtime.db, tenant, check_id, secret_key=_secret_key(request), outbound=runtime.settings.outbound
        )
        if tested is None:
            raise NotFoundException()
        async with runtime.db.tenant(tenant) as scope:
            checks = await queries.list_checks(scope.connection)
        return _panel("monitoring/checks.html", f"{PANEL}/checks", checks=checks, tested=(tested[0]["name"], tested[1]))

    @get("/settings", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def settings_page(self, db: TenantScope) -> Template:
        return await self._settings(db, {}, {})

    async def _settings(
        self, db: TenantScope, form: dict[str, str], errors: dict[str, str], status: int = 200
    ) -> Template:
        settings = await queries.settings(db.connection)
        checks = await queries.list_checks(db.connection)
        values = {
            "page_enabled": "on" if settings.get("page_enabled") else "",
            "page_title": settings.get("page_title") or "",
            "zabbix_url": settings.get("zabbix_url") or "",
            **form,
        }
        zone = _zone(db.tenant.timezone)
        _, _, windows = await queries.history_inputs(db.connection, datetime.now(UTC), public_only=False)
        names = {c["id"]: c["name"] for c in checks}
        planned = [
            {"check": names.get(w["check_id"], "Every check"), "starts": service._local(w["starts_at"], zone),
             "ends": service._local(w["ends_at"], zone), "note": w["note"]}
            for w in windows
        ]  # fmt: skip
        return _panel(
            "monitoring/settings.html", f"{PANEL}/settings", status, form=values, errors=errors, tenant=db.tenant,
            has_token=bool(settings.get("zabbix_token_sealed")), checks=[(str(c["id"]), c["name"]) for c in checks],
            windows=planned, zone=str(zone),
        )  # fmt: skip

    @post("/settings/page", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_page(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        page, errors = forms.validate_page(data)
        if page is None:
            return await self._settings(db, data, errors, 422)
        await queries.save_page_settings(db.connection, *page)
        await record_activity(
            db, operator, "monitor.page_saved", object_type="monitor_settings", object_id=1,
            summary=f"Status page {'enabled' if page[0] else 'disabled'}", ip=client_ip(request),
        )  # fmt: skip
        flash(request, "Status page saved")
        return see_other(request, f"{PANEL}/settings")

    @post("/settings/zabbix", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_zabbix(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        stored = await queries.settings(db.connection)
        found, errors = forms.validate_zabbix(data, has_token=bool(stored.get("zabbix_token_sealed")))
        if found is None:
            return await self._settings(db, {k: v for k, v in data.items() if k != "zabbix_token"}, errors, 422)
        url, token = found
        if url:
            try:
                await _runtime(request).settings.outbound.check_url(url)
            except OutboundRefused as refused:
                return await self._settings(db, {"zabbix_url": url}, {"zabbix_url": str(refused)}, 422)
        sealed = service.seal_zabbix_token(_secret_key(request), db.tenant.id, token) if token else None
        await queries.save_zabbix_settings(db.connection, url, sealed)
        await record_activity(
            db, operator, "monitor.zabbix_saved", object_type="monitor_settings", object_id=1,
            summary=f"Zabbix {'connected to ' + url if url else 'switched off'}", ip=client_ip(request),
        )  # fmt: skip
        flash(request, "Zabbix settings saved; hosts and problems arrive with the next sync (every 5 minutes)")
        return see_other(request, f"{PANEL}/settings")

    @post("/maintenance/new", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def add_maintenance(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        checks = {int(c["id"]) for c in await queries.list_checks(db.connection)}
        draft, errors = forms.validate_maintenance(data, zone=_zone(db.tenant.timezone), checks=checks)
        if draft is None:
            return await self._settings(db, data, errors, 422)
        window = await queries.add_maintenance(
            db.connection, draft.check_id, draft.starts_at, draft.ends_at, draft.note
        )
        await record_activity(
            db, operator, "monitor.maintenance_added", object_type="status_maintenance", object_id=window,
            summary=f"Maintenance window {draft.starts_at:%Y-%m-%d %H:%M} – {draft.ends_at:%Y-%m-%d %H:%M}",
            ip=client_ip(request),
        )  # fmt: skip
        flash(request, "Maintenance window saved")
        return see_other(request, f"{PANEL}/settings")


class PlatformMonitoringController(Controller):
    """Platform-wide checks and the platform's status page, for the platform admin."""

    path = ADMIN

    @get("/", opt=allow(PLATFORM_ADMINS))
    async def list_checks(self, request: Request[Any, Any, Any]) -> Template:
        return await self._list(request, None)

    async def _list(self, request: Request[Any, Any, Any], tested: Any, form: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Template:  # fmt: skip
        async with _runtime(request).db.platform() as connection:
            checks = await queries.list_checks(connection)
            settings = await queries.settings(connection)
        values = form or {
            "page_enabled": "on" if settings.get("page_enabled") else "",
            "page_title": settings.get("page_title") or "",
        }
        return _admin(
            "monitoring/checks.html",
            status,
            checks=checks,
            tested=tested,
            form=values,
            errors=errors or {},
            platform=True,
        )

    @get("/checks/new", opt=allow(PLATFORM_ADMINS))
    async def new_check(self) -> Template:
        return self._form(forms.NEW_CHECK, {}, None)

    @get("/checks/{platform_check_id:int}/edit", opt=allow(PLATFORM_ADMINS))
    async def edit_check(self, request: Request[Any, Any, Any], platform_check_id: FromPath[int]) -> Template:
        check_id = platform_check_id
        async with _runtime(request).db.platform() as connection:
            check = await queries.get_check(connection, check_id)
        if check is None:
            raise NotFoundException()
        return self._form(forms.form_values(check), {}, check_id)

    def _form(self, form: dict[str, str], errors: dict[str, str], check_id: int | None, status: int = 200) -> Template:
        return _admin(
            "monitoring/form.html", status, form=form, errors=errors, check_id=check_id, kinds=_kinds(True),
            routers=[], record_types=[(t, t) for t in ("A", "AAAA", "CNAME", "MX", "NS", "TXT")], platform=True,
        )  # fmt: skip

    @post(["/checks/new", "/checks/{platform_check_id:int}/edit"], opt=allow(PLATFORM_ADMINS))
    async def save_check(
        self, request: Request[Any, Any, Any], platform_check_id: FromPath[int | None] = None
    ) -> Template | Response[Any]:
        check_id = platform_check_id
        data = await form_fields(request)
        runtime = _runtime(request)
        draft, errors = forms.validate_check(data, new=check_id is None, platform=True, routers=set())
        async with runtime.db.platform() as connection:
            if check_id is not None and await queries.get_check(connection, check_id) is None:
                raise NotFoundException()
            if draft is not None and await queries.name_taken(connection, draft.fields.name, check_id):
                errors = {"name": f"A check named {draft.fields.name!r} already exists."}
            if draft is not None and not errors:
                try:
                    await service.save_check(connection, _secret_key(request), 0, draft, check_id)
                except queries.CheckNameTaken:
                    errors = {"name": f"A check named {draft.fields.name!r} already exists."}
        if draft is not None and not errors:
            flash(request, "Status check saved")
            return see_other(request, ADMIN + "/")
        return self._form(forms.without_secrets(data), errors, check_id, 422)

    @post(
        ["/checks/{platform_check_id:int}/pause", "/checks/{platform_check_id:int}/resume"], opt=allow(PLATFORM_ADMINS)
    )
    async def pause(self, request: Request[Any, Any, Any], platform_check_id: FromPath[int]) -> Response[Any]:
        check_id = platform_check_id
        paused = request.url.path.endswith("/pause")
        async with _runtime(request).db.platform() as connection:
            if not await queries.set_paused(connection, check_id, paused):
                raise NotFoundException()
        flash(request, "Paused" if paused else "Resumed")
        return see_other(request, ADMIN + "/")

    @post("/checks/{platform_check_id:int}/test", opt=allow(PLATFORM_ADMINS))
    async def test_now(self, request: Request[Any, Any, Any], platform_check_id: FromPath[int]) -> Template:
        check_id = platform_check_id
        runtime = _runtime(request)
        tested = await service.test_now(
            runtime.db, None, check_id, secret_key=_secret_key(request), outbound=runtime.settings.outbound
        )
        if tested is None:
            raise NotFoundException()
        return await self._list(request, (tested[0]["name"], tested[1]))

    @post("/settings/page", opt=allow(PLATFORM_ADMINS))
    async def save_page(self, request: Request[Any, Any, Any]) -> Template | Response[Any]:
        data = await form_fields(request)
        page, errors = forms.validate_page(data)
        if page is None:
            return await self._list(request, None, data, errors, 422)
        async with _runtime(request).db.platform() as connection:
            await queries.save_page_settings(connection, *page)
        flash(request, "Status page saved")
        return see_other(request, ADMIN + "/")


# --- public status pages ---------------------------------------------------------------------------------------


async def _operator_page(request: Request[Any, Any, Any], slug: str) -> dict[str, Any]:
    runtime = _runtime(request)
    tenant = await active_operator(runtime.db, slug)
    if tenant is None:
        raise NotFoundException()
    async with runtime.db.tenant(tenant) as scope:
        settings = await queries.settings(scope.connection)
        if not settings.get("page_enabled"):
            raise NotFoundException()
        model = await service.status_model(scope.connection, _zone(tenant.timezone), public_only=True)
    title = settings.get("page_title") or f"{tenant.name} status"
    return {"model": model, "title": title, "live": f"/status/{tenant.slug}/live", "poll": POLL_SECONDS}


async def _platform_page(request: Request[Any, Any, Any]) -> dict[str, Any]:
    async with _runtime(request).db.platform() as connection:
        settings = await queries.settings(connection)
        if not settings.get("page_enabled"):
            raise NotFoundException()
        model = await service.status_model(connection, ZoneInfo("UTC"), public_only=True)
    return {
        "model": model,
        "title": settings.get("page_title") or "Platform status",
        "live": "/status/live",
        "poll": POLL_SECONDS,
    }


_NO_STORE = {"Cache-Control": "no-store"}


@get("/status/{operator_slug:str}", opt=PUBLIC)
async def operator_status(request: Request[Any, Any, Any], operator_slug: FromPath[str]) -> Template:
    return Template("monitoring/status.html", context=await _operator_page(request, operator_slug), headers=_NO_STORE)


@get("/status/{operator_slug:str}/live", opt=PUBLIC)
async def operator_status_live(request: Request[Any, Any, Any], operator_slug: FromPath[str]) -> Template:
    return Template(
        "monitoring/status_live.html", context=await _operator_page(request, operator_slug), headers=_NO_STORE
    )


@get("/status", opt=PUBLIC)
async def platform_status(request: Request[Any, Any, Any]) -> Template:
    return Template("monitoring/status.html", context=await _platform_page(request), headers=_NO_STORE)


@get("/status/live", opt=PUBLIC)
async def platform_status_live(request: Request[Any, Any, Any]) -> Template:
    return Template("monitoring/status_live.html", context=await _platform_page(request), headers=_NO_STORE)


ROUTES = (
    MonitoringController,
    PlatformMonitoringController,
    operator_status,
    operator_status_live,
    platform_status,
    platform_status_live,
)
