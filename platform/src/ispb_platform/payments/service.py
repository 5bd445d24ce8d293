"""Recording a payment: allocate it to the customer's open bills oldest first, keep the rest as advance credit.

Everything for one customer happens under that customer's row lock, in one transaction: the payment (which is
the ledger credit), its allocations, the bills' paid amounts and statuses, the balance cache and the
``payment.received`` domain event (the outbox the notifications work consumes). A bank or mobile-money
reference can be recorded once only. The lock is taken before anything the payment decides on is read
(DESIGN 10), so a concurrent payment or void of the same customer waits instead of slipping in between.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from saq import Queue

from ispb_billing import Money, Settlement, allocate, format_money
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing.suspension.actions import activate_if_paid
from ispb_platform.jobs.queue import run_soon
from ispb_platform.network.routers.commands import kick
from ispb_platform.payments import queries
from ispb_platform.payments.forms import METHOD_LABELS, PaymentDraft
from ispb_platform.payments.queries import CustomerBalance, CustomerNotFound, PaymentMethod
from ispb_tenants import Connection, TenantScope

PAYMENT_RECEIVED = "payment.received"


class DuplicatePayment(Exception):
    """The same bank or mobile-money reference was already recorded."""


@dataclass(frozen=True)
class RecordedPayment:
    payment_id: int
    settlement: Settlement
    balance: Money


async def record_payment(
    connection: Connection,
    *,
    customer_id: int,
    amount: Money,
    method: PaymentMethod,
    reference: str,
    received_on: date,
    received_by: str,
    note: str = "",
) -> RecordedPayment:
    """Record a payment in the caller's tenant transaction. Raises ``DuplicatePayment``, ``CustomerNotFound``."""
    if not amount.is_positive:
        raise ValueError("a payment amount must be positive")
    customer = await queries.lock_customer(connection, customer_id)
    payment_id = await queries.insert_payment(
        connection,
        customer_id=customer_id,
        amount=amount,
        method=method,
        reference=reference.strip(),
        received_on=received_on,
        received_by=received_by,
        note=note.strip(),
    )
    if payment_id is None:
        raise DuplicatePayment(
            f"A payment with reference {reference.strip()!r} is already recorded (a reference counts once,"
            " whatever the method)."
        )
    settlement = allocate(amount, await queries.open_bills(connection, customer_id, amount.currency))
    await queries.apply_allocations(connection, payment_id, settlement, "payment")
    balance = customer.balance_minor - amount.minor
    await queries.move_balance(connection, customer_id, -amount.minor)
    await queries.add_event(
        connection, PAYMENT_RECEIVED, customer_id, payment_received(payment_id, amount, method, settlement, balance)
    )
    return RecordedPayment(payment_id, settlement, Money(balance, amount.currency))


def payment_received(
    payment_id: int, amount: Money, method: str, settlement: Settlement, balance_minor: int
) -> dict[str, Any]:
    """The ``payment.received`` event's payload (the payment message's values), the same for a payment recorded
    at the counter and one imported from a statement."""
    return {
        "payment_id": payment_id,
        "amount_minor": amount.minor,
        "currency": amount.currency,
        "method": str(method),
        "balance_minor": balance_minor,
        "bills_paid": [a.bill_id for a in settlement.allocations],
    }


async def record_from_panel(
    db: TenantScope,
    operator: Principal,
    customer: CustomerBalance,
    draft: PaymentDraft,
    *,
    today: date,
    secret_key: str,
    queue: Queue,
    ip: str,
) -> RecordedPayment:
    """An operator records a payment: the payment, a reactivation when the customer's profile auto-activates
    and nothing is overdue any more, and the activity row, in the handler's transaction. After commit the
    router learns of the reactivation at once and the payment's message goes out now, not at the next tick.
    Raises ``DuplicatePayment`` and ``CustomerNotFound``."""
    recorded = await record_payment(
        db.connection,
        customer_id=customer.id,
        amount=draft.amount,
        method=draft.method,
        reference=draft.reference,
        received_on=draft.received_on,
        received_by=f"{operator.name} <{operator.login}>",
        note=draft.note,
    )
    reactivated = await activate_if_paid(
        db.connection,
        db.tenant,
        customer.id,
        today,
        secret_key=secret_key,
        actor=f"system (payment recorded by {operator.login})",
    )
    await record_activity(
        db,
        operator,
        "payment.recorded",
        object_type="customer",
        object_id=customer.id,
        summary=f"Recorded {METHOD_LABELS[draft.method].lower()} payment of"
        f" {format_money(draft.amount, symbol=False)} {draft.amount.currency} from {customer.code}",
        details={
            "payment_id": recorded.payment_id,
            "bills_paid": [a.bill_id for a in recorded.settlement.allocations],
            "advance_credit_minor": recorded.settlement.unapplied.minor,
        },
        ip=ip,
    )
    tenant = db.tenant
    if reactivated is not None and reactivated.command_id is not None:
        command_id = reactivated.command_id
        db.on_commit(lambda: kick(queue, tenant, command_id))
    db.on_commit(lambda: run_soon(queue, "notify.send_outbox", tenant, "payment"))
    return recorded


__all__ = (
    "METHOD_LABELS",
    "CustomerNotFound",
    "DuplicatePayment",
    "PaymentMethod",
    "PAYMENT_RECEIVED",
    "RecordedPayment",
    "payment_received",
    "record_from_panel",
    "record_payment",
)
