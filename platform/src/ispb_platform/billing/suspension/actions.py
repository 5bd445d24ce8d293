"""Suspending and reactivating customers: status, Suspension Log, domain event, RADIUS rows and router command,
together, for one customer or a whole set in a few statements.

Everything here runs in the caller's tenant transaction under the customers' row locks, so the status, the log
row, the ``customer.suspended``/``customer.activated`` event, the RADIUS rows and the router command commit (or
roll back) together; the router work itself runs after commit (``routers.commands``). The one-customer
functions (a person's click, one payment) call the set functions with one id: there is one way to do it.

Example (a batch of payments recorded in one transaction)::

    changes = await reactivate_paid(connection, tenant, paid_ids, today, secret_key=key, actor="bank import")
    # one StatusChange per customer reactivated; kick each change.command_id after commit
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from ispb_billing import Account, SuspensionRule, decide
from ispb_platform.billing.suspension import queries
from ispb_platform.billing.suspension.queries import DunningRow, Suspension
from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.network.routers.commands import enqueue_commands
from ispb_platform.payments.queries import lock_customer, lock_customers
from ispb_tenants import Connection, TenantRef

PAID = "Paid: nothing overdue any more"
"""The reason logged when a payment reactivates a customer."""


@dataclass(frozen=True)
class StatusChange:
    customer_id: int
    command_id: int | None


async def suspend_customers(
    connection: Connection, suspensions: Sequence[Suspension], *, secret_key: str, actor: str
) -> list[StatusChange]:
    """Suspend active customers (the caller holds their locks and read their status after taking them): log
    rows, statuses and events in one statement, then the RADIUS rows and router commands of those suspended. A
    customer that this bill already suspended once is left alone (an operator who reactivated a customer by
    hand is not overruled by the next run of the job)."""
    suspended = await queries.write_suspensions(connection, suspensions, actor)
    return await _tell_network(connection, suspended, "suspend", secret_key)


async def reactivate_customers(
    connection: Connection, customer_ids: Sequence[int], *, secret_key: str, actor: str, reason: str
) -> list[StatusChange]:
    """Reactivate those of the customers that are suspended (the caller holds their locks), with the same
    effects as ``suspend_customers`` the other way round."""
    reactivated = await queries.write_reactivations(connection, customer_ids, reason, actor)
    return await _tell_network(connection, reactivated, "activate", secret_key)


async def _tell_network(
    connection: Connection, customer_ids: list[int], action: str, secret_key: str
) -> list[StatusChange]:
    await sync_customers(connection, secret_key, customer_ids)
    commands = await enqueue_commands(connection, customer_ids, action)
    return [StatusChange(customer_id, commands.get(customer_id)) for customer_id in customer_ids]


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
    """Suspend an active customer; None when it is not active, or when this bill already suspended it once."""
    customer = await lock_customer(connection, customer_id)
    if customer.status != "active":
        return None
    suspension = Suspension(customer_id, reason, rule, bill_id, amount_due_minor)
    changes = await suspend_customers(connection, [suspension], secret_key=secret_key, actor=actor)
    return changes[0] if changes else None


async def activate(
    connection: Connection, customer_id: int, *, secret_key: str, actor: str, reason: str
) -> StatusChange | None:
    """Reactivate a suspended customer; None when it is not suspended."""
    customer = await lock_customer(connection, customer_id)
    if customer.status != "suspended":
        return None
    changes = await reactivate_customers(connection, [customer_id], secret_key=secret_key, actor=actor, reason=reason)
    return changes[0] if changes else None


def rule_of(row: DunningRow) -> tuple[SuspensionRule, bool]:
    """The customer's billing profile as a suspension rule, and whether it reactivates on payment (no profile
    at all: the library's default rule, no reactivation)."""
    profile = row.profile
    if profile is None:
        return SuspensionRule(), False
    return _rule(profile.grace_days, profile.suspend_day, profile.auto_suspend), profile.auto_activate


@lru_cache(maxsize=256)
def _rule(grace_days: int, suspend_day: int | None, auto_suspend: bool) -> SuspensionRule:
    """One rule object per distinct profile setting (a chunk has thousands of customers and a few profiles)."""
    return SuspensionRule(grace_days, suspend_day, auto_suspend)


def account_of(row: DunningRow, status: str) -> Account:
    """What the dunning rule decides on, as if the customer's status were ``status``."""
    return Account(row.customer_id, status, tuple(row.open_bills), row.credit)


async def reactivate_paid(
    connection: Connection,
    tenant: TenantRef,
    customer_ids: Sequence[int],
    today: date,
    *,
    secret_key: str,
    actor: str,
) -> list[StatusChange]:
    """After payments: reactivate the suspended customers among ``customer_ids`` whose profile auto-activates
    and who owe nothing overdue any more (the dunning rule that suspended them says it would not suspend them
    now), in a few statements whatever their number. Takes the customers' locks (in id order) and decides on
    what was read under them."""
    locked = await lock_customers(connection, customer_ids)
    paid: list[int] = []
    for row in await queries.dunning_rows(connection, locked, tenant.currency):
        rule, auto_activate = rule_of(row)
        if row.status == "suspended" and auto_activate and not decide(account_of(row, "active"), rule, today).suspend:
            paid.append(row.customer_id)
    return await reactivate_customers(connection, paid, secret_key=secret_key, actor=actor, reason=PAID)


async def activate_if_paid(
    connection: Connection, tenant: TenantRef, customer_id: int, today: date, *, secret_key: str, actor: str
) -> StatusChange | None:
    """``reactivate_paid`` for one customer (after one payment); None when it stays as it is."""
    changes = await reactivate_paid(connection, tenant, [customer_id], today, secret_key=secret_key, actor=actor)
    return changes[0] if changes else None
