"""Settings → Staff Users (operator admins only): list, invite, edit (name, role, password reset),
disable/enable; and the public invitation page where an invited person chooses their password.

Every change is written to the operator's activity log in the same transaction. Accounts are never deleted:
the activity log keeps pointing at the person who did things. Adding a person is an invitation whose answer
is the same whatever the e-mail address (``service.py`` says why and what the link shows).
"""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import PUBLIC, allow, provide_principal
from ispb_platform.auth.middleware import session_cookie
from ispb_platform.auth.roles import OPERATOR_ADMINS, Principal, SessionKind
from ispb_platform.auth.sessions import start_session
from ispb_platform.runtime import Runtime
from ispb_platform.staff import queries, service
from ispb_platform.staff.forms import NEW_STAFF, ROLES, check_new_password, validate_invitation, validate_staff
from ispb_platform.staff.queries import InvitationRow, OpenInvitation, StaffRow
from ispb_platform.staff.service import StaffRuleBroken
from ispb_platform.web.confirm import Confirmation, confirm_page, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip, site_url
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_tenants import Database

Operator = NamedDependency[Principal]


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template,
        context={"nav": PANEL_NAV, "active": "/panel/staff", "roles": ROLES, **context},
        status_code=status_code,
    )


async def _list_page(db: TenantScope, operator: Principal, status_code: int = 200, **context: Any) -> Template:
    tenant_id = operator.require_tenant().id
    people = await queries.list_staff(tenant_id)
    invitations = await service.pending_invitations(db, tenant_id, datetime.now(UTC))
    context = {"form": NEW_STAFF, "errors": {}, "problem": "", "invited": None, **context}
    return _page(
        "staff/list.html", status_code, people=people, invitations=invitations, my_id=operator.user_id, **context
    )


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
        return await _list_page(db, operator)

    @post("/")
    @in_tenant_scope
    async def add_person(self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator) -> Template:
        """Invite a person. The answer (the link, shown once) is the same whether or not the address has an
        account anywhere: nothing here looks it up."""
        data = await form_fields(request)
        draft, errors = validate_invitation(data)
        if draft is None:
            return await _list_page(db, operator, 422, form=data, errors=errors)
        now = datetime.now(UTC)
        invitation = await service.invite_staff(db, operator, draft, now=now, ip=client_ip(request))
        link = f"{site_url(request)}/invite/{invitation.token}"
        return await _list_page(db, operator, invited={"email": invitation.email, "link": link})

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

    @get("/{user_id:int}/disable")
    @in_tenant_scope
    async def confirm_disable(self, db: TenantScope, operator: Operator, user_id: FromPath[int]) -> Template:
        return confirm_page(_disable_confirmation(await _person(operator, user_id)), STAFF)

    @post("/{user_id:int}/status")
    @in_tenant_scope
    async def change_status(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, user_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Enable, or disable with a reason (asked on the confirmation page, kept in the activity log)."""
        fields = await form_fields(request)
        wanted = fields.get("status", "")
        if wanted not in ("active", "disabled"):
            raise NotFoundException()
        person = await _person(operator, user_id)
        reason = ""
        if wanted == "disabled":
            reason, errors = read_reason(fields)
            if errors:
                return confirm_page(_disable_confirmation(person), STAFF, reason=reason, errors=errors)
        try:
            changed = await service.set_active(
                operator.require_tenant().id, user_id, wanted == "active", acting_user_id=operator.user_id
            )
        except StaffRuleBroken as broken:
            return await _list_page(db, operator, 409, problem=str(broken))
        if changed:
            verb = "Enabled" if wanted == "active" else "Disabled"
            await record_activity(
                db,
                operator,
                f"staff.{'enabled' if wanted == 'active' else 'disabled'}",
                object_type="staff",
                object_id=user_id,
                summary=f"{verb} {person['name']} <{person['email']}>" + (f": {reason}" if reason else ""),
                details={"reason": reason} if reason else None,
                ip=client_ip(request),
            )
        flash(request, f"{person['name']} {'enabled' if wanted == 'active' else 'disabled'}")
        return see_other(request, "/panel/staff")

    @get("/invitations/{invitation_id:int}/revoke")
    @in_tenant_scope
    async def confirm_revoke(self, db: TenantScope, operator: Operator, invitation_id: FromPath[int]) -> Template:
        return confirm_page(_revoke_confirmation(await _invitation(operator, invitation_id)), STAFF)

    @post("/invitations/{invitation_id:int}/revoke")
    @in_tenant_scope
    async def revoke_invitation(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, invitation_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Withdraw a pending invitation: its link stops working and says so; the reason goes into the log."""
        invitation = await _invitation(operator, invitation_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_revoke_confirmation(invitation), STAFF, reason=reason, errors=errors)
        now = datetime.now(UTC)
        if not await service.revoke_invitation(db, operator, invitation, reason=reason, now=now, ip=client_ip(request)):
            raise NotFoundException()  # accepted, withdrawn or expired meanwhile
        flash(request, f"Invitation of {invitation['email']} withdrawn; its link no longer works")
        return see_other(request, "/panel/staff")


STAFF = panel_layout("/panel/staff")


async def _invitation(operator: Principal, invitation_id: int) -> InvitationRow:
    invitation = await service.pending_invitation(operator.require_tenant().id, invitation_id, datetime.now(UTC))
    if invitation is None:  # accepted, withdrawn, expired, unknown or another operator's: not found either way
        raise NotFoundException()
    return invitation


def _revoke_confirmation(invitation: InvitationRow) -> Confirmation:
    return Confirmation(
        title=f"Withdraw the invitation of {invitation['name']} <{invitation['email']}>?",
        consequence="The link you passed on stops working at once; whoever opens it is told the invitation was"
        " withdrawn. You can invite the address again later.",
        action=f"/panel/staff/invitations/{invitation['id']}/revoke",
        button="Withdraw invitation",
        back="/panel/staff",
    )


def _disable_confirmation(person: StaffRow) -> Confirmation:
    return Confirmation(
        title=f"Disable {person['name']} <{person['email']}>?",
        consequence="They are signed out everywhere at once and cannot sign in again until an operator admin"
        " enables the account. Nothing they did is removed: the activity log keeps their name.",
        action=f"/panel/staff/{person['id']}/status",
        button="Disable account",
        back="/panel/staff",
        hidden={"status": "disabled"},
    )


async def _invitation_page(
    database: Database,
    invitation: OpenInvitation | None,
    token: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The link's page: the password form, or why the link no longer works (withdrawn by the operator, used,
    expired: 410) or never did (404)."""
    context: dict[str, Any] = {"invitation": invitation, "token": token, "errors": errors or {}, "roles": ROLES}
    if invitation is None:
        closed = await service.closed_invitation(database, token)
        context["closed"] = closed
        status_code = 404 if closed is None else 410
    return Template("staff/invitation.html", context=context, status_code=status_code)


class InvitationController(Controller):
    """The link an invited person opens: choose a password, get an account of the inviting operator, signed
    in. Opening the link changes nothing (chat apps fetch links to preview them); only the form does."""

    path = "/invite"
    opt = PUBLIC

    @get("/{token:str}")
    async def invitation_page(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        runtime: Runtime = request.app.state.runtime
        invitation = await service.open_invitation(runtime.db, token, datetime.now(UTC))
        return await _invitation_page(runtime.db, invitation, token)

    @post("/{token:str}")
    async def accept(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template | Redirect:
        runtime: Runtime = request.app.state.runtime
        data = await form_fields(request)
        invitation = await service.open_invitation(runtime.db, token, datetime.now(UTC))
        if invitation is None or invitation["email_taken"]:
            return await _invitation_page(runtime.db, invitation, token)
        password = data.get("password", "")
        errors = check_new_password(password, data.get("password_again", ""))
        if errors:
            return await _invitation_page(runtime.db, invitation, token, errors, 422)
        accepted = await service.accept_invitation(runtime.db, token, password, datetime.now(UTC))
        if accepted is None or accepted.user_id is None:  # used meanwhile, or the address has an account now
            again = await service.open_invitation(runtime.db, token, datetime.now(UTC))
            return await _invitation_page(runtime.db, again, token)
        session = await start_session(
            runtime.db,
            kind=SessionKind.STAFF,
            user_id=accepted.user_id,
            tenant_id=accepted.invitation["tenant_id"],
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            replacing=request.scope["state"].get("session_token"),
            welcome=f"Welcome, {accepted.invitation['name']}: your account is ready and you are signed in",
        )
        secure = runtime.settings.cookie_secure
        return Redirect("/panel/", status_code=303, cookies=[session_cookie(session, secure=secure)])
