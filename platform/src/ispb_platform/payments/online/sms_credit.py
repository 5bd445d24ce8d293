"""Operators buy SMS credit from the platform, online, through the platform's own gateway accounts.

The same rules as a customer's checkout (``service.py``), on platform tables: a purchase is credited only after
the gateway confirmed it server to server, under the purchase's row lock, once (the purchase's status and the
unique gateway transaction id), and ``payments.recheck_sms_purchases`` asks about pending ones every 2 hours.
Credit lands on ``platform.tenant.sms_credit`` in the same transaction that completes the purchase.
"""

import asyncio
import logging
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ispb_billing import Money
from ispb_platform.payments.online.accounts import (
    IMPLEMENTED,
    PLATFORM_ACCOUNTS,
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
    Pending,
    Provider,
    Verdict,
    can_recheck,
    returned_pending,
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
from ispb_tenants import TenantRef
from ispb_tenants.tables import PlatformPaymentGateway, SmsCreditPack, SmsCreditPurchase

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pack:
    id: int
    segments: int
    price: Money


@dataclass(frozen=True)
class Purchase:
    id: int
    tenant_id: int
    provider: Provider
    segments: int
    amount: Money
    merchant_ref: str
    gateway_ref: str | None
    transaction_id: str | None
    status: str
    last_answer: str
    created_at: datetime

    @property
    def pending(self) -> Pending:
        return Pending(self.merchant_ref, self.gateway_ref or "", self.amount)


_COLUMNS = (
    "id, tenant_id, provider, segments, amount_minor, currency, merchant_ref, gateway_ref, transaction_id, status,"
    " last_answer, created_at"
)


def _purchase(row: Mapping[str, Any] | asyncpg.Record) -> Purchase:
    return Purchase(
        row["id"],
        row["tenant_id"],
        Provider(row["provider"]),
        row["segments"],
        Money(int(row["amount_minor"]), row["currency"]),
        row["merchant_ref"],
        row["gateway_ref"],
        row["transaction_id"],
        row["status"],
        row["last_answer"],
        row["created_at"],
    )


async def packs(connection: asyncpg.Connection) -> list[Pack]:
    rows = await connection.fetch(
        "SELECT id, segments, price_minor, currency FROM platform.sms_credit_pack WHERE active ORDER BY segments"
    )
    return [Pack(r["id"], r["segments"], Money(int(r["price_minor"]), r["currency"])) for r in rows]


async def offered(connection: asyncpg.Connection) -> list[Provider]:
    """The platform's gateways switched on with credentials stored (no key needed to tell)."""
    rows = await connection.fetch(
        "SELECT provider FROM platform.payment_gateway WHERE enabled AND merchant_id <> ''"
        " AND secret_sealed IS NOT NULL ORDER BY provider"
    )
    return [Provider(r["provider"]) for r in rows if Provider(r["provider"]) in IMPLEMENTED]


async def recent(connection: asyncpg.Connection, tenant_id: int, limit: int = 10) -> list[Purchase]:
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM platform.sms_credit_purchase WHERE tenant_id = $1"  # noqa: S608 (constant columns)
        " ORDER BY created_at DESC, id DESC LIMIT $2",
        tenant_id,
        limit,
    )
    return [_purchase(r) for r in rows]


async def by_ref(connection: asyncpg.Connection, merchant_ref: str) -> Purchase | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM platform.sms_credit_purchase WHERE merchant_ref = $1",  # noqa: S608
        merchant_ref,
    )
    return None if row is None else _purchase(row)


async def platform_account(ctx: Context, provider: Provider) -> GatewayAccount | None:
    """The platform's own account at ``provider``, when switched on (SMS credit, subscription bills)."""
    async with ctx.database.platform() as connection:
        found = await accounts(connection, PLATFORM_ACCOUNTS, ctx.secret_key)
    account = found.get(provider)
    return account if account is not None and provider in enabled_providers(found) else None


