"""Admin console routes: dashboard, operators (create, edit, suspend, reactivate) and their users."""

from typing import Any

import asyncpg
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.activity.service import record_activity
from ispb_platform.admin import service
from ispb_platform.auth.access import allow, principal_of
from ispb_platform.auth.roles import ADMINS
from ispb_platform.auth.routes import client_ip
from ispb_platform.runtime import Runtime
from ispb_platform.staff import service as staff
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
        errors |= staff.validate_staff(data | {"role": "operator_admin"}, new=True)[1]
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
        return await _operator_page(request, await _operator(request, slug))

    @get("/operators/{slug:str}/edit")
    async def edit_operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        tenant = await _operator(request, slug)
        async with _db(request).platform() as connection:
            row = await connection.fetchrow(
                "SELECT name, timezone, currency, address, phone, email, payment_instructions,"
                " logo IS NOT NULL AS has_logo FROM tenant"
                " WHERE id = $1",
                tenant.id,
            )
        fields = ("name", "timezone", "currency", "address", "phone", "email", "payment_instructions")
        form = {k: str(row[k]) for k in fields}
        return Template(
            "admin/operator_form.html",
            context={"form": form, "errors": {}, "operator": tenant, "has_logo": row["has_logo"]},
        )

    @post("/operators/{slug:str}/edit", request_max_body_size=service.MAX_LOGO_BYTES + 64 * 1024)
    async def update_operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        tenant = await _operator(request, slug)
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        draft, errors = service.validate_operator(data, new=False)
        contact, contact_errors = service.validate_contact(data)
        errors |= contact_errors
        logo: tuple[bytes, str] | None = None
        upload = form.get("logo")
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
            kind = service.logo_type(content)
            if len(content) > service.MAX_LOGO_BYTES:
                errors["logo"] = "The logo must be at most 256 KB."
            elif kind is None:
                errors["logo"] = "Upload the logo as a PNG, JPEG or SVG file."
            else:
                logo = (content, kind)
        if draft is None or errors:
            return Template(
                "admin/operator_form.html",
                context={"form": data, "errors": errors, "operator": tenant, "has_logo": False},
                status_code=422,
            )
        async with _db(request).tenant(tenant) as scope:
            fields = ("name", "timezone", "currency", "address", "phone", "email", "payment_instructions")
            before = await scope.connection.fetchrow(
                "SELECT name, timezone, currency, address, phone, email, payment_instructions FROM platform.tenant"
                " WHERE id = $1",
                tenant.id,
            )
            after = {"name": draft.name, "timezone": draft.timezone, "currency": draft.currency, **contact}
            await scope.connection.execute(
                "UPDATE platform.tenant SET name = $2, timezone = $3, currency = $4, address = $5, phone = $6,"
                " email = $7, payment_instructions = $8, updated_at = now() WHERE id = $1",
                tenant.id,
                *(after[k] for k in fields),
            )
            changed = [k for k in fields if before[k] != after[k]]
            if logo is not None or data.get("remove_logo") == "on":
                await scope.connection.execute(
                    "UPDATE platform.tenant SET logo = $2, logo_type = $3 WHERE id = $1",
                    tenant.id,
                    logo[0] if logo else None,
                    logo[1] if logo else None,
                )
                changed.append("logo")
            await record_activity(
                scope,
                principal_of(request),
                "operator.updated",
                object_type="operator",
                object_id=tenant.slug,
                summary=f"Operator details changed by the platform ({', '.join(changed) or 'no change'})",
                details={"changed": changed},
                ip=client_ip(request),
            )
        return Redirect(f"/admin/operators/{slug}", status_code=303)

    @post("/operators/{slug:str}/users")
    async def add_operator_user(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        tenant = await _operator(request, slug)
        data = await form_fields(request)
        draft, errors = staff.validate_staff(data, new=True)
        if draft is not None:
            async with _db(request).tenant(tenant) as scope:
                try:
                    user_id = await staff.add_staff(scope.connection, tenant.id, draft)
                except asyncpg.UniqueViolationError:  # a taken e-mail: shown beside the field
                    errors = {"email": "Another user already has this e-mail address."}
                else:
                    await record_activity(
                        scope,
                        principal_of(request),
                        "staff.added",
                        object_type="staff",
                        object_id=user_id,
                        summary=f"Platform added {staff.ROLES[draft.role].lower()} {draft.name} <{draft.email}>",
                        ip=client_ip(request),
                    )
                    return Redirect(f"/admin/operators/{slug}", status_code=303)
        return await _operator_page(request, tenant, form=data, errors=errors, status_code=422)

    @post("/operators/{slug:str}/users/{user_id:int}/status")
    async def change_user_status(
        self, request: Request[Any, Any, Any], slug: FromPath[str], user_id: FromPath[int]
    ) -> Template | Redirect:
        tenant = await _operator(request, slug)
        wanted = (await form_fields(request)).get("status", "")
        if wanted not in ("active", "disabled"):
            raise NotFoundException()
        admin = principal_of(request)
        async with _db(request).tenant(tenant) as scope:
            person = await staff.get_staff(scope.connection, tenant.id, user_id)
            if person is None:
                raise NotFoundException()
            try:
                changed = await staff.set_active(
                    scope.connection,
                    tenant.id,
                    user_id,
                    wanted == "active",
                    acting_user_id=admin.user_id if admin else 0,
                )
            except staff.StaffRuleBroken as broken:
                problem = f"{broken} Suspend the operator instead to close its panel."
                return await _operator_page(request, tenant, problem=problem, status_code=409)
            if changed:
                await record_activity(
                    scope,
                    admin,
                    f"staff.{'enabled' if wanted == 'active' else 'disabled'}",
                    object_type="staff",
                    object_id=user_id,
                    summary=f"Platform {'enabled' if wanted == 'active' else 'disabled'} {person['email']}",
                    ip=client_ip(request),
                )
        return Redirect(f"/admin/operators/{slug}", status_code=303)


async def _operator_page(
    request: Request[Any, Any, Any],
    tenant: TenantRef,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    async with _db(request).tenant(tenant) as scope:
        status = await scope.connection.fetchval("SELECT status FROM platform.tenant WHERE id = $1", tenant.id)
        users = await staff.list_staff(scope.connection, tenant.id)
    context = {
        "operator": tenant,
        "status": status,
        "users": users,
        "roles": staff.ROLES,
        "form": form or {"role": "operator_staff"},
        "errors": errors or {},
        "problem": problem,
    }
    return Template("admin/operator.html", context=context, status_code=status_code)
