"""Use cases of customer discounts: add and remove, each with its activity row in the same transaction."""

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing.discounts import queries
from ispb_platform.billing.discounts.forms import DiscountDraft
from ispb_tenants import TenantScope


async def add_discount(db: TenantScope, operator: Principal, customer_id: int, draft: DiscountDraft, ip: str) -> int:
    discount_id = await queries.add_discount(customer_id, draft)
    await record_activity(
        db,
        operator,
        "discount.added",
        object_type="customer",
        object_id=customer_id,
        summary=f"Added discount {draft.describe()}",
        details={"discount_id": discount_id},
        ip=ip,
    )
    return discount_id


async def remove_discount(
    db: TenantScope, operator: Principal, customer_id: int, discount_id: int, *, reason: str, ip: str
) -> bool:
    """False when the customer has no such discount. Issued bills keep it: they are never edited. The
    operator's reason goes into the activity log with the removal."""
    label = await queries.remove_discount(customer_id, discount_id)
    if label is None:
        return False
    await record_activity(
        db,
        operator,
        "discount.removed",
        object_type="customer",
        object_id=customer_id,
        summary=f"Removed discount {label} (issued bills keep it): {reason}",
        details={"discount_id": discount_id, "reason": reason},
        ip=ip,
    )
    return True
