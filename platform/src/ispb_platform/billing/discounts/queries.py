"""Reads and writes of customer discounts, through Piccolo (plain CRUD of one table)."""

from dataclasses import dataclass
from datetime import date, datetime

from ispb_platform.billing.discounts.forms import DiscountDraft
from ispb_tenants.tables import CustomerDiscount

_discount_id = CustomerDiscount._meta.primary_key  # the implicit serial ``id`` column (the class declares none)


@dataclass(frozen=True)
class DiscountRow:
    id: int
    label: str
    percent_bp: int | None
    amount_minor: int | None
    starts: date | None
    ends: date | None
    created_at: datetime


async def discounts_of(customer_id: int) -> list[DiscountRow]:
    """The customer's discounts, oldest first."""
    rows = await (
        CustomerDiscount.select(
            _discount_id,
            CustomerDiscount.label,
            CustomerDiscount.percent_bp,
            CustomerDiscount.amount_minor,
            CustomerDiscount.starts,
            CustomerDiscount.ends,
            CustomerDiscount.created_at,
        )
        .where(CustomerDiscount.customer == customer_id)
        .order_by(_discount_id)
    )
    return [DiscountRow(**row) for row in rows]


async def add_discount(customer_id: int, draft: DiscountDraft) -> int:
    """Insert the discount; returns its id."""
    [row] = await CustomerDiscount.insert(
        CustomerDiscount(
            customer=customer_id,
            label=draft.label,
            percent_bp=draft.percent_bp,
            amount_minor=draft.amount.minor if draft.amount else None,
            starts=draft.starts,
            ends=draft.ends,
        )
    ).returning(_discount_id)
    return int(row["id"])


async def discount_label(customer_id: int, discount_id: int) -> str | None:
    """The label of the customer's discount, or None when the customer has no such discount."""
    row = (
        await CustomerDiscount.select(CustomerDiscount.label)
        .where((_discount_id == discount_id) & (CustomerDiscount.customer == customer_id))
        .first()
    )
    return str(row["label"]) if row else None


async def remove_discount(customer_id: int, discount_id: int) -> str | None:
    """Delete the customer's discount; returns its label, or None when the customer has no such discount."""
    rows = await (
        CustomerDiscount.delete()
        .where((_discount_id == discount_id) & (CustomerDiscount.customer == customer_id))
        .returning(CustomerDiscount.label)
    )
    return str(rows[0]["label"]) if rows else None
