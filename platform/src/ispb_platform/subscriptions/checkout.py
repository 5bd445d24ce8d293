"""An operator pays a subscription bill online, through the platform's own gateway account.

The rules of an SMS credit purchase (``payments/online/sms_credit.py``), on ``subscription_checkout``: a checkout
row is written before the gateway is called and never inside a transaction that calls out; the payment is
recorded only after the gateway confirmed it server to server, under the checkout's row lock, once (its status
and the unique gateway transaction id), and through ``payments.record_payment`` in the same transaction, which
reopens a locked panel at once. ``payments.recheck_sms_purchases`` also asks about pending checkouts here.
"""

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from ispb_billing import Money
from ispb_platform.payments.online.accounts import PLATFORM_ACCOUNTS, accounts, adapter_for
from ispb_platform.payments.online.decision import decide
from ispb_platform.payments.online.gateway import (
    PROVIDER_LABELS,
    Checkout,
    GatewayError,
    NoticeRefused,
    Outcome,
    Pending,
    Provider,
    Verdict,
)
from ispb_platform.payments.online.service import (
    RECHECK_AFTER,
    RECHECK_BATCH,
    RECHECK_CONCURRENCY,
    CheckoutRefused,
    Context,
    NoticeOutcome,
    usable_adapters,
)
from ispb_platform.payments.online.sms_credit import platform_account
from ispb_platform.subscriptions.payments import PaymentRefused, record_payment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paying:
    id: int
    tenant_id: int
    bill_id: int
    provider: Provider
    amount: Money
    merchant_ref: str
    gateway_ref: str | None
    status: str
    last_answer: str
    created_at: datetime

    @property
    def pending(self) -> Pending:
        return Pending(self.merchant_ref, self.gateway_ref or "", self.amount)


_COLUMNS = (
    "id, tenant_id, bill_id, provider, amount_minor, currency, merchant_ref, gateway_ref, status, last_answer,"
    " created_at"
)


def _paying(row: asyncpg.Record) -> Paying:
    return Paying(
        row["id"],
        row["tenant_id"],
        row["bill_id"],
        Provider(row["provider"]),
        Money(int(row["amount_minor"]), row["currency"]),
        row["merchant_ref"],
        row["gateway_ref"],
        row["status"],
        row["last_answer"],
        row["created_at"],
    )


async def by_ref(connection: asyncpg.Connection, merchant_ref: str) -> Paying | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM platform.subscription_checkout WHERE merchant_ref = $1",  # noqa: S608
        merchant_ref,
    )
    return None if row is None else _paying(row)


async def start(
    ctx: Context, tenant_id: int, slug: str, bill_id: int, provider: Provider, *, started_by: str, site_url: str
) -> str:
    """Open a checkout for what is due on one of the operator's bills; returns where the browser goes."""
    account = await platform_account(ctx, provider)
    if account is None:
        raise CheckoutRefused(f"{PROVIDER_LABELS[provider]} is not available for paying subscription bills.")
    async with ctx.database.platform() as connection:
        bill = await connection.fetchrow(
            "SELECT total_minor - paid_minor AS due, currency, status FROM subscription_bill"
            " WHERE id = $1 AND tenant_id = $2 AND kind <> 'credit_note'",
            bill_id,
            tenant_id,
        )
        if bill is None or bill["status"] != "open" or bill["due"] <= 0:
            raise CheckoutRefused("This bill has nothing left to pay.")
        merchant_ref = secrets.token_hex(10)
        checkout_id = await connection.fetchval(
            "INSERT INTO subscription_checkout (tenant_id, bill_id, provider, amount_minor, currency, merchant_ref,"
            " started_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            tenant_id,
            bill_id,
            provider.value,
            bill["due"],
            bill["currency"],
            merchant_ref,
            started_by,
        )
    callback = f"{site_url.rstrip('/')}/subscription-pay/{provider.value}/return/{merchant_ref}"
    amount = Money(int(bill["due"]), bill["currency"])
    try:
        adapter = adapter_for(account, ctx.policy, ctx.public_ipv4)
        started = await adapter.start(Checkout(merchant_ref, amount, slug, "", callback))
    except GatewayError as error:
        log.warning("subscription checkout %s at %s did not start: %s", merchant_ref, provider.value, error)
        await _close(ctx, checkout_id, "failed", f"not started: {error}")
        raise CheckoutRefused(f"{PROVIDER_LABELS[provider]} could not start the payment now.") from error
    async with ctx.database.platform() as connection:
        await connection.execute(
            "UPDATE subscription_checkout SET gateway_ref = $2 WHERE id = $1 AND gateway_ref IS NULL",
            checkout_id,
            started.gateway_ref,
        )
    return started.redirect_url


async def confirm(ctx: Context, provider: Provider, merchant_ref: str, returned: dict[str, str]) -> Paying | None:
    """The browser (or a notice) came back: confirm at the gateway, record the payment once."""
    async with ctx.database.platform() as connection:
        paying = await by_ref(connection, merchant_ref)
    if paying is None or paying.provider is not provider:
        return None
    account = await platform_account(ctx, provider)
    if paying.status != "pending" or account is None:
        return paying
    pending = paying.pending
    if not pending.gateway_ref:
        pending = Pending(pending.merchant_ref, returned.get("paymentID", ""), pending.amount)
    try:
        verdict = await adapter_for(account, ctx.policy, ctx.public_ipv4).confirm(pending, dict(returned))
    except GatewayError as error:
        verdict = Verdict(Outcome.PENDING, f"confirmation failed: {error}")
    await settle(ctx, paying.id, verdict, account.merchant_id, now=None)
    async with ctx.database.platform() as connection:
        return await by_ref(connection, merchant_ref)


