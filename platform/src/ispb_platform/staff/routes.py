"""Settings → Staff Users (operator admins only): list, add, edit (name, role, password reset), disable/enable.

Every change is written to the operator's activity log in the same transaction. Accounts are never deleted:
the activity log keeps pointing at the person who did things.
"""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, Principal
from ispb_platform.staff import queries, service
from ispb_platform.staff.forms import NEW_STAFF, ROLES, validate_staff
from ispb_platform.staff.queries import EmailTaken, StaffRow
from ispb_platform.staff.service import StaffRuleBroken
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope

Operator = NamedDependency[Principal]


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={"nav": PANEL_NAV, "active": "/panel/staff", "roles": ROLES, **context},
        status_code=status_code,
    )


async def _list_page(operator: Principal, status_code: int = 200, **context: Any) -> Template:
    people = await queries.list_staff(operator.require_tenant().id)
    context = {"form": NEW_STAFF, "errors": {}, "problem": "", **context}
    return _page("staff/list.html", status_code, people=people, my_id=operator.user_id, **context)


async def _person(operator: Principal, user_id: int) -> StaffRow:
    person = await queries.get_staff(operator.require_tenant().id, user_id)
    if person is None:  # unknown, or someone of another operator: not found either way
        raise NotFoundException()
    return person


class StaffController(Controller):
    path = "/panel/staff"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)
    opt = allow(OPERATOR_ADMINS)

    @get("/")
    @in_tenant_scope
    async def list_people(self, db: TenantScope, operator: Operator) -> Template:
        return await _list_page(operator)

    @post("/")
    @in_tenant_scope
    async def add_person(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = validate_staff(data, new=True)
        if draft is not None:
            try:
                user_id = await service.add_staff(db, operator.require_tenant().id, draft)
            except EmailTaken:
                errors = {"email": "Another user already has this e-mail address."}
            else:
                await record_activity(
                    db,
                    operator,
                    "staff.added",
                    object_type="staff",
                    object_id=user_id,
                    summary=f"Added {ROLES[draft.role].lower()} {draft.name} <{draft.email}>",
                    ip=client_ip(request),
                )
                flash(request, f"{draft.name} added")
                return see_other(request, "/panel/staff")
        return await _list_page(operator, 422, form=data, errors=errors)

    @get("/{user_id:int}/edit")
    @in_tenant_scope
    async def edit_person(self, db: TenantScope, operator: Operator, user_id: FromPath[int]) -> Template:
        person = await _person(operator, user_id)
        form = {"user_name": person["name"], "role": person["role"]}
        return _page("staff/form.html", person=person, form=form, errors={}, problem="")

    @post("/{user_id:int}/edit")
    @in_tenant_scope
    async def update_person(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, user_id: FromPath[int]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = validate_staff(data, new=False)
        person = await _person(operator, user_id)
        problem = ""
        if draft is not None:
            try:
                change = await service.update_staff(
                    operator.require_tenant().id, user_id, draft, acting_user_id=operator.user_id
                )
            except StaffRuleBroken as broken:
                problem = str(broken)
            else:
                await record_activity(
                    db,
                    operator,
                    "staff.updated",
                    object_type="staff",
                    object_id=user_id,
                    summary=f"Edited {draft.name} <{person['email']}>"
                    + (" and reset the password" if change["password_reset"] else ""),
                    details=change,
                    ip=client_ip(request),
                )
                flash(request, f"{draft.name} saved")
                return see_other(request, "/panel/staff")
        return _page("staff/form.html", 422, person=person, form=data, errors=errors, problem=problem)

    @post("/{user_id:int}/status")
    @in_tenant_scope
    async def change_status(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, user_id: FromPath[int]
    ) -> Template | Response[Any]:
        wanted = (await form_fields(request)).get("status", "")
        if wanted not in ("active", "disabled"):
            raise NotFoundException()
        person = await _person(operator, user_id)
        try:
            changed = await service.set_active(
                operator.require_tenant().id, user_id, wanted == "active", acting_user_id=operator.user_id
            )
        except StaffRuleBroken as broken:
            return await _list_page(operator, 409, problem=str(broken))
        if changed:
            verb = "Enabled" if wanted == "active" else "Disabled"
            await record_activity(
                db,
                operator,
                f"staff.{'enabled' if wanted == 'active' else 'disabled'}",
                object_type="staff",
                object_id=user_id,
                summary=f"{verb} {person['name']} <{person['email']}>",
                ip=client_ip(request),
            )
        flash(request, f"{person['name']} {'enabled' if wanted == 'active' else 'disabled'}")
        return see_other(request, "/panel/staff")
