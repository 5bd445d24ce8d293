"""Online payments, start to end: open a checkout at the operator's gateway, confirm it when the customer's
browser comes back, recheck the ones whose callback was missed, and record each paid checkout exactly once.

State machine of a checkout (``online_payment.status``)::

    pending ──gateway confirms, amount/currency/merchant match──▶ completed (one payment row)
       │ ├──gateway confirms something else (amount, merchant...)──▶ refused (logged, never credited)
       │ └──gateway says cancelled/failed, or no answer for a day──▶ failed / expired
       └──gateway unknown/unreachable──▶ stays pending, its answer kept, rechecked every 30 minutes

Exactly once: ``settle`` takes the customer's lock, then the checkout's row lock, and acts only on a checkout
still pending; the payment's reference is the gateway's transaction id (unique per operator) and the checkout
names its payment (unique). A callback delivered twice, or a callback racing the recheck, credits once. Gateway
calls never run inside a database transaction (a slow gateway must not hold a customer's lock).
"""

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from saq import Queue

from ispb_billing import Money
from ispb_notify import OutboundPolicy
from ispb_platform.billing.suspension.actions import activate_if_paid
from ispb_platform.jobs.queue import run_soon
from ispb_platform.network.routers.commands import kick
from ispb_platform.payments.online import queries
from ispb_platform.payments.online.accounts import (
    IMPLEMENTED,
    GatewayAccount,
    accounts,
    adapter_for,
    enabled_providers,
)
from ispb_platform.payments.online.decision import decide
from ispb_platform.payments.online.gateway import (
    PROVIDER_LABELS,
    Checkout,
    GatewayError,
    NoticeRefused,
    Outcome,
    PaymentGateway,
    Provider,
    Verdict,
    can_recheck,
    returned_pending,
)
from ispb_platform.payments.online.queries import OnlinePaymentRow
from ispb_platform.payments.queries import PaymentMethod, lock_customer
from ispb_platform.payments.service import DuplicatePayment, record_payment
from ispb_tenants import Database, TenantRef

log = logging.getLogger(__name__)

RECHECK_AFTER = timedelta(minutes=5)
"""A checkout younger than this is still in the customer's hands: the recheck leaves it alone."""
RECHECK_BATCH = 500
RECHECK_CONCURRENCY = 8


class CheckoutRefused(Exception):
    """The checkout cannot start; ``str(error)`` is for the customer."""


@dataclass(frozen=True)
class Context:
    """What online payment work needs besides the tenant: the database, the key that opens the credentials,
    where outbound calls may go and the address they come from (``ISPB_PUBLIC_IPV4``), and the queue to tell the
    router at once (None in jobs: the minute job does)."""

    database: Database
    secret_key: str
    policy: OutboundPolicy
    public_ipv4: str | None = None
    queue: Queue | None = None


@dataclass(frozen=True)
class Settled:
    status: str
    recorded: bool = False
    reactivated: bool = False


async def offered(ctx: Context, tenant: TenantRef) -> list[Provider]:
    """The gateways the operator's customers can pay through now."""
    async with ctx.database.tenant(tenant) as scope:
        return enabled_providers(await accounts(scope.connection, tenant.id, ctx.secret_key))


CHECKOUTS_PER_WINDOW, CHECKOUT_WINDOW_MINUTES = 5, 10
"""At most 5 checkouts per customer in 10 minutes (paying, cancelling and trying again stays well inside)."""


