"""Discounts of one customer (operator admins): a percentage or a fixed amount, from a start to an end date.

The bill job applies them to periods starting within their dates (``ispb_billing.Discount``); removing one only
changes future bills, since issued bills are never edited.
"""

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, Principal
from ispb_platform.billing.discounts import service
from ispb_platform.billing.discounts.forms import validate_discount
from ispb_platform.billing.queries import customer_exists
from ispb_platform.customers.routes import customer_page
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

    @post("/{discount_id:int}/remove")
    @in_tenant_scope
    async def remove_discount(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: Operator,
        customer_id: FromPath[int],
        discount_id: FromPath[int],
    ) -> Response[Any]:
        if not await service.remove_discount(db, operator, customer_id, discount_id, client_ip(request)):
            raise NotFoundException()
        flash(request, "Discount removed")
        return see_other(request, f"/panel/customers/{customer_id}#discounts")
