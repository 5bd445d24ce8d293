"""The customer portal's use cases: the signed-in customer's home, profile and invoice PDFs, and sign-in with a
one-time code.

Signed-in pages run in the customer's own tenant scope (``@in_tenant_scope``: the principal carries it). Before
sign-in the operator comes from the URL, so these use cases open ``db.tenant(operator)`` themselves; so does
the invoice PDF, which reads in a short transaction and is rendered after it (rendering may take a while).
"""

from dataclasses import dataclass
from datetime import datetime

from ispb_platform.auth.throttle import Limit, clear, limits_for, locked_for, record_failure, wait_message
from ispb_platform.billing.invoices.document import InvoiceDocument
from ispb_platform.billing.invoices.service import invoice_document
from ispb_platform.jobs.queue import run_soon
from ispb_platform.portal import otp, queries
from ispb_platform.portal.queries import PortalBill, PortalCustomer
from ispb_platform.runtime import Runtime
from ispb_tenants import Database, TenantRef

SEND_OUTBOX = "notify.send_outbox"


@dataclass(frozen=True)
class Home:
    customer: PortalCustomer
    bills: list[PortalBill]
    payment_instructions: str | None


async def home(tenant: TenantRef, customer_id: int) -> Home | None:
    """The dashboard: the customer, their newest bills and how to pay; None when the customer is gone."""
    customer = await queries.customer(customer_id)
    if customer is None:
        return None
    bills = await queries.recent_bills(customer_id)
    return Home(customer, bills, await queries.payment_instructions(tenant.id))


async def own_invoice(database: Database, tenant: TenantRef, customer_id: int, bill_id: int) -> InvoiceDocument | None:
    """The printable document of one of the customer's own bills; None for anyone else's (or none).

    Opens its own short transaction for the reads, so the caller renders the PDF after it has ended.
    """
    async with database.tenant(tenant) as scope:
        if await queries.bill_owner(bill_id) != customer_id:
            return None
        return await invoice_document(scope.connection, tenant, bill_id)


def _limits(tenant: TenantRef, login: str, ip: str) -> list[Limit]:
    return limits_for(f"otp:{tenant.id}", login, ip)


async def request_code(runtime: Runtime, tenant: TenantRef, login: str, ip: str, now: datetime) -> str | None:
    """Send a one-time code (through the outbox, with the sender asked to run at once after the commit).

    Returns an error for the customer, or None: then the answer must not tell whether the account exists.
    """
    if not login:
        return "Enter your customer id or mobile number."
    if wait := await locked_for(runtime.db, _limits(tenant, login, ip)):
        return wait_message(wait)
    async with runtime.db.tenant(tenant) as db:
        if await otp.send_code(db.connection, tenant, str(runtime.settings.secret_key), login, ip, now):
            db.on_commit(lambda: run_soon(runtime.queue, SEND_OUTBOX, tenant, "otp"))
    return None


async def verify_code(runtime: Runtime, tenant: TenantRef, login: str, code: str, ip: str, now: datetime) -> int | None:
    """The customer whose latest code this is; None (and a failure counted) for a wrong, used or old code."""
    limits = _limits(tenant, login, ip)
    verified = None
    if not await locked_for(runtime.db, limits):
        async with runtime.db.tenant(tenant):
            verified = await otp.verify_code(str(runtime.settings.secret_key), login, code, now)
    if verified is None:
        await record_failure(runtime.db, limits)
        return None
    await clear(runtime.db, limits)
    return verified.customer_id