async def start_purchase(
    ctx: Context, tenant: TenantRef, pack_id: int, provider: Provider, *, bought_by: str, site_url: str
) -> str:
    """Open a checkout at the platform's gateway for one pack; returns where the operator's browser goes."""
    account = await platform_account(ctx, provider)
    if account is None:
        raise CheckoutRefused(f"{PROVIDER_LABELS[provider]} is not available for buying SMS credit.")
    async with ctx.database.platform() as connection:
        pack = next((p for p in await packs(connection) if p.id == pack_id), None)
        if pack is None:
            raise CheckoutRefused("Choose one of the SMS credit packs.")
        merchant_ref = secrets.token_hex(10)
        purchase_id = await connection.fetchval(
            "INSERT INTO platform.sms_credit_purchase (tenant_id, provider, segments, amount_minor, currency,"
            " merchant_ref, bought_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            tenant.id,
            provider.value,
            pack.segments,
            pack.price.minor,
            pack.price.currency,
            merchant_ref,
            bought_by,
        )
    callback = f"{site_url.rstrip('/')}/sms-credit/{provider.value}/return/{merchant_ref}"
    try:
        started = await adapter_for(account, ctx.policy, ctx.public_ipv4).start(
            Checkout(merchant_ref, pack.price, tenant.slug, "", callback)
        )
    except GatewayError as error:
        log.warning("SMS credit purchase %s at %s did not start: %s", merchant_ref, provider.value, error)
        await _close(ctx, purchase_id, "failed", f"not started: {error}")
        raise CheckoutRefused(f"{PROVIDER_LABELS[provider]} could not start the payment now.") from error
    async with ctx.database.platform() as connection:
        await connection.execute(
            "UPDATE platform.sms_credit_purchase SET gateway_ref = $2 WHERE id = $1 AND gateway_ref IS NULL",
            purchase_id,
            started.gateway_ref,
        )
    return started.redirect_url


async def confirm_purchase(
    ctx: Context, provider: Provider, merchant_ref: str, returned: Mapping[str, str]
) -> Purchase | None:
    """The browser (or a notice) came back: confirm at the gateway, credit once. None: no such purchase."""
    async with ctx.database.platform() as connection:
        purchase = await by_ref(connection, merchant_ref)
    account = await platform_account(ctx, provider)
    if purchase is None or purchase.provider is not provider:
        return None
    if purchase.status != "pending" or account is None:
        return purchase
    pending = returned_pending(purchase.pending, provider, returned)
    try:
        verdict = await adapter_for(account, ctx.policy, ctx.public_ipv4).confirm(pending, dict(returned))
    except GatewayError as error:
        verdict = Verdict(Outcome.PENDING, f"confirmation failed: {error}")
    await settle_purchase(ctx, purchase.id, verdict, account.merchant_id, now=None)
    async with ctx.database.platform() as connection:
        return await by_ref(connection, merchant_ref)


async def receive_purchase_notice(
    ctx: Context, provider: Provider, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str]
) -> NoticeOutcome:
    account = await platform_account(ctx, provider)
    if account is None:
        return NoticeOutcome(404, "no such gateway here")
    try:
        notice = adapter_for(account, ctx.policy, ctx.public_ipv4).notice(body, headers, fields, time.time())
    except GatewayError as error:  # the account's credentials do not load: nothing can be checked
        log.warning("%s notice not read: %s", PROVIDER_LABELS[provider], error)
        return NoticeOutcome(503, "this gateway account cannot be used now")
    except NoticeRefused as refused:
        log.warning("%s notice for an SMS credit purchase refused: %s", PROVIDER_LABELS[provider], refused)
        return NoticeOutcome(400, f"refused: {refused}")
    if notice is None:
        return NoticeOutcome(200, "ignored")
    purchase = await confirm_purchase(ctx, provider, notice.merchant_ref, notice.fields)
    return NoticeOutcome(200, "unknown purchase" if purchase is None else purchase.status)


async def settle_purchase(
    ctx: Context, purchase_id: int, verdict: Verdict, merchant_id: str, *, now: datetime | None
) -> str:
    """Apply the gateway's verdict under the purchase's row lock: credit the operator once, or close, or note."""
    async with ctx.database.platform() as connection:
        row = await connection.fetchrow(
            f"SELECT {_COLUMNS} FROM platform.sms_credit_purchase WHERE id = $1 FOR UPDATE",  # noqa: S608
            purchase_id,
        )
        assert row is not None, "a purchase is never deleted while pending"
        purchase = _purchase(row)
        if purchase.status != "pending":
            return purchase.status
        decision = decide(purchase, verdict, merchant_id, now)
        status, answer, pending = decision.status, decision.answer, decision.pending
        if status == "completed":
            await connection.execute(
                "UPDATE platform.tenant SET sms_credit = sms_credit + $2 WHERE id = $1",
                purchase.tenant_id,
                purchase.segments,
            )
        if status == "pending":
            await connection.execute(
                "UPDATE platform.sms_credit_purchase SET last_answer = $2, checked_at = now(), checks = checks + 1"
                " WHERE id = $1",
                purchase_id,
                answer,
            )
        else:
            await connection.execute(
                "UPDATE platform.sms_credit_purchase SET status = $2, last_answer = $3, checked_at = now(),"
                " closed_at = now(), checks = checks + 1, transaction_id = $4,"
                " gateway_ref = coalesce(gateway_ref, nullif($5, '')) WHERE id = $1",
                purchase_id,
                status,
                answer,
                verdict.transaction_id if status == "completed" else None,
                pending.gateway_ref,
            )
    return status


