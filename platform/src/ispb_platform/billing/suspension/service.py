"""Use cases of suspension pages: suspend or reactivate one customer by hand, and the public suspension portal.

The status change itself (status, log row, event, router command, under the customer's row lock) is
``actions.py``; this adds the activity row and, after commit, runs the router command at once.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from ipaddress import ip_address
from typing import Literal

from saq import Queue

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing.suspension import queries
from ispb_platform.billing.suspension.actions import StatusChange, activate, suspend
from ispb_platform.billing.suspension.queries import OperatorContact, PortalBill, PortalCustomer
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.routers.commands import kick
from ispb_platform.payments.online.accounts import accounts, enabled_providers
from ispb_platform.payments.online.gateway import Provider
from ispb_tenants import Database, TenantRef, TenantScope

Action = Literal["suspend", "activate"]


@dataclass(frozen=True)
class PortalView:
    customer: PortalCustomer | None
    bills: list[PortalBill]
    contact: OperatorContact
    today: date
    pay_with: list[Provider]


async def change_status(
    db: TenantScope,
    operator: Principal,
    customer_id: int,
    action: Action,
    *,
    reason: str,
    secret_key: str,
    queue: Queue,
    ip: str,
) -> StatusChange | None:
    """Suspend or reactivate by hand; None when the customer already was in that state."""
    actor = f"{operator.name} <{operator.login}>"
    if action == "suspend":
        change = await suspend(
            db.connection, customer_id, secret_key=secret_key, actor=actor, reason=reason, rule="manual"
        )
    else:
        change = await activate(db.connection, customer_id, secret_key=secret_key, actor=actor, reason=reason)
    if change is None:
        return None
    await record_activity(
        db,
        operator,
        f"customer.{'suspended' if action == 'suspend' else 'activated'}",
        object_type="customer",
        object_id=customer_id,
        summary=f"{'Suspended' if action == 'suspend' else 'Reactivated'} by hand: {reason}",
        ip=ip,
    )
    if change.command_id is not None:
        command_id, tenant = change.command_id, db.tenant
        db.on_commit(lambda: kick(queue, tenant, command_id))  # after commit: the router learns at once
    return change


async def portal_view(database: Database, operator: TenantRef, address: str, secret_key: str = "") -> PortalView:
    """What the suspension portal shows to ``address``: the suspended customer there (if any) and their open
    bills, and how to pay. The tenant comes from the URL (no one is signed in), so this opens its scope."""
    async with database.tenant(operator) as scope:
        customer = await queries.suspended_customer_at(scope.connection, address if _is_ip(address) else None)
        bills = await queries.open_invoices(customer.id) if customer is not None else []
        contact = await queries.operator_contact(operator.id)
        found = await accounts(scope.connection, operator.id, secret_key) if customer and secret_key else {}
    return PortalView(customer, bills, contact, local_today(datetime.now(UTC), operator), enabled_providers(found))


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True
