"""Admin console routes: dashboard, operators (create, edit, suspend, reactivate) and their users."""

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.admin import service
from ispb_platform.admin.forms import (
    MAX_LOGO_BYTES,
    NEW_OPERATOR,
    validate_contact,
    validate_logo,
    validate_operator,
    validate_retention,
)
from ispb_platform.admin.queries import OperatorDetails
from ispb_platform.auth.access import allow, principal_of
from ispb_platform.auth.roles import ADMINS
from ispb_platform.runtime import Runtime
from ispb_platform.staff.forms import ROLES, validate_staff
from ispb_platform.staff.queries import EmailTaken
from ispb_platform.staff.service import StaffRuleBroken
from ispb_platform.subscriptions import queries as subscription_queries
from ispb_platform.web.confirm import ADMIN_LAYOUT, Confirmation, confirm_page, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields
from ispb_platform.web.requests import client_ip
from ispb_tenants import Database, InvalidSlug, TenantExists, TenantNotFound, TenantRef, get_tenant, validate_slug

ADMIN = allow(ADMINS)


def _db(request: Request[Any, Any, Any]) -> Database:
    runtime: Runtime = request.app.state.runtime
    return runtime.db


def _actor(request: Request[Any, Any, Any]) -> service.Actor:
    return service.Actor(principal_of(request), client_ip(request))


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
        figures = service.dashboard_figures(operators)
        return Template("admin/dashboard.html", context={"figures": figures, "operators": operators})

    @get("/operators/new")
    async def new_operator(self) -> Template:
        return Template("admin/operator_form.html", context={"form": NEW_OPERATOR, "errors": {}, "operator": None})

    @post("/operators/new")
    async def create_operator(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await form_fields(request)
        draft, errors = validate_operator(data, new=True)
        errors |= validate_staff(data | {"role": "operator_admin"}, new=True)[1]
        errors |= await service.operator_clashes(  # in the same round as the other fields
            _db(request),
            slug=None if "slug" in errors else data.get("slug", "").strip(),
            email=None if "email" in errors else data.get("email", "").strip(),
        )
        if draft is not None and not errors:
            try:
                await service.provision_operator(
                    _db(request), draft, data["email"], data["user_name"], data["password"], _actor(request)
                )
            except TenantExists:
                errors["slug"] = f"The slug {draft.slug!r} is already taken."
            except ValueError:
                errors["email"] = "Another user already has this e-mail address."
            else:
                flash(request, f"Operator {draft.name} created")
                return Redirect("/admin/", status_code=303)
        data.pop("password", None)  # never echo a password back into the page
        return Template(
            "admin/operator_form.html", context={"form": data, "errors": errors, "operator": None}, status_code=422
        )

    @get("/operators/{slug:str}/suspend")
    async def confirm_suspend(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        return confirm_page(_suspend_confirmation(await _operator(request, slug)), ADMIN_LAYOUT)

    @post("/operators/{slug:str}/status")
    async def change_status(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        """Reactivate, or suspend with a reason (asked on the confirmation page, kept in the operator's log)."""
        tenant = await _operator(request, slug)
        fields = await form_fields(request)
        status = fields.get("status", "")
        if status not in ("active", "suspended"):
            raise NotFoundException()
        reason = ""
        if status == "suspended":
            reason, errors = read_reason(fields)
            if errors:
                return confirm_page(_suspend_confirmation(tenant), ADMIN_LAYOUT, reason=reason, errors=errors)
        await service.change_status(_db(request), tenant, status, _actor(request), reason=reason)
        flash(request, "Operator suspended" if status == "suspended" else "Operator reactivated")
        return Redirect(f"/admin/operators/{slug}", status_code=303)

    @get("/operators/{slug:str}")
    async def view_operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        return await _operator_page(request, await _operator(request, slug))

    @get("/operators/{slug:str}/edit")
    async def edit_operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        tenant = await _operator(request, slug)
        details, has_logo = await service.operator_form(_db(request), tenant)
        form = {k: str(v) for k, v in details.items()}
        return Template(
            "admin/operator_form.html",
            context={"form": form, "errors": {}, "operator": tenant, "has_logo": has_logo},
        )

    @post("/operators/{slug:str}/edit", request_max_body_size=MAX_LOGO_BYTES + 64 * 1024)
    async def update_operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        tenant = await _operator(request, slug)
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        draft, errors = validate_operator(data, new=False)
        contact, contact_errors = validate_contact(data)
        retention, retention_errors = validate_retention(data)
        errors |= contact_errors | retention_errors
        logo: tuple[bytes, str] | None = None
        upload = form.get("logo")
        if isinstance(upload, UploadFile) and upload.filename:
            logo = validate_logo(await upload.read(), errors)
        if draft is None or errors:
            return Template(
                "admin/operator_form.html",
                context={"form": data, "errors": errors, "operator": tenant, "has_logo": False},
                status_code=422,
            )
        details = OperatorDetails(
            name=draft.name,
            timezone=draft.timezone,
            currency=draft.currency,
            address=contact["address"],
            phone=contact["phone"],
            email=contact["email"],
            payment_instructions=contact["payment_instructions"],
            accounting_retention_months=retention["accounting_retention_months"],
            netflow_retention_days=retention["netflow_retention_days"],
        )
        remove_logo = data.get("remove_logo") == "on"
        await service.update_operator(
            _db(request), tenant, details, logo=logo, remove_logo=remove_logo, actor=_actor(request)
        )
        flash(request, "Operator saved")
        return Redirect(f"/admin/operators/{slug}", status_code=303)

    @post("/operators/{slug:str}/users")
    async def add_operator_user(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        tenant = await _operator(request, slug)
        data = await form_fields(request)
        draft, errors = validate_staff(data, new=True)
        if "email" not in errors:  # a taken address in the same round as the other fields
            errors |= await service.operator_clashes(_db(request), slug=None, email=data.get("email", "").strip())
        if draft is not None and not errors:
            try:
                await service.add_operator_user(_db(request), tenant, draft, _actor(request))
            except EmailTaken:  # shown beside the field
                errors = {"email": "Another user already has this e-mail address."}
            else:
                flash(request, f"User {draft.name} added")
                return Redirect(f"/admin/operators/{slug}", status_code=303)
        return await _operator_page(request, tenant, form=data, errors=errors, status_code=422)

    @get("/operators/{slug:str}/users/{user_id:int}/disable")
    async def confirm_disable_user(
        self, request: Request[Any, Any, Any], slug: FromPath[str], user_id: FromPath[int]
    ) -> Template:
        tenant = await _operator(request, slug)
        return confirm_page(await _disable_user_confirmation(request, tenant, user_id), ADMIN_LAYOUT)

    @post("/operators/{slug:str}/users/{user_id:int}/status")
    async def change_user_status(
        self, request: Request[Any, Any, Any], slug: FromPath[str], user_id: FromPath[int]
    ) -> Template | Redirect:
        tenant = await _operator(request, slug)
        fields = await form_fields(request)
        wanted = fields.get("status", "")
        if wanted not in ("active", "disabled"):
            raise NotFoundException()
        reason = ""
        if wanted == "disabled":
            confirmation = await _disable_user_confirmation(request, tenant, user_id)
            reason, errors = read_reason(fields)
            if errors:
                return confirm_page(confirmation, ADMIN_LAYOUT, reason=reason, errors=errors)
        try:
            await service.change_user_status(
                _db(request), tenant, user_id, wanted == "active", _actor(request), reason=reason
            )
        except LookupError:
            raise NotFoundException() from None
        except StaffRuleBroken as broken:
            problem = f"{broken} Suspend the operator instead to close its panel."
            return await _operator_page(request, tenant, problem=problem, status_code=409)
        flash(request, "User enabled" if wanted == "active" else "User disabled")
        return Redirect(f"/admin/operators/{slug}", status_code=303)


def _suspend_confirmation(tenant: TenantRef) -> Confirmation:
    return Confirmation(
        title=f"Suspend {tenant.name} ({tenant.slug})?",
        consequence="Its panel and customer portal close at once and everyone of it is signed out; its jobs"
        " stop. Nothing is deleted, and reactivating opens everything again.",
        action=f"/admin/operators/{tenant.slug}/status",
        button="Suspend operator",
        back=f"/admin/operators/{tenant.slug}",
        hidden={"status": "suspended"},
        kept_in="the operator's activity log (its admins see it) and on this console's operator page",
    )


async def _disable_user_confirmation(request: Request[Any, Any, Any], tenant: TenantRef, user_id: int) -> Confirmation:
    person = await service.operator_user(_db(request), tenant, user_id)
    if person is None:
        raise NotFoundException()
    return Confirmation(
        title=f"Disable {person['name']} <{person['email']}> of {tenant.name}?",
        consequence="They are signed out everywhere at once and cannot sign in until the account is enabled"
        " again. Nothing they did is removed.",
        action=f"/admin/operators/{tenant.slug}/users/{user_id}/status",
        button="Disable user",
        back=f"/admin/operators/{tenant.slug}",
        hidden={"status": "disabled"},
        kept_in="the operator's activity log and on this console's operator page",
    )


async def _operator_page(
    request: Request[Any, Any, Any],
    tenant: TenantRef,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Template:
    page = await service.operator_page(_db(request), tenant)
    details, _ = await service.operator_form(_db(request), tenant)
    async with _db(request).platform() as connection:
        locked = await subscription_queries.locked_since(connection, tenant.id)
    context = {
        "locked": locked,
        "details": details,
        "operator": tenant,
        "status": page.status,
        "users": page.users,
        "history": page.history,
        "roles": ROLES,
        "form": form or {"role": "operator_staff"},
        "errors": errors or {},
        "problem": problem,
    }
    return Template("admin/operator.html", context=context, status_code=status_code)