async def _close(ctx: Context, purchase_id: int, status: str, answer: str) -> None:
    async with ctx.database.platform() as connection:
        await connection.execute(
            "UPDATE platform.sms_credit_purchase SET status = $2, last_answer = $3, closed_at = now()"
            " WHERE id = $1 AND status = 'pending'",
            purchase_id,
            status,
            answer,
        )


async def recheck_purchases(ctx: Context, now: datetime) -> Counter[str]:
    """``payments.recheck_sms_purchases``: pending purchases older than a few minutes asked about again."""
    async with ctx.database.platform() as connection:
        rows = await connection.fetch(
            f"SELECT {_COLUMNS} FROM platform.sms_credit_purchase WHERE status = 'pending'"  # noqa: S608
            " AND created_at < $1 ORDER BY checked_at NULLS FIRST, id LIMIT $2",
            now - RECHECK_AFTER,
            RECHECK_BATCH,
        )
        found = await accounts(connection, PLATFORM_ACCOUNTS, ctx.secret_key)
    due = [_purchase(r) for r in rows]
    counts: Counter[str] = Counter(checked=len(due))
    adapters = usable_adapters(found, ctx.policy, ctx.public_ipv4)
    slots = asyncio.Semaphore(RECHECK_CONCURRENCY)

    async def one(purchase: Purchase) -> None:
        adapter = adapters.get(purchase.provider)
        verdict = Verdict(Outcome.PENDING, "not set up" if adapter is None else "the gateway never opened it")
        if adapter is not None and can_recheck(purchase.provider, purchase.gateway_ref):
            async with slots:
                try:
                    verdict = await adapter.recheck(purchase.pending)
                except GatewayError as error:
                    counts["unanswered"] += 1
                    verdict = Verdict(Outcome.PENDING, f"recheck failed: {error}")
        merchant = adapter.merchant_id if adapter is not None else ""
        counts[await settle_purchase(ctx, purchase.id, verdict, merchant, now=now)] += 1

    await asyncio.gather(*(one(purchase) for purchase in due))
    return counts


@dataclass(frozen=True)
class SmsOffer:
    """What the SMS Gateway Setup page offers: packs, the platform's gateways, the operator's purchases."""

    packs: list[Pack]
    providers: list[Provider]
    purchases: list[Purchase]


async def offer(tenant_id: int) -> SmsOffer:
    """Read in the caller's (tenant) transaction through Piccolo: the platform tables are on its search path."""
    pack_rows = await (
        SmsCreditPack.select(
            SmsCreditPack.id, SmsCreditPack.segments, SmsCreditPack.price_minor, SmsCreditPack.currency
        )
        .where(SmsCreditPack.active.eq(True))
        .order_by(SmsCreditPack.segments)
    )
    gateways = await PlatformPaymentGateway.select(PlatformPaymentGateway.provider).where(
        PlatformPaymentGateway.enabled.eq(True)
        & (PlatformPaymentGateway.merchant_id != "")
        & PlatformPaymentGateway.secret_sealed.is_not_null()
    )
    purchase_rows = await (
        SmsCreditPurchase.select(*_PURCHASE_COLUMNS, SmsCreditPurchase.tenant.as_alias("tenant_id"))
        .where(SmsCreditPurchase.tenant == tenant_id)
        .order_by(SmsCreditPurchase.created_at, ascending=False)
        .limit(10)
    )
    return SmsOffer(
        [Pack(r["id"], r["segments"], Money(int(r["price_minor"]), r["currency"])) for r in pack_rows],
        [Provider(g["provider"]) for g in gateways if Provider(g["provider"]) in IMPLEMENTED],
        [_purchase(r) for r in purchase_rows],
    )


_PURCHASE_COLUMNS = tuple(
    getattr(SmsCreditPurchase, name.strip()) for name in _COLUMNS.split(",") if name.strip() != "tenant_id"
)
