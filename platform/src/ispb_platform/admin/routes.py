"""Admin console routes: dashboard, operators (create, edit, suspend, reactivate) and their users."""

from typing import Any

import asyncpg
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.activity import record_activity
from ispb_platform.admin import service
from ispb_platform.auth.access import allow, principal_of
from ispb_platform.auth.roles import ADMINS
from ispb_platform.auth.routes import client_ip
from ispb_platform.runtime import Runtime
from ispb_platform.web.forms import form_fields
from ispb_tenants import InvalidSlug, TenantExists, TenantNotFound, TenantRef, get_tenant, validate_slug

ADMIN = allow(ADMINS)


def _db(request: Request[Any, Any, Any]) -> Any:
    runtime: Runtime = request.app.state.runtime
    return runtime.db


async def _operator(request: Request[Any, Any, Any], slug: str) -> TenantRef:
    try:
        return await get_tenant(_db(request), validate_slug(slug))
    except (InvalidSlug, TenantNotFound):
        raise NotFoundException() from None


class AdminController(Controller):
    path = "/admin"
    opt = ADMIN

    @get("/")
    async def dashboard(self, request: Request[Any, Any, Any]) -> Template:
        operators = await service.operator_overview(_db(request))
        figures = {
            "operators": len(operators),
            "active_operators": sum(o["info"].status == "active" for o in operators),
            "customers": sum(o["customers"] for o in operators),
            "active_customers": sum(o["active_customers"] for o in operators),
        }
        return Template("admin/dashboard.html", context={"figures": figures, "operators": operators})

    @get("/operators/new")
    async def new_operator(self) -> Template:
        return Template(
            "admin/operator_form.html",
            context={"form": {"timezone": "Asia/Dhaka", "currency": "BDT"}, "errors": {}, "operator": None},
        )

    @post("/operators/new")
    async def create_operator(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await form_fields(request)
        draft, errors = service.validate_operator(data, new=True)
        errors |= service.validate_user(data)
        if draft is not None and not errors:
            try:
                tenant = await service.provision_operator(
                    _db(request), draft, data["email"], data["user_name"], data["password"]
                )
            except TenantExists:
                errors["slug"] = f"The slug {draft.slug!r} is already taken."
            except ValueError:
                errors["email"] = "Another user already has this e-mail address."
            else:
                async with _db(request).tenant(tenant) as scope:
                    await record_activity(
                        scope,
                        principal_of(request),
                        "operator.created",
                        object_type="operator",
                        object_id=tenant.slug,
                        summary=f"Operator {tenant.name} created",
                        ip=client_ip(request),
                    )
                return Redirect("/admin/", status_code=303)
        data.pop("password", None)  # never echo a password back into the page
        return Template(
            "admin/operator_form.html", context={"form": data, "errors": errors, "operator": None}, status_code=422
        )

    @post("/operators/{slug:str}/status")
    async def change_status(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Redirect:
        tenant = await _operator(request, slug)
        status = (await form_fields(request)).get("status", "")
        if status not in ("active", "suspended"):
            raise NotFoundException()
        async with _db(request).platform() as connection:
            changed = await connection.execute(
                "UPDATE tenant SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2", tenant.id, status
            )
            if status == "suspended":  # a suspended operator's panel closes at once, not at next sign-in
                await connection.execute("DELETE FROM web_session WHERE tenant_id = $1", tenant.id)
        if changed.endswith(" 1"):
            async with _db(request).tenant(tenant) as scope:
                await record_activity(
                    scope,
                    principal_of(request),
                    f"operator.{status}",
                    object_type="operator",
                    object_id=tenant.slug,
                    summary=f"Operator {status} by the platform",
                    ip=client_ip(request),
                )
        return Redirect(f"/admin/operators/{slug}", status_code=303)

    @get("/operators/{slug:str}")
    async def view_operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        tenant = await _operator(request, slug)
        async with _db(request).platform() as connection:
            status = await connection.fetchval("SELECT status FROM tenant WHERE id = $1", tenant.id)
            users = await connection.fetch(
                "SELECT id, email, name, role, is_active, last_login_at FROM platform_user WHERE tenant_id = $1"
                " ORDER BY role, email",
                tenant.id,
            )
        return Template(
            "admin/operator.html",
            context={"operator": tenant, "status": status, "users": users, "form": {}, "errors": {}},
        )

    @post("/operators/{slug:str}/users")
    async def add_operator_user(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        tenant = await _operator(request, slug)
        data = await form_fields(request)
        errors = service.validate_user(data)
        role = data.get("role", "")
        role = role if role in ("operator_admin", "operator_staff") else "operator_staff"
        if not errors:
            try:
                await service.add_user(_db(request), tenant, data["email"], data["user_name"], data["password"], role)
            except asyncpg.UniqueViolationError:  # a taken e-mail: shown beside the field
                errors["email"] = "Another user already has this e-mail address."
            else:
                return Redirect(f"/admin/operators/{slug}", status_code=303)
        data.pop("password", None)
        async with _db(request).platform() as connection:
            status = await connection.fetchval("SELECT status FROM tenant WHERE id = $1", tenant.id)
            users = await connection.fetch(
                "SELECT id, email, name, role, is_active, last_login_at FROM platform_user"
                " WHERE tenant_id = $1 ORDER BY role, email",
                tenant.id,
            )
        return Template(
            "admin/operator.html",
            status_code=422,
            context={"operator": tenant, "status": status, "users": users, "form": data, "errors": errors},
        )
