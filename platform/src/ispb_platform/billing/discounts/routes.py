"""Discounts of one customer (operator admins): a percentage or a fixed amount, from a start to an end date.

The bill job applies them to periods starting within their dates (``ispb_billing.Discount``); removing one only
changes future bills, since issued bills are never edited.
"""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, Principal
from ispb_platform.billing.discounts import queries, service
from ispb_platform.billing.discounts.forms import validate_discount
from ispb_platform.billing.queries import customer_exists, customer_label
from ispb_platform.customers.routes import customer_page
from ispb_platform.web.confirm import Confirmation, confirm_page, panel_layout, read_reason
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.requests import client_ip
from ispb_platform.web.scope import TenantScope, in_tenant_scope

Operator = NamedDependency[Principal]


class DiscountController(Controller):
    path = "/panel/customers/{customer_id:int}/discounts"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)
    opt = allow(OPERATOR_ADMINS)

    @post("/")
    @in_tenant_scope
    async def add_discount(
        self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        data = await form_fields(request)
        draft, errors = validate_discount(data, db.tenant.currency)
        if not await customer_exists(customer_id):
            raise NotFoundException()
        if draft is None:
            return await customer_page(
                request, db, customer_id, discount_form=data, discount_errors=errors, status_code=422
            )
        await service.add_discount(db, operator, customer_id, draft, client_ip(request))
        flash(request, "Discount added")
        return see_other(request, f"/panel/customers/{customer_id}#discounts")

    @get("/{discount_id:int}/remove")
    @in_tenant_scope
    async def confirm_remove(self, db: TenantScope, customer_id: FromPath[int], discount_id: FromPath[int]) -> Template:
        return confirm_page(await _remove_confirmation(customer_id, discount_id), CUSTOMERS)

    @post("/{discount_id:int}/remove")
    @in_tenant_scope
    async def remove_discount(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: Operator,
        customer_id: FromPath[int],
        discount_id: FromPath[int],
    ) -> Template | Response[Any]:
        confirmation = await _remove_confirmation(customer_id, discount_id)
        reason, errors = read_reason(await form_fields(request))
        if errors:
            return confirm_page(confirmation, CUSTOMERS, reason=reason, errors=errors)
        ip = client_ip(request)
        if not await service.remove_discount(db, operator, customer_id, discount_id, reason=reason, ip=ip):
            raise NotFoundException()  # removed meanwhile
        flash(request, "Discount removed")
        return see_other(request, f"/panel/customers/{customer_id}#discounts")


CUSTOMERS = panel_layout("/panel/customers")


async def _remove_confirmation(customer_id: int, discount_id: int) -> Confirmation:
    """What removing asks; 404 for a discount the customer (of this operator) does not have."""
    customer = await customer_label(customer_id)
    label = await queries.discount_label(customer_id, discount_id) if customer else None
    if customer is None or label is None:
        raise NotFoundException()
    return Confirmation(
        title=f"Remove the discount {label} of {customer['code']} {customer['name']}?",
        consequence="Bills from the next one on are made without it. Bills already issued keep it: they are never"
        " edited.",
        action=f"/panel/customers/{customer_id}/discounts/{discount_id}/remove",
        button="Remove discount",
        back=f"/panel/customers/{customer_id}#discounts",
    )