async def start_checkout(
    ctx: Context, tenant: TenantRef, customer_id: int, provider: Provider, *, origin: str, site_url: str
) -> str:
    """Open a checkout for what the customer owes; returns the address their browser goes to pay. Raises
    `CheckoutRefused` (nothing owed, gateway off, gateway refused: the checkout is closed with the reason)."""
    async with ctx.database.tenant(tenant) as scope:
        account = (await accounts(scope.connection, tenant.id, ctx.secret_key)).get(provider)
        if account is None or provider not in enabled_providers({provider: account}):
            raise CheckoutRefused(f"{PROVIDER_LABELS[provider]} is not available for payments here.")
        customer = await lock_customer(scope.connection, customer_id)
        if customer.balance_minor <= 0:
            raise CheckoutRefused("You owe nothing now: there is nothing to pay.")
        # each checkout is a call to the gateway; the suspension portal's button is public (by address), so a
        # customer (or a script at their address) can open only a few in a while
        if (
            await queries.checkouts_opened_lately(scope.connection, customer_id, CHECKOUT_WINDOW_MINUTES)
            >= CHECKOUTS_PER_WINDOW
        ):
            raise CheckoutRefused(
                "You started several payments in the last few minutes. Please finish one of them, or try again"
                f" in {CHECKOUT_WINDOW_MINUTES} minutes."
            )
        amount = Money(customer.balance_minor, tenant.currency)
        # 80 random bits in 20 hex digits: unguessable (the result page's address) and a valid order id for
        # every gateway (Nagad takes letters and digits only)
        merchant_ref = secrets.token_hex(10)
        checkout_id = await queries.insert_checkout(
            scope.connection, customer_id, provider, amount, merchant_ref, origin
        )
    callback = f"{site_url.rstrip('/')}/payments/{tenant.slug}/{provider.value}/return/{merchant_ref}"
    try:
        started = await adapter_for(account, ctx.policy, ctx.public_ipv4).start(
            Checkout(merchant_ref, amount, customer.code, customer.phone, callback)
        )
    except GatewayError as error:
        log.warning("checkout %s at %s did not start: %s", merchant_ref, provider.value, error)
        async with ctx.database.tenant(tenant) as scope:
            await queries.close(scope.connection, checkout_id, "failed", f"not started: {error}")
        raise CheckoutRefused(
            f"{PROVIDER_LABELS[provider]} could not start the payment now. Please try again in a few minutes."
        ) from error
    async with ctx.database.tenant(tenant) as scope:
        await queries.set_gateway_ref(scope.connection, checkout_id, started.gateway_ref)
    return started.redirect_url


async def confirm_return(
    ctx: Context, tenant: TenantRef, provider: Provider, merchant_ref: str, returned: Mapping[str, str], today: date
) -> OnlinePaymentRow | None:
    """The customer's browser (or the gateway's notice) came back: confirm the checkout at the gateway, server
    to server, and settle it. Returns the checkout as it ends up (None: no such checkout of this provider)."""
    async with ctx.database.tenant(tenant) as scope:
        checkout = await queries.by_merchant_ref(scope.connection, merchant_ref)
        found = await accounts(scope.connection, tenant.id, ctx.secret_key)
    if checkout is None or checkout.provider is not provider:
        return None
    account = found.get(provider)
    if checkout.status != "pending" or account is None:
        return checkout  # a second delivery of the callback, or a recheck got there first: nothing to do
    pending = returned_pending(checkout.pending, provider, returned)
    try:
        verdict = await adapter_for(account, ctx.policy, ctx.public_ipv4).confirm(pending, dict(returned))
    except GatewayError as error:  # unknown state: the recheck asks again
        verdict = Verdict(Outcome.PENDING, f"confirmation failed: {error}")
    await settle(ctx, tenant, checkout.id, verdict, account.merchant_id, today=today, now=None)
    async with ctx.database.tenant(tenant) as scope:
        return await queries.by_merchant_ref(scope.connection, merchant_ref)


@dataclass(frozen=True)
class NoticeOutcome:
    status: int
    text: str


async def receive_notice(
    ctx: Context,
    tenant: TenantRef,
    provider: Provider,
    body: bytes,
    headers: Mapping[str, str],
    fields: Mapping[str, str],
    today: date,
) -> NoticeOutcome:
    """A gateway's server-to-server notice: its signature checked (a bad one refused and logged), then the
    checkout it names confirmed at the gateway, exactly like a browser's return."""
    async with ctx.database.tenant(tenant) as scope:
        account = (await accounts(scope.connection, tenant.id, ctx.secret_key)).get(provider)
    if account is None or provider not in IMPLEMENTED or not account.complete:
        return NoticeOutcome(404, "no such gateway here")
    try:
        notice = adapter_for(account, ctx.policy, ctx.public_ipv4).notice(body, headers, fields, time.time())
    except GatewayError as error:  # the account's credentials do not load: nothing can be checked
        log.warning("%s notice not read: %s", PROVIDER_LABELS[provider], error)
        return NoticeOutcome(503, "this gateway account cannot be used now")
    except NoticeRefused as refused:
        log.warning("%s notice for %s refused: %s", PROVIDER_LABELS[provider], tenant.slug, refused)
        return NoticeOutcome(400, f"refused: {refused}")
    if notice is None:
        return NoticeOutcome(200, "ignored")
    checkout = await confirm_return(ctx, tenant, provider, notice.merchant_ref, notice.fields, today)
    return NoticeOutcome(200, "unknown checkout" if checkout is None else checkout.status)


