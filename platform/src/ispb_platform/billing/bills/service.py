"""Use cases of Customer Bills: the list page's data, sharing a bill's PDF link, and voiding an invoice.

Voiding issues a credit note for the invoice's total; issued bills themselves are never edited (DESIGN 4).
Under the customer's row lock, taken before the bill is read (DESIGN 10), in one transaction: payments allocated
to the invoice are released (their money returns to the customer's advance credit), a credit note with a ``CN-``
number and reversal lines is issued and allocated to the invoice (the credit note is the ledger's credit), and
the invoice turns ``void``. The writes are SQL in ``queries.py`` (see there why).
"""

from dataclasses import dataclass
from datetime import date, datetime

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing.bills import queries
from ispb_platform.billing.bills.queries import BillDetail, BillFilters, BillPage
from ispb_platform.billing.invoices.service import LINK_DAYS, link_expiry, sign_link
from ispb_platform.billing.numbers import CREDIT_NOTE, take_numbers
from ispb_platform.payments.queries import lock_customer, move_balance
from ispb_tenants import Connection, TenantScope


class CannotVoid(Exception):
    """The bill is a credit note or is already void."""


@dataclass(frozen=True)
class VoidResult:
    credit_note_id: int
    credit_note_number: str
    released_minor: int


@dataclass(frozen=True)
class BillList:
    page: BillPage
    areas: list[str]


@dataclass(frozen=True)
class SharedLink:
    token: str
    expires: datetime


async def bill_list(filters: BillFilters, page: int, *, with_areas: bool) -> BillList:
    """The list page's rows and totals; the area choices only when the whole page is drawn."""
    return BillList(await queries.list_bills(filters, page), await queries.customer_areas() if with_areas else [])


async def share_link(db: TenantScope, operator: Principal, bill: BillDetail, *, secret_key: str, ip: str) -> SharedLink:
    """A signed link that opens this bill's PDF without signing in for ``LINK_DAYS`` days; the activity log
    records who made it."""
    token = sign_link(secret_key, db.tenant.id, bill.id)
    await record_activity(
        db,
        operator,
        "bill.link_shared",
        object_type="customer",
        object_id=bill.customer_id,
        summary=f"Made a {LINK_DAYS}-day link to {bill.number}",
        ip=ip,
    )
    return SharedLink(token, link_expiry(token))


async def void_bill(
    db: TenantScope, operator: Principal, bill: BillDetail, *, reason: str, today: date, ip: str
) -> VoidResult:
    """Void the bill with a credit note and log it. Raises ``CannotVoid``."""
    result = await void_invoice(
        db.connection, bill.id, today=today, reason=reason[:500], by=f"{operator.name} <{operator.login}>"
    )
    await record_activity(
        db,
        operator,
        "bill.voided",
        object_type="customer",
        object_id=bill.customer_id,
        summary=f"Voided {bill.number} with credit note {result.credit_note_number}: {reason}",
        details={"bill_id": bill.id, "released_minor": result.released_minor},
        ip=ip,
    )
    return result


def void_refusal(kind: str, status: str, number: str) -> str | None:
    """Why a bill of this kind and status cannot be voided, or None. The page asks before the form is read
    (a void bill's answer is the same whatever reason is typed); ``void_invoice`` asks again under the lock."""
    if kind != "invoice":
        return "A credit note cannot be voided."
    if status == "void":
        return f"{number} is already void."
    return None


async def void_invoice(connection: Connection, bill_id: int, *, today: date, reason: str, by: str) -> VoidResult:
    """Raises ``LookupError`` for an unknown bill and ``CannotVoid`` when it cannot be voided."""
    customer_id = await queries.bill_customer(connection, bill_id)
    if customer_id is None:
        raise LookupError(bill_id)
    await lock_customer(connection, customer_id)
    invoice = await queries.lock_bill(connection, bill_id)
    assert invoice is not None  # the customer's lock is held and bills are never deleted
    if refusal := void_refusal(invoice["kind"], invoice["status"], invoice["number"]):
        raise CannotVoid(refusal)
    released = await queries.release_allocations(connection, bill_id)
    [number] = await take_numbers(connection, CREDIT_NOTE, today.year, 1)
    credit_note_id = await queries.insert_credit_note(
        connection, invoice, number=number, today=today, reason=reason.strip(), by=by
    )
    if invoice["total_minor"] > 0:
        await queries.allocate_credit_note(connection, bill_id, credit_note_id, invoice["total_minor"])
        await move_balance(connection, invoice["customer_id"], -invoice["total_minor"])
    await queries.mark_void(connection, bill_id)
    return VoidResult(credit_note_id, number, released)
