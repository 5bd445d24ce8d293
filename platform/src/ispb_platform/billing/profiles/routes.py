"""Bills and Payments → Billing Profile: the rules the billing and suspension jobs follow."""

from typing import Any

import asyncpg
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing.profiles.forms import ProfileDraft, validate_profile
from ispb_platform.rows import insert_row, update_row
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import TenantScope

NEW_PROFILE = {
    "cycle": "monthly",
    "billing_day": "1",
    "due_days": "7",
    "grace_days": "3",
    "auto_suspend": "on",
    "auto_activate": "on",
    "prorata": "daily",
}
_COLUMNS = (
    "name",
    "cycle",
    "billing_day",
    "due_days",
    "grace_days",
    "auto_suspend",
    "auto_activate",
    "is_default",
    "prorata",
    "suspend_day",
    "bill_suspended",
)


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/billing-profiles", **context}, status_code=status_code
    )


async def _save(db: TenantScope, draft: ProfileDraft, profile_id: int | None) -> int:
    values = [draft.cycle.value if c == "cycle" else getattr(draft, c) for c in _COLUMNS]
    if draft.is_default:  # exactly one default: the one just saved
        await db.connection.execute("UPDATE billing_profile SET is_default = false WHERE is_default")
    if profile_id is None:
        return await insert_row(db.connection, "billing_profile", _COLUMNS, values)
    await update_row(db.connection, "billing_profile", profile_id, _COLUMNS, values)
    return profile_id


def _form_values(row: dict[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "on" if value else ""
        return "" if value is None else str(value)

    return {c: text(row[c]) for c in _COLUMNS}


class BillingProfileController(Controller):
    path = "/panel/billing-profiles"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    async def list_profiles(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            rows = await db.connection.fetch(
                "SELECT b.*, (SELECT count(*) FROM customer c WHERE c.billing_profile_id = b.id) AS customers"
                " FROM billing_profile b ORDER BY NOT b.is_default, b.name"
            )
        return _page("billing/profiles/list.html", profiles=rows)

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_profile(self) -> Template:
        return _page("billing/profiles/form.html", form=NEW_PROFILE, errors={}, profile_id=None)

    @get("/{profile_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    async def edit_profile(self, request: Request[Any, Any, Any], profile_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            row = await db.connection.fetchrow("SELECT * FROM billing_profile WHERE id = $1", profile_id)
        if row is None:
            raise NotFoundException()
        return _page("billing/profiles/form.html", form=_form_values(dict(row)), errors={}, profile_id=profile_id)

    @post(["/new", "/{profile_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    async def save_profile(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Principal],
        profile_id: FromPath[int | None] = None,
    ) -> Template | Redirect:
        data = await form_fields(request)
        draft, errors = validate_profile(data)
        async with own_tenant_scope(request) as db:
            if profile_id is not None and not await db.connection.fetchval(
                "SELECT 1 FROM billing_profile WHERE id = $1", profile_id
            ):
                raise NotFoundException()
            if draft is not None:
                try:
                    saved = await _save(db, draft, profile_id)
                except asyncpg.UniqueViolationError:
                    errors = {"name": f"A billing profile named {draft.name!r} already exists."}
                else:
                    await record_activity(
                        db,
                        operator,
                        "billing_profile.saved",
                        object_type="billing_profile",
                        object_id=saved,
                        summary=f"Saved billing profile {draft.name}",
                        details={"billing_day": draft.billing_day, "grace_days": draft.grace_days},
                        ip=client_ip(request),
                    )
                    return Redirect("/panel/billing-profiles", status_code=303)
        return _page("billing/profiles/form.html", 422, form=data, errors=errors, profile_id=profile_id)
