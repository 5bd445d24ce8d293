"""The platform admin's side of subscriptions (admin console → Subscriptions): plans with their tiers, each
operator's plan and bills, recording a payment (which reopens a locked panel at once) and voiding a bill with a
credit note (asked on a confirmation page, the reason kept on the credit note and in the operator's log)."""

from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import allow, principal_of
from ispb_platform.auth.roles import Principal, Role
from ispb_platform.subscriptions import charts, queries, service
from ispb_platform.subscriptions.document import bill_pdf
from ispb_platform.subscriptions.forms import (
    METHOD_LABELS,
    PRICING_LABELS,
    SMS_BILLING_LABELS,
    TIER_ROWS,
    validate_assignment,
    validate_payment,
    validate_plan,
    validate_settings,
)
from ispb_platform.subscriptions.payments import PaymentRefused
from ispb_platform.web.charts import chart_csv
from ispb_platform.web.confirm import ADMIN_LAYOUT, Confirmation, confirm_page, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields
from ispb_platform.web.requests import client_ip
from ispb_tenants import Database, InvalidSlug, TenantNotFound, TenantRef, get_tenant, validate_slug

PLATFORM_ADMIN = allow(frozenset({Role.PLATFORM_ADMIN}))
BASE = "/admin/subscriptions"


def _db(request: Request[Any, Any, Any]) -> Database:
    db: Database = request.app.state.runtime.db
    return db


def _admin(request: Request[Any, Any, Any]) -> Principal:
    principal = principal_of(request)
    assert principal is not None, "the guard let only the platform admin through"
    return principal


def _today() -> date:
    return datetime.now(UTC).date()


async def _operator(request: Request[Any, Any, Any], slug: str) -> TenantRef:
    try:
        return await get_tenant(_db(request), validate_slug(slug))
    except (InvalidSlug, TenantNotFound):
        raise NotFoundException() from None


def _plan_form(row: queries.PlanRow | None) -> dict[str, str]:
    if row is None:
        return {"pricing": "tier", "sms_price": "0.35", "trial_days": "0", "active": "on"}
    form = {
        "name": row.plan.name,
        "pricing": row.plan.pricing.value,
        "sms_price": str(row.plan.sms_price.normalize()),
        "trial_days": str(row.plan.trial_days),
        "active": "on" if row.active else "",
    }
    for n, tier in enumerate(row.plan.tiers, start=1):
        form[f"tier{n}_up_to"] = "" if tier.up_to is None else str(tier.up_to)
        form[f"tier{n}_price"] = str(tier.price.normalize())
    return form


def _plan_page(form: dict[str, str], errors: dict[str, str], plan_id: int | None, status: int = 200) -> Template:
    context = {
        "form": form,
        "errors": errors,
        "plan_id": plan_id,
        "tier_rows": range(1, TIER_ROWS + 1),
        "pricing": list(PRICING_LABELS.items()),
    }
    return Template("subscriptions/plan_form.html", context=context, status_code=status)