async def settle(ctx: Context, checkout_id: int, verdict: Verdict, merchant_id: str, *, now: datetime | None) -> str:
    """Apply the gateway's verdict under the checkout's row lock: record the payment once, or close, or note."""
    async with ctx.database.platform() as connection:
        row = await connection.fetchrow(
            f"SELECT {_COLUMNS} FROM subscription_checkout WHERE id = $1 FOR UPDATE",  # noqa: S608
            checkout_id,
        )
        assert row is not None, "a checkout is never deleted while pending"
        paying = _paying(row)
        if paying.status != "pending":
            return paying.status
        decision = decide(paying, verdict, merchant_id, now)
        status, answer, pending = decision.status, decision.answer, decision.pending
        if status == "completed":
            answer = await _record(connection, paying, verdict, answer)
        await connection.execute(
            "UPDATE subscription_checkout SET status = $2, last_answer = $3, checked_at = now(),"
            " closed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END, checks = checks + 1,"
            " transaction_id = $4, gateway_ref = coalesce(gateway_ref, nullif($5, '')) WHERE id = $1",
            checkout_id,
            status,
            answer,
            verdict.transaction_id if status == "completed" else None,
            pending.gateway_ref,
        )
    return status


async def _record(connection: asyncpg.Connection, paying: Paying, verdict: Verdict, answer: str) -> str:
    """Record the confirmed payment on its bill; a bill paid meanwhile (by the admin) keeps the money noted."""
    async with connection.transaction():  # a savepoint: a refused payment leaves the checkout's update possible
        try:
            await record_payment(
                connection,
                paying.bill_id,
                paying.amount.minor,
                method=paying.provider.value,
                reference=verdict.transaction_id,
                recorded_by=f"{PROVIDER_LABELS[paying.provider]} checkout {paying.merchant_ref}",
                paid_on=(await connection.fetchval("SELECT current_date")),
                transaction_id=verdict.transaction_id,
            )
        except PaymentRefused as refused:
            log.warning("subscription checkout %s paid but not recorded: %s", paying.merchant_ref, refused)
            return f"paid, not recorded on the bill ({refused}): refund it; {answer}"
    return answer


async def _close(ctx: Context, checkout_id: int, status: str, answer: str) -> None:
    async with ctx.database.platform() as connection:
        await connection.execute(
            "UPDATE subscription_checkout SET status = $2, last_answer = $3, closed_at = now()"
            " WHERE id = $1 AND status = 'pending'",
            checkout_id,
            status,
            answer,
        )


async def recheck(ctx: Context, now: datetime) -> Counter[str]:
    """Pending checkouts older than a few minutes asked about again (with the SMS credit purchases' job)."""
    async with ctx.database.platform() as connection:
        rows = await connection.fetch(
            f"SELECT {_COLUMNS} FROM subscription_checkout WHERE status = 'pending'"  # noqa: S608
            " AND created_at < $1 ORDER BY checked_at NULLS FIRST, id LIMIT $2",
            now - RECHECK_AFTER,
            RECHECK_BATCH,
        )
        found = await accounts(connection, PLATFORM_ACCOUNTS, ctx.secret_key)
    due = [_paying(r) for r in rows]
    counts: Counter[str] = Counter(bills_checked=len(due))
    adapters = usable_adapters(found, ctx.policy, ctx.public_ipv4)
    slots = asyncio.Semaphore(RECHECK_CONCURRENCY)

    async def one(paying: Paying) -> None:
        adapter = adapters.get(paying.provider)
        verdict = Verdict(Outcome.PENDING, "not set up" if adapter is None else "the gateway never opened it")
        if adapter is not None and paying.gateway_ref:
            async with slots:
                try:
                    verdict = await adapter.recheck(paying.pending)
                except GatewayError as error:
                    verdict = Verdict(Outcome.PENDING, f"recheck failed: {error}")
        merchant = adapter.merchant_id if adapter is not None else ""
        counts[f"bills_{await settle(ctx, paying.id, verdict, merchant, now=now)}"] += 1

    await asyncio.gather(*(one(paying) for paying in due))
    return counts


async def receive_notice(
    ctx: Context, provider: Provider, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str]
) -> NoticeOutcome:
    """A gateway's server-to-server notice (IPN, webhook) about a checkout: believed only after confirming it."""
    account = await platform_account(ctx, provider)
    if account is None:
        return NoticeOutcome(404, "no such gateway here")
    try:
        notice = adapter_for(account, ctx.policy, ctx.public_ipv4).notice(body, headers, fields, time.time())
    except GatewayError as error:
        log.warning("%s notice not read: %s", PROVIDER_LABELS[provider], error)
        return NoticeOutcome(503, "this gateway account cannot be used now")
    except NoticeRefused as refused:
        log.warning("%s notice for a subscription checkout refused: %s", PROVIDER_LABELS[provider], refused)
        return NoticeOutcome(400, f"refused: {refused}")
    if notice is None:
        return NoticeOutcome(200, "ignored")
    paying = await confirm(ctx, provider, notice.merchant_ref, dict(notice.fields))
    return NoticeOutcome(200, "unknown checkout" if paying is None else paying.status)
