"""Bills and Payments → Billing Profile: list, create and edit the rules the billing and suspension jobs follow
(``service.py`` saves, ``queries.py`` reads)."""

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.billing.profiles import queries, service
from ispb_platform.billing.profiles.forms import NEW_PROFILE, profile_form_values
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/billing-profiles", **context}, status_code=status_code
    )


class BillingProfileController(Controller):
    path = "/panel/billing-profiles"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_profiles(self, db: TenantScope) -> Template:
        return _page("billing/profiles/list.html", profiles=await queries.list_profiles())

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_profile(self) -> Template:
        return _page("billing/profiles/form.html", form=NEW_PROFILE, errors={}, profile_id=None)

    @get("/{profile_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_profile(self, db: TenantScope, profile_id: FromPath[int]) -> Template:
        row = await queries.get_profile(profile_id)
        if row is None:
            raise NotFoundException()
        return _page("billing/profiles/form.html", form=profile_form_values(row), errors={}, profile_id=profile_id)

    @post(["/new", "/{profile_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_profile(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Principal],
        profile_id: FromPath[int | None] = None,
    ) -> Template | Redirect:
        data = await form_fields(request)
        try:
            errors = await service.save_profile(db, operator, data, profile_id, ip=client_ip(request))
        except service.ProfileNotFound:
            raise NotFoundException() from None
        if not errors:
            flash(request, "Billing profile saved")
            return Redirect("/panel/billing-profiles", status_code=303)
        return _page("billing/profiles/form.html", 422, form=data, errors=errors, profile_id=profile_id)