class SubscriptionAdminController(Controller):
    path = BASE
    opt = PLATFORM_ADMIN

    @get("/")
    async def overview(self, request: Request[Any, Any, Any]) -> Template:
        async with _db(request).platform() as connection:
            context = {
                "plans": await queries.plans(connection),
                "operators": await queries.operators(connection, _today()),
                "bills": await queries.recent_bills(connection),
                "charts": await charts.admin_charts(connection, _today()),
                "currency": (await queries.settings(connection)).currency,
            }
        return Template("subscriptions/admin.html", context=context)

    @get("/charts.csv")
    async def chart_export(self, request: Request[Any, Any, Any], chart: FromQuery[str] = "") -> Response[bytes]:
        """One chart's numbers as CSV (``?chart=sms-usage``)."""
        async with _db(request).platform() as connection:
            found = {c.slug: c for c in await charts.admin_charts(connection, _today())}.get(chart)
        if found is None:
            raise NotFoundException()
        disposition = f'attachment; filename="{found.slug}.csv"'
        return Response(chart_csv(found), media_type="text/csv", headers={"Content-Disposition": disposition})

    @get("/settings")
    async def settings(self, request: Request[Any, Any, Any]) -> Template:
        async with _db(request).platform() as connection:
            current = await queries.settings(connection)
        form = {k: str(v) for k, v in vars(current).items()}
        return Template("subscriptions/settings.html", context={"form": form, "errors": {}})

    @post("/settings")
    async def save_settings(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        data = await form_fields(request)
        draft, errors = validate_settings(data)
        if draft is None:
            return Template("subscriptions/settings.html", context={"form": data, "errors": errors}, status_code=422)
        async with _db(request).platform() as connection:
            await service.save_settings(connection, draft)
        flash(request, "Billing settings saved")
        return Redirect(f"{BASE}/", status_code=303)

    @get("/plans/new")
    async def new_plan(self) -> Template:
        return _plan_page(_plan_form(None), {}, None)

    @post("/plans/new")
    async def create_plan(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        return await _save_plan(request, None)

    @get("/plans/{plan_id:int}")
    async def edit_plan(self, request: Request[Any, Any, Any], plan_id: FromPath[int]) -> Template:
        async with _db(request).platform() as connection:
            row = next((p for p in await queries.plans(connection) if p.id == plan_id), None)
        if row is None:
            raise NotFoundException()
        return _plan_page(_plan_form(row), {}, plan_id)

    @post("/plans/{plan_id:int}")
    async def update_plan(self, request: Request[Any, Any, Any], plan_id: FromPath[int]) -> Template | Redirect:
        async with _db(request).platform() as connection:
            if not any(p.id == plan_id for p in await queries.plans(connection)):
                raise NotFoundException()
        return await _save_plan(request, plan_id)

    @get("/operators/{slug:str}")
    async def operator(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        return await _operator_page(request, await _operator(request, slug))

    @post("/operators/{slug:str}")
    async def assign(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template | Redirect:
        tenant = await _operator(request, slug)
        data = await form_fields(request)
        async with _db(request).platform() as connection:
            plan_ids = {p.id for p in await queries.plans(connection)}
        draft, errors = validate_assignment(data, plan_ids)
        if draft is None:
            return await _operator_page(request, tenant, assign_form=data, assign_errors=errors)
        await service.assign_plan(_db(request), tenant, draft, _admin(request), client_ip(request))
        flash(request, f"{tenant.name} is on the plan")
        return Redirect(f"{BASE}/operators/{slug}", status_code=303)

    @get("/bills/{subscription_bill_id:int}/pdf")
    async def pdf(self, request: Request[Any, Any, Any], subscription_bill_id: FromPath[int]) -> Response[Any]:
        answer = await bill_pdf(request.app, subscription_bill_id, tenant_id=None)
        if answer is None:
            raise NotFoundException()
        return answer

    @post("/bills/{subscription_bill_id:int}/payment")
    async def record_payment(
        self, request: Request[Any, Any, Any], subscription_bill_id: FromPath[int]
    ) -> Template | Redirect:
        bill, tenant = await _bill(request, subscription_bill_id)
        if bill.status != "open":
            raise ClientException(
                f"Bill {bill.number} is {bill.status}: there is nothing left to pay on it.", status_code=409
            )
        data = await form_fields(request)
        draft, errors = validate_payment(data, bill.currency, bill.due_minor, _today())
        if draft is not None:
            try:
                recorded = await service.pay_bill(
                    _db(request), tenant, bill, draft, _admin(request), client_ip(request)
                )
            except PaymentRefused as refused:
                errors = {"amount": str(refused)}
            else:
                reopened = f"; {tenant.name}'s panel is open again" if recorded.reopened else ""
                flash(request, f"Payment recorded on {bill.number}{reopened}")
                return Redirect(f"{BASE}/operators/{tenant.slug}", status_code=303)
        return await _operator_page(request, tenant, pay_bill=bill.id, pay_form=data, pay_errors=errors)

    @get("/bills/{subscription_bill_id:int}/void")
    async def confirm_void(self, request: Request[Any, Any, Any], subscription_bill_id: FromPath[int]) -> Template:
        bill, _ = await _bill(request, subscription_bill_id)
        return confirm_page(_void_confirmation(bill), ADMIN_LAYOUT)

    @post("/bills/{subscription_bill_id:int}/void")
    async def void(self, request: Request[Any, Any, Any], subscription_bill_id: FromPath[int]) -> Template | Redirect:
        bill, tenant = await _bill(request, subscription_bill_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(_void_confirmation(bill), ADMIN_LAYOUT, reason=reason, errors=errors)
        try:
            number = await service.void_bill(
                _db(request), tenant, bill, reason, _admin(request), client_ip(request), _today()
            )
        except PaymentRefused as refused:
            return confirm_page(_void_confirmation(bill), ADMIN_LAYOUT, reason=reason, errors={"reason": str(refused)})
        flash(request, f"Bill {bill.number} voided by credit note {number}")
        return Redirect(f"{BASE}/operators/{tenant.slug}", status_code=303)


async def _bill(request: Request[Any, Any, Any], bill_id: int) -> tuple[queries.Bill, TenantRef]:
    async with _db(request).platform() as connection:
        bill = await queries.get_bill(connection, bill_id)
        slug = None if bill is None else await queries.operator_slug(connection, bill.tenant_id)
    if bill is None or slug is None or bill.kind == "credit_note" or bill.number is None:
        raise NotFoundException()
    return bill, await get_tenant(_db(request), slug)


def _void_confirmation(bill: queries.Bill) -> Confirmation:
    return Confirmation(
        title=f"Void bill {bill.number} of {bill.operator}?",
        consequence="A credit note for the whole amount is issued and the bill is no longer due. The bill itself "
        "stays as it was; the month can then be billed again.",
        action=f"{BASE}/bills/{bill.id}/void",
        button="Void with a credit note",
        back=f"{BASE}/operators/{bill.operator}",
        kept_in="the credit note and the operator's activity log",
    )


async def _save_plan(request: Request[Any, Any, Any], plan_id: int | None) -> Template | Redirect:
    data = await form_fields(request)
    draft, errors = validate_plan(data)
    if draft is not None:
        try:
            async with _db(request).platform() as connection:
                await service.save_plan(connection, plan_id, draft)
        except asyncpg.UniqueViolationError:
            errors = {"name": "Another plan has this name."}
        else:
            flash(request, f"Plan {draft.name} saved")
            return Redirect(f"{BASE}/", status_code=303)
    return _plan_page(data, errors, plan_id, status=422)


async def _operator_page(
    request: Request[Any, Any, Any],
    tenant: TenantRef,
    *,
    assign_form: dict[str, str] | None = None,
    assign_errors: dict[str, str] | None = None,
    pay_bill: int | None = None,
    pay_form: dict[str, str] | None = None,
    pay_errors: dict[str, str] | None = None,
) -> Template:
    view = await service.operator_view(_db(request), tenant.id, _today())
    async with _db(request).platform() as connection:
        plans = await queries.plans(connection)
    s = view.subscription
    current = (
        {
            "plan_id": str(s.plan_id),
            "started_on": s.started_on.isoformat(),
            "trial_ends_on": s.trial_ends_on.isoformat() if s.trial_ends_on else "",
            "sms_billing": s.sms_billing,
        }
        if s
        else {"started_on": _today().isoformat(), "sms_billing": "prepaid"}
    )
    context = {
        "operator": tenant,
        "view": view,
        "plans": [(str(p.id), p.plan.name) for p in plans if p.active or (s and p.id == s.plan_id)],
        "sms_billing": list(SMS_BILLING_LABELS.items()),
        "methods": list(METHOD_LABELS.items()),
        "assign_form": assign_form or current,
        "assign_errors": assign_errors or {},
        "pay_bill": pay_bill,
        "pay_form": pay_form or {"paid_on": _today().isoformat()},
        "pay_errors": pay_errors or {},
    }
    status = 422 if assign_errors or pay_errors else 200
    return Template("subscriptions/admin_operator.html", context=context, status_code=status)


ROUTES = [SubscriptionAdminController]
