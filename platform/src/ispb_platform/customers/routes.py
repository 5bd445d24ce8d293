"""Customers pages of the operator panel: list with live search and filters, create, view, edit, disable.

Each handler opens its operator's tenant scope itself (``own_tenant_scope``): one transaction per request, in
the signed-in operator's schema, so a customer id of another operator is simply not found.
"""

import json
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing import queries as billing_queries
from ispb_platform.billing.package_change import record_package_change
from ispb_platform.customers import csv_import, service
from ispb_platform.customers.connection import router_choices, save_connection, validate_connection
from ispb_platform.customers.forms import FIELDS, validate_customer
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.routers.commands import kick
from ispb_platform.network.routers.queries import recent_commands
from ispb_platform.web.forms import form_fields, is_htmx, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_tenants import TenantScope

Operator = NamedDependency[Principal]


def _page(template: str, context: dict[str, Any], status_code: int = 200) -> Template:
    return Template(
        template, context={"nav": PANEL_NAV, "active": "/panel/customers", **context}, status_code=status_code
    )


def _filters(q: str, status: str, package: str, area: str, page: int) -> service.CustomerFilters:
    return service.CustomerFilters(
        q=q[:100],
        status=status if status in ("active", "suspended", "disabled") else "",
        package_id=int(package) if package.isdigit() else None,
        area=area[:80],
        page=page,
    )


async def _customer(db: TenantScope, customer_id: int) -> dict[str, Any]:
    customer = await service.get_customer(db, customer_id)
    if customer is None:
        raise NotFoundException()
    return customer


def _secret_key(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.runtime.settings.secret_key)


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
    customer = await _customer(db, customer_id)
    activity = await db.connection.fetch(
        "SELECT at, actor, summary FROM activity_log WHERE object_type = 'customer' AND object_id = $1"
        " ORDER BY at DESC LIMIT 20",
        str(customer_id),
    )
    context = {
        "customer": customer,
        "activity": activity,
        "ledger": await billing_queries.ledger(db.connection, customer_id),
        "advance_credit": await billing_queries.advance_credit(db.connection, customer_id),
        "discounts": await db.connection.fetch(
            "SELECT * FROM customer_discount WHERE customer_id = $1 ORDER BY id", customer_id
        ),
        "discount_form": discount_form or {"kind": "percent"},
        "discount_errors": discount_errors or {},
        "currency": db.tenant.currency,
        "commands": await recent_commands(customer_id=customer_id),
        "messages": await db.connection.fetch(
            "SELECT created_at, channel, cause, body, status, attempts, last_error, provider_message_id FROM outbox"
            " WHERE customer_id = $1 ORDER BY id DESC LIMIT 20",
            customer_id,
        ),
        "router_name": await db.connection.fetchval(
            "SELECT r.name FROM router r JOIN customer c ON c.router_id = r.id WHERE c.id = $1", customer_id
        ),
    }
    return _page("customers/detail.html", context, status_code)


async def _form(
    db: TenantScope,
    form: dict[str, Any],
    errors: dict[str, str],
    customer: dict[str, Any] | None,
    status_code: int = 200,
) -> Template:
    """The form with everything the operator typed and each error beside its field."""
    context = {
        "form": form,
        "errors": errors,
        "customer": customer,
        "routers": await router_choices(db.connection),
        **await service.filter_choices(db),
    }
    return _page("customers/form.html", context, status_code)


