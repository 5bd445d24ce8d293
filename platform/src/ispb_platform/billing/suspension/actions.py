"""Suspending and reactivating a customer: status, Suspension Log, domain event and router command, together.

Everything here runs in the caller's tenant transaction under the customer's row lock, so the status, the log
row, the ``customer.suspended``/``customer.activated`` event and the router command commit (or roll back)
together; the router work itself runs after commit (``routers.commands``).
"""

from dataclasses import dataclass
from datetime import date

from ispb_billing import Account, Money, SuspensionRule, decide
from ispb_platform.billing.suspension import queries
from ispb_platform.network.radius.sync import sync_customer
from ispb_platform.network.routers.commands import enqueue_command
from ispb_platform.payments.queries import add_event, advance_credit, lock_customer, open_bills
from ispb_tenants import Connection, TenantRef


@dataclass(frozen=True)
class StatusChange:
    customer_id: int
    command_id: int | None


async def suspend(
    connection: Connection,
    customer_id: int,
    *,
    secret_key: str,
    actor: str,
    reason: str,
    rule: str = "",
    bill_id: int | None = None,
    amount_due_minor: int | None = None,
) -> StatusChange | None:
    """Suspend an active customer; None when it is not active, or when this bill already suspended it once
    (an operator who reactivated a customer by hand is not overruled by the next run of the job)."""
    customer = await lock_customer(connection, customer_id)
    if customer.status != "active":
        return None
    logged = await queries.log_suspension(
        connection,
        customer_id,
        bill_id=bill_id,
        amount_due_minor=amount_due_minor,
        rule=rule,
        reason=reason,
        actor=actor,
    )
    if not logged:
        return None
    await queries.set_status(connection, customer_id, "suspended")
    await sync_customer(connection, secret_key, customer_id)
    command_id = await enqueue_command(connection, customer_id=customer_id, action="suspend")
    await add_event(
        connection,
        "customer.suspended",
        customer_id,
        {"bill_id": bill_id, "amount_due_minor": amount_due_minor, "reason": reason, "actor": actor},
    )
    return StatusChange(customer_id, command_id)


async def activate(
    connection: Connection, customer_id: int, *, secret_key: str, actor: str, reason: str
) -> StatusChange | None:
    """Reactivate a suspended customer; None when it is not suspended."""
    customer = await lock_customer(connection, customer_id)
    if customer.status != "suspended":
        return None
    await queries.set_status(connection, customer_id, "active")
    await sync_customer(connection, secret_key, customer_id)
    await queries.log_activation(connection, customer_id, reason=reason, actor=actor)
    command_id = await enqueue_command(connection, customer_id=customer_id, action="activate")
    await add_event(connection, "customer.activated", customer_id, {"reason": reason, "actor": actor})
    return StatusChange(customer_id, command_id)


async def rule_for(connection: Connection, customer_id: int) -> tuple[SuspensionRule, bool]:
    """The customer's billing profile as a suspension rule, and whether it reactivates on payment."""
    profile = await queries.profile_rule(connection, customer_id)
    if profile is None:
        return SuspensionRule(), False
    rule = SuspensionRule(
        grace_days=profile.grace_days, fixed_day=profile.suspend_day, auto_suspend=profile.auto_suspend
    )
    return rule, profile.auto_activate


async def account_of(connection: Connection, customer_id: int, status: str, currency: str) -> Account:
    """What the dunning rule decides on; read under the customer's row lock by callers that act on it."""
    bills = await open_bills(connection, customer_id, currency)
    credit = await advance_credit(connection, customer_id)
    return Account(customer_id, status, tuple(bills), Money(credit, currency))


async def activate_if_paid(
    connection: Connection, tenant: TenantRef, customer_id: int, today: date, *, secret_key: str, actor: str
) -> StatusChange | None:
    """After a payment: reactivate a suspended customer whose profile auto-activates and who owes nothing
    overdue any more (the same dunning rule that suspended them says they would not be suspended now)."""
    customer = await lock_customer(connection, customer_id)
    if customer.status != "suspended":
        return None
    rule, auto_activate = await rule_for(connection, customer_id)
    if not auto_activate:
        return None
    account = await account_of(connection, customer_id, "active", tenant.currency)
    if decide(account, rule, today).suspend:
        return None
    return await activate(
        connection, customer_id, secret_key=secret_key, actor=actor, reason="Paid: nothing overdue any more"
    )
