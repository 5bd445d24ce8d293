"""Customers pages of the operator panel: list with live search and filters, create, view, edit, disable, import.

HTTP only: each handler runs in the signed-in operator's tenant scope (``@in_tenant_scope``: one transaction per
request, in the operator's schema, so a customer id of another operator is simply not found), hands the form to
``service.py`` and renders what comes back. Reads and writes are in ``queries.py``.
"""

import asyncio
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.customers import csv_import, service
from ispb_platform.customers.forms import FIELDS, parse_filters
from ispb_platform.customers.queries import CustomerRecord
from ispb_platform.network.olts.customer_view import customer_onus
from ispb_platform.network.traffic.files import customer_graph
from ispb_platform.network.traffic.usage_view import usage_view
from ispb_platform.web.confirm import Confirmation, confirm_page, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, is_htmx, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope

Operator = NamedDependency[Principal]


def _page(template: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/customers", **context}, status_code=status_code
    )


async def _customer(customer_id: int) -> CustomerRecord:
    customer = await service.get_customer(customer_id)
    if customer is None:
        raise NotFoundException()
    return customer


CUSTOMERS = panel_layout("/panel/customers")
IMPORT = "/panel/customers/import"  # its own entry in the navigation, marked as the current page there


def _disable_confirmation(customer: CustomerRecord) -> Confirmation:
    return Confirmation(
        title=f"Disable {customer['code']} {customer['name']}?",
        consequence="They get no more bills or reminders. Nothing is deleted: their bills, payments and history"
        " stay on their page.",
        action=f"/panel/customers/{customer['id']}/disable",
        button="Disable customer",
        back=f"/panel/customers/{customer['id']}",
    )


def _data_dir(request: Request[Any, Any, Any]) -> Path:
    return Path(request.app.state.runtime.settings.data_dir)


def _effects(request: Request[Any, Any, Any]) -> service.Effects:
    runtime = request.app.state.runtime
    return service.Effects(secret_key=str(runtime.settings.secret_key), queue=runtime.queue)