def _portal_password(data: dict[str, str], errors: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Take the portal password out of the form (it is never shown again) and check it."""
    password = data.pop("portal_password", "")
    problem = service.check_portal_password(password)
    return password, errors | ({"portal_password": problem} if problem else {})


class CustomerController(Controller):
    path = "/panel/customers"
    opt = allow(OPERATORS)
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/")
    async def list_customers(
        self,
        request: Request[Any, Any, Any],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        package: FromQuery[str] = "",
        area: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        filters = _filters(q, status, package, area, page)
        async with own_tenant_scope(request) as db:
            result = await service.find_customers(db, filters)
            if is_htmx(request):  # live search swaps only the table: no need for the filter choices
                return Template("customers/_table.html", context={"result": result, "filters": filters})
            context = {"result": result, "filters": filters, **await service.filter_choices(db)}
        return _page("customers/list.html", context)

    @get("/new")
    async def new_customer(self, request: Request[Any, Any, Any]) -> Template:
        async with own_tenant_scope(request) as db:
            return await _form(db, {}, {}, None)

    @post("/new")
    async def create_customer(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Response[Any]:
        data = await form_fields(request)
        async with own_tenant_scope(request) as db:
            checked = validate_customer(data, await service.package_lookup(db))
            password, errors = _portal_password(data, checked.errors)
            link, link_errors = validate_connection(data, await router_choices(db.connection))
            errors = errors | link_errors
            if checked.draft is None or link is None or errors:
                return await _form(db, data, errors, None, 422)
            try:
                customer_id = await service.create_customer(db, checked.draft)
            except service.DuplicateCustomer as duplicate:
                return await _form(db, data, {duplicate.field: str(duplicate)}, None, 422)
            if password:
                await service.set_portal_password(db, customer_id, password)
            command_id = await save_connection(db.connection, _secret_key(request), customer_id, link, before=None)
            await db.connection.execute(  # the welcome message, when the operator turned it on
                "INSERT INTO domain_event (name, customer_id, payload) VALUES ('customer.created', $1, '{}')",
                customer_id,
            )
            await record_activity(
                db,
                operator,
                "customer.created",
                object_type="customer",
                object_id=customer_id,
                summary=f"Created {checked.draft.code} {checked.draft.name}",
                ip=client_ip(request),
            )
        if command_id is not None:
            await kick(request.app.state.runtime.queue, operator.require_tenant(), command_id)
        return see_other(request, f"/panel/customers/{customer_id}")

    @get("/import")
    async def import_form(self) -> Template:
        return _page("customers/import.html", {"report": None, "file_name": ""})

    @post("/import", request_max_body_size=csv_import.MAX_BYTES + 64 * 1024)
    async def import_file(self, request: Request[Any, Any, Any], operator: Operator) -> Template:
        """Good rows are kept, bad rows come back with their line, field and reason (nothing is lost)."""
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _page(
                "customers/import.html",
                {"report": None, "file_name": "", "problem": "Choose a CSV file to import."},
                400,
            )
        content = await upload.read()
        async with own_tenant_scope(request) as db:
            packages = await service.package_lookup(db)
            parsed = await anyio.to_thread.run_sync(csv_import.parse_customer_csv, content, packages)
            report = await csv_import.import_customers(
                db,
                parsed,
                actor=f"{operator.name} <{operator.login}>",
                actor_user_id=operator.user_id,
                ip=client_ip(request),
            )
        status = 200 if report.inserted or not (report.errors or report.file_errors) else 422
        return _page("customers/import.html", {"report": report, "file_name": upload.filename}, status)

    @get("/{customer_id:int}")
    async def view_customer(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            return await customer_page(request, db, customer_id)

    @get("/{customer_id:int}/edit")
    async def edit_customer(self, request: Request[Any, Any, Any], customer_id: FromPath[int]) -> Template:
        async with own_tenant_scope(request) as db:
            customer = await _customer(db, customer_id)
            form = {field: customer.get(field) or "" for field in FIELDS}
            form["package"] = str(customer["package_id"] or "")
            form["router"] = str(customer["router_id"] or "")
            form["ip_address"] = str(customer["ip_address"] or "")
            return await _form(db, form, {}, customer)

    @post("/{customer_id:int}/edit")
    async def update_customer(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        async with own_tenant_scope(request) as db:
            customer = await _customer(db, customer_id)
            checked = validate_customer(data, await service.package_lookup(db))
            password, errors = _portal_password(data, checked.errors)
            link, link_errors = validate_connection(data, await router_choices(db.connection))
            errors = errors | link_errors
            if checked.draft is None or link is None or errors:
                return await _form(db, data, errors, customer, 422)
            try:
                await service.update_customer(db, customer_id, checked.draft)
            except service.DuplicateCustomer as duplicate:
                return await _form(db, data, {duplicate.field: str(duplicate)}, customer, 422)
            if password:
                await service.set_portal_password(db, customer_id, password)
            tenant = operator.require_tenant()
            adjustments = await record_package_change(
                db.connection,
                customer_id=customer_id,
                old_package_id=customer["package_id"],
                new_package_id=checked.draft.package_id,
                today=local_today(datetime.now(UTC), tenant),
                currency=tenant.currency,
                by=f"{operator.name} <{operator.login}>",
            )
            command_id = await save_connection(db.connection, _secret_key(request), customer_id, link, before=customer)
            if customer["package_id"] != checked.draft.package_id:
                await db.connection.execute(
                    "INSERT INTO domain_event (name, customer_id, payload) VALUES ('package.changed', $1, $2::jsonb)",
                    customer_id,
                    json.dumps({"from": customer["package_id"], "to": checked.draft.package_id}),
                )
            changed = sorted(f for f in FIELDS if str(customer.get(f) or "") != data.get(f, ""))
            await record_activity(
                db,
                operator,
                "customer.updated",
                object_type="customer",
                object_id=customer_id,
                summary=f"Edited {checked.draft.code}"
                + (f"; package change pro-rated on the next bill ({adjustments} lines)" if adjustments else ""),
                details={"changed": changed, "adjustments": adjustments},
                ip=client_ip(request),
            )
        if command_id is not None:
            await kick(request.app.state.runtime.queue, tenant, command_id)
        return see_other(request, f"/panel/customers/{customer_id}")

    @post("/{customer_id:int}/disable")
    async def disable_customer(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Redirect:
        async with own_tenant_scope(request) as db:
            customer = await _customer(db, customer_id)
            if await service.set_status(db, customer_id, "disabled"):
                await record_activity(
                    db,
                    operator,
                    "customer.disabled",
                    object_type="customer",
                    object_id=customer_id,
                    summary=f"Disabled {customer['code']}",
                    ip=client_ip(request),
                )
        return Redirect(f"/panel/customers/{customer_id}", status_code=303)
