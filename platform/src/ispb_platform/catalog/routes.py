"""Routers and Packages → Master Packages: list, create and edit (``service.py`` saves, ``queries.py`` reads)."""

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Principal
from ispb_platform.catalog import queries, service
from ispb_platform.catalog.forms import NEW_PACKAGE, package_form_values
from ispb_platform.catalog.rollout import rollout_of
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/packages", **context}, status_code=status_code
    )


class PackageController(Controller):
    path = "/panel/packages"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def list_packages(self, db: TenantScope) -> Template:
        return _page("catalog/list.html", packages=await queries.list_packages())

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_package(self) -> Template:
        return _page("catalog/form.html", form=NEW_PACKAGE, errors={}, package_id=None)

    @get("/{package_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def edit_package(self, db: TenantScope, package_id: FromPath[int]) -> Template:
        row = await queries.get_package(package_id)
        if row is None:
            raise NotFoundException()
        rollout = await rollout_of(db.connection, package_id, row["updated_at"])
        return _page(
            "catalog/form.html", form=package_form_values(row), errors={}, package_id=package_id, rollout=rollout
        )

    @post(["/new", "/{package_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save_package(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Principal],
        package_id: FromPath[int | None] = None,
    ) -> Template | Redirect:
        data = await form_fields(request)
        try:
            runtime = request.app.state.runtime
            effects = service.Effects(secret_key=str(runtime.settings.secret_key), queue=runtime.queue)
            errors = await service.save_package(db, operator, data, package_id, ip=client_ip(request), effects=effects)
        except service.PackageNotFound:
            raise NotFoundException() from None
        if not errors:
            flash(request, "Package saved")
            return Redirect("/panel/packages", status_code=303)
        return _page("catalog/form.html", 422, form=data, errors=errors, package_id=package_id)