async def customer_page(
    request: Request[Any, Any, Any],
    db: TenantScope,
    customer_id: int,
    *,
    discount_form: dict[str, str] | None = None,
    discount_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The customer page: details, ledger, discounts and activity (also re-shown with a discount form's errors)."""
    context = await service.customer_page(db, customer_id)
    if context is None:
        raise NotFoundException()
    context["usage"] = await usage_view(db, customer_id, _data_dir(request))
    context["onus"] = await customer_onus(customer_id)
    context |= {"discount_form": discount_form or {"kind": "percent"}, "discount_errors": discount_errors or {}}
    return _page("customers/detail.html", context, status_code)


async def _form(
    db: TenantScope,
    form: dict[str, Any],
    errors: dict[str, str],
    customer: CustomerRecord | None,
    status_code: int = 200,
) -> Template:
    """The form with everything the operator typed and each error beside its field."""
    context = {"form": form, "errors": errors, "customer": customer, **await service.form_choices(db)}
    return _page("customers/form.html", context, status_code)


def _edit_form(customer: CustomerRecord) -> dict[str, Any]:
    """A stored customer as the edit form's text."""
    stored: dict[str, Any] = dict(customer)
    form = {field: stored.get(field) or "" for field in FIELDS}
    form["package"] = str(customer["package_id"] or "")
    form["router"] = str(customer["router_id"] or "")
    form["billing_profile"] = str(customer["billing_profile_id"] or "")
    form["ip_address"] = str(customer["ip_address"] or "")
    return form


class CustomerController(Controller):
    path = "/panel/customers"
    opt = allow(OPERATORS)
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/")
    @in_tenant_scope
    async def list_customers(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        package: FromQuery[str] = "",
        area: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        filters = parse_filters(q, status, package, area, page)
        result = await service.find_customers(filters)
        if is_htmx(request):  # live search swaps only the table: no need for the filter choices
            return Template("customers/_table.html", context={"result": result, "filters": filters})
        context = {"result": result, "filters": filters, **await service.filter_choices(db)}
        return _page("customers/list.html", context)

    @get("/new")
    @in_tenant_scope
    async def new_customer(self, db: TenantScope) -> Template:
        return await _form(db, {}, {}, None)

    @post("/new")
    @in_tenant_scope
    async def create_customer(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        password = data.pop("portal_password", "")  # never shown again, not even beside an error
        saved = await service.create_customer(db, operator, data, password, _effects(request), ip=client_ip(request))
        if saved.customer_id is None:
            return await _form(db, data, saved.errors, None, 422)
        flash(request, "Customer saved")
        return see_other(request, f"/panel/customers/{saved.customer_id}")

    @get("/import")
    async def import_form(self) -> Template:
        return _page("customers/import.html", {"report": None, "file_name": "", "active": IMPORT})

    @post("/import", request_max_body_size=csv_import.MAX_BYTES + 64 * 1024)
    @in_tenant_scope
    async def import_file(self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator) -> Template:
        """Good rows are kept, bad rows come back with their line, field and reason (nothing is lost)."""
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            context = {"report": None, "file_name": "", "problem": "Choose a CSV file to import.", "active": IMPORT}
            return _page("customers/import.html", context, 400)
        report = await service.import_file(db, operator, await upload.read(), ip=client_ip(request))
        status = 200 if report.inserted or not (report.errors or report.file_errors) else 422
        return _page(
            "customers/import.html", {"report": report, "file_name": upload.filename, "active": IMPORT}, status
        )

    @get("/{customer_id:int}")
    @in_tenant_scope
    async def view_customer(
        self, db: TenantScope, request: Request[Any, Any, Any], customer_id: FromPath[int]
    ) -> Template:
        return await customer_page(request, db, customer_id)

    @get("/{customer_id:int}/traffic.png")
    @in_tenant_scope
    async def traffic_graph(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        customer_id: FromPath[int],
        period: FromQuery[str] = "day",
        size: FromQuery[str] = "wide",
    ) -> Response[bytes]:
        """The customer's traffic graph (PNG); another tenant's customer, no graph yet, an unknown period or size:
        404."""
        customer = await _customer(customer_id)
        title = f"{customer['code']} {customer['name']} ({period})"
        image = await asyncio.to_thread(customer_graph, _data_dir(request), db.tenant, customer_id, period, title, size)
        if image is None:
            raise NotFoundException()
        return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})

    @get("/{customer_id:int}/edit")
    @in_tenant_scope
    async def edit_customer(self, db: TenantScope, customer_id: FromPath[int]) -> Template:
        customer = await _customer(customer_id)
        return await _form(db, _edit_form(customer), {}, customer)

    @post("/{customer_id:int}/edit")
    @in_tenant_scope
    async def update_customer(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        customer = await _customer(customer_id)
        password = data.pop("portal_password", "")
        effects = _effects(request)
        saved = await service.update_customer(db, operator, customer, data, password, effects, ip=client_ip(request))
        if saved.customer_id is None:
            return await _form(db, data, saved.errors, customer, 422)
        flash(request, "Customer saved")
        return see_other(request, f"/panel/customers/{customer_id}")

    @get("/{customer_id:int}/disable")
    @in_tenant_scope
    async def confirm_disable(self, db: TenantScope, customer_id: FromPath[int]) -> Template:
        return confirm_page(_disable_confirmation(await _customer(customer_id)), CUSTOMERS)

    @post("/{customer_id:int}/disable")
    @in_tenant_scope
    async def disable_customer(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Disabling is how a customer leaves (nothing is deleted); it asks first, with a logged reason."""
        customer = await _customer(customer_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_disable_confirmation(customer), CUSTOMERS, reason=reason, errors=errors)
        await service.disable_customer(db, operator, customer, reason=reason, ip=client_ip(request))
        flash(request, "Customer disabled")
        return see_other(request, f"/panel/customers/{customer_id}")
