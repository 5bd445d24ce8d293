"""Routers and Packages → Master Packages: list, create and edit (retire with "active" off, never delete:
customers and bills keep pointing at a package)."""

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
from ispb_platform.catalog.forms import PackageDraft, package_form_values, validate_package
from ispb_platform.rows import insert_row, update_row
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import TenantScope

NEW_PACKAGE = {"service_type": "pppoe", "vat_rate": "0", "validity_days": "30", "is_active": "on"}
_COLUMNS = (
    "name",
    "service_type",
    "price_minor",
    "vat_rate_bp",
    "vat_inclusive",
    "download_kbps",
    "upload_kbps",
    "validity_days",
    "data_allowance_mb",
    "fup_download_kbps",
    "fup_upload_kbps",
    "is_active",
)


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/packages", **context}, status_code=status_code
    )


def _values(draft: PackageDraft) -> list[Any]:
    return [draft.service_type.value if c == "service_type" else getattr(draft, c) for c in _COLUMNS]


async def _save(db: TenantScope, draft: PackageDraft, package_id: int | None) -> int:
    if package_id is None:
        return await insert_row(db.connection, "package", _COLUMNS, _values(draft))
    await update_row(db.connection, "package", package_id, _COLUMNS, _values(draft))
    return package_id


class PackageController(Controller):
    path = "/panel/packages"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/", opt=allow(OPERATORS))
    async def list_packages(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            rows = await db.connection.fetch(
                "SELECT p.*, (SELECT count(*) FROM customer c WHERE c.package_id = p.id) AS customers"
                " FROM package p ORDER BY NOT p.is_active, p.price_minor, p.name"
            )
        return _page("catalog/list.html", packages=rows)

    @get("/new", opt=allow(OPERATOR_ADMINS))
    async def new_package(self) -> Template:
        return _page("catalog/form.html", form=NEW_PACKAGE, errors={}, package_id=None)

    @get("/{package_id:int}/edit", opt=allow(OPERATOR_ADMINS))
    async def edit_package(self, request: Request[Any, Any, Any], package_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            row = await db.connection.fetchrow("SELECT * FROM package WHERE id = $1", package_id)
        if row is None:
            raise NotFoundException()
        return _page("catalog/form.html", form=package_form_values(dict(row)), errors={}, package_id=package_id)

    @post(["/new", "/{package_id:int}/edit"], opt=allow(OPERATOR_ADMINS))
    async def save_package(
        self,
        request: Request[Any, Any, Any],
        operator: NamedDependency[Principal],
        package_id: FromPath[int | None] = None,
    ) -> Template | Redirect:
        data = await form_fields(request)
        draft, errors = validate_package(data)
        async with own_tenant_scope(request) as db:
            if package_id is not None and not await db.connection.fetchval(
                "SELECT 1 FROM package WHERE id = $1", package_id
            ):
                raise NotFoundException()
            if draft is not None:
                try:
                    saved = await _save(db, draft, package_id)
                except asyncpg.UniqueViolationError:
                    errors = {"name": f"A package named {draft.name!r} already exists."}
                else:
                    action = "package.created" if package_id is None else "package.updated"
                    await record_activity(
                        db,
                        operator,
                        action,
                        object_type="package",
                        object_id=saved,
                        summary=f"{'Created' if package_id is None else 'Edited'} package {draft.name}",
                        ip=client_ip(request),
                    )
                    return Redirect("/panel/packages", status_code=303)
        return _page("catalog/form.html", 422, form=data, errors=errors, package_id=package_id)
