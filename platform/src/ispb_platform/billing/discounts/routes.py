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

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import allow, own_tenant_scope, provide_principal
from ispb_platform.auth.roles import OPERATOR_ADMINS, Principal
from ispb_platform.auth.routes import client_ip
from ispb_platform.billing.discounts.forms import validate_discount
from ispb_platform.customers.routes import customer_page
from ispb_platform.web.forms import form_fields, see_other

Operator = NamedDependency[Principal]


class DiscountController(Controller):
    path = "/panel/customers/{customer_id:int}/discounts"
    dependencies = {"operator": Provide(provide_principal)}  # noqa: RUF012 (Litestar reads it on the class)
    opt = allow(OPERATOR_ADMINS)

    @post("/")
    async def add_discount(
        self, request: Request[Any, Any, Any], operator: Operator, customer_id: FromPath[int]
    ) -> Template | Response[Any]:
        tenant = operator.require_tenant()
        data = await form_fields(request)
        draft, errors = validate_discount(data, tenant.currency)
        async with own_tenant_scope(request) as db:
            if not await db.connection.fetchval("SELECT 1 FROM customer WHERE id = $1", customer_id):
                raise NotFoundException()
            if draft is None:
                return await customer_page(
                    request, db, customer_id, discount_form=data, discount_errors=errors, status_code=422
                )
            discount_id = await db.connection.fetchval(
                "INSERT INTO customer_discount (customer_id, label, percent_bp, amount_minor, starts, ends)"
                " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                customer_id,
                draft.label,
                draft.percent_bp,
                draft.amount.minor if draft.amount else None,
                draft.starts,
                draft.ends,
            )
            await record_activity(
                db,
                operator,
                "discount.added",
                object_type="customer",
                object_id=customer_id,
                summary=f"Added discount {draft.describe()}",
                details={"discount_id": discount_id},
                ip=client_ip(request),
            )
        return see_other(request, f"/panel/customers/{customer_id}#discounts")

    @post("/{discount_id:int}/remove")
    async def remove_discount(
        self,
        request: Request[Any, Any, Any],
        operator: Operator,
        customer_id: FromPath[int],
        discount_id: FromPath[int],
    ) -> Response[Any]:
        async with own_tenant_scope(request) as db:
            label = await db.connection.fetchval(
                "DELETE FROM customer_discount WHERE id = $1 AND customer_id = $2 RETURNING label",
                discount_id,
                customer_id,
            )
            if label is None:
                raise NotFoundException()
            await record_activity(
                db,
                operator,
                "discount.removed",
                object_type="customer",
                object_id=customer_id,
                summary=f"Removed discount {label} (issued bills keep it)",
                ip=client_ip(request),
            )
        return see_other(request, f"/panel/customers/{customer_id}#discounts")