async def settle(
    ctx: Context,
    tenant: TenantRef,
    checkout_id: int,
    verdict: Verdict,
    merchant_id: str,
    *,
    today: date,
    now: datetime | None,
) -> Settled:
    """Apply the gateway's verdict to a checkout, once: record the payment (allocated to bills like a cashier
    payment, ``payment.received`` fired) and reactivate a suspended customer whose profile allows it; or close
    it; or keep it pending with the answer. Decides under the customer's and the checkout's locks."""
    async with ctx.database.tenant(tenant) as scope:
        c = scope.connection
        customer_id = await c.fetchval("SELECT customer_id FROM online_payment WHERE id = $1", checkout_id)
        await lock_customer(c, customer_id)
        checkout = await queries.lock_checkout(c, checkout_id)
        label = PROVIDER_LABELS[checkout.provider]
        if checkout.status != "pending":
            return Settled(checkout.status)
        decision = decide(checkout, verdict, merchant_id, now)
        if decision.closes:
            await queries.close(c, checkout_id, decision.status, decision.answer)
            return Settled(decision.status)
        if decision.status == "pending":
            await queries.note_answer(c, [checkout_id], decision.answer)
            return Settled("pending")
        try:
            recorded = await record_payment(
                c,
                customer_id=customer_id,
                amount=checkout.amount,
                method=PaymentMethod.GATEWAY,
                reference=verdict.transaction_id,
                received_on=today,
                received_by=f"{label} (online)",
                note=f"Online payment {checkout.merchant_ref}",
            )
        except DuplicatePayment:
            log.warning("%s transaction %s is already recorded", label, verdict.transaction_id)
            await queries.close(c, checkout_id, "refused", f"transaction {verdict.transaction_id} already recorded")
            return Settled("refused")
        await c.execute(
            # SSLCommerz's answer names no session key: an empty one must not be stored (the unique index)
            "UPDATE online_payment SET gateway_ref = coalesce(gateway_ref, nullif($2, '')) WHERE id = $1",
            checkout_id,
            decision.pending.gateway_ref,
        )
        await queries.complete(c, checkout_id, recorded.payment_id, verdict.transaction_id, verdict.answer)
        change = await activate_if_paid(
            c, tenant, customer_id, today, secret_key=ctx.secret_key, actor=f"system (online payment via {label})"
        )
        if ctx.queue is not None:
            queue = ctx.queue
            if change is not None and change.command_id is not None:
                command_id = change.command_id
                scope.on_commit(lambda: kick(queue, tenant, command_id))
            scope.on_commit(lambda: run_soon(queue, "notify.send_outbox", tenant, "online payment"))
    return Settled("completed", recorded=True, reactivated=change is not None)


def usable_adapters(
    found: Mapping[Provider, GatewayAccount], policy: OutboundPolicy, public_ipv4: str | None
) -> dict[Provider, PaymentGateway]:
    """An adapter per complete account; one whose credentials do not load (a Nagad key) is left out and
    logged, so it holds up no other gateway."""
    adapters: dict[Provider, PaymentGateway] = {}
    for provider, account in found.items():
        if account.complete and provider in IMPLEMENTED:
            try:
                adapters[provider] = adapter_for(account, policy, public_ipv4)
            except GatewayError as error:
                log.warning("%s account cannot be used: %s", PROVIDER_LABELS[provider], error)
    return adapters


async def recheck_pending(ctx: Context, tenant: TenantRef, today: date, now: datetime) -> Counter[str]:
    """``payments.recheck_pending``: ask the gateway about every checkout pending for more than a few minutes
    and settle what it says. A gateway that does not answer leaves its checkouts pending (its answer noted) and
    holds up no other gateway or checkout."""
    async with ctx.database.tenant(tenant) as scope:
        due = await queries.due_for_recheck(scope.connection, now - RECHECK_AFTER, RECHECK_BATCH)
        found = await accounts(scope.connection, tenant.id, ctx.secret_key)
    counts: Counter[str] = Counter(checked=len(due))
    adapters = usable_adapters(found, ctx.policy, ctx.public_ipv4)
    slots = asyncio.Semaphore(RECHECK_CONCURRENCY)

    async def one(checkout: OnlinePaymentRow) -> None:
        adapter = adapters.get(checkout.provider)
        if adapter is None or not can_recheck(checkout.provider, checkout.gateway_ref):
            verdict = Verdict(Outcome.PENDING, "the gateway never opened this checkout" if adapter else "not set up")
        else:
            async with slots:
                try:
                    verdict = await adapter.recheck(checkout.pending)
                except GatewayError as error:
                    counts["unanswered"] += 1
                    verdict = Verdict(Outcome.PENDING, f"recheck failed: {error}")
        merchant_id = adapter.merchant_id if adapter is not None else ""
        settled = await settle(ctx, tenant, checkout.id, verdict, merchant_id, today=today, now=now)
        counts[settled.status] += 1
        counts["reactivated"] += settled.reactivated

    await asyncio.gather(*(one(checkout) for checkout in due))
    return counts
