"""Subscription use cases for the pages: what the operator's Subscription page and the locked page show, and
the platform admin's plans, assignments, payments and credit notes (each logged in the operator's activity log
in the same transaction)."""

from dataclasses import dataclass
from datetime import date

import asyncpg

from ispb_billing import format_money
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.payments.online.gateway import Provider
from ispb_platform.payments.online.sms_credit import offered
from ispb_platform.subscriptions import queries
from ispb_platform.subscriptions.forms import AssignDraft, PaymentDraft, PlanDraft, SettingsDraft
from ispb_platform.subscriptions.payments import Recorded, credit_bill, record_payment
from ispb_platform.subscriptions.pricing import month_bounds, tier_for, tier_label
from ispb_tenants import Database, TenantRef


@dataclass(frozen=True)
class OperatorView:
    """The operator's Subscription page (and its locked page): plan, counts, SMS this month, bills, ways to pay."""

    subscription: queries.Subscription | None
    count: queries.Count | None
    current_tier: str
    sms_segments: int
    bills: list[queries.Bill]
    providers: list[Provider]
    settings: queries.Settings

    @property
    def unpaid(self) -> list[queries.Bill]:
        """Open bills, the one that locks first (or locked the panel) first."""
        return sorted((b for b in self.bills if b.status == "open"), key=lambda b: (b.lock_on or b.period_end, b.id))


async def operator_view(db: Database, tenant_id: int, today: date) -> OperatorView:
    async with db.platform() as connection:
        subscription = await queries.subscription_of(connection, tenant_id)
        count = await queries.latest_count(connection, tenant_id)
        tier = ""
        if subscription is not None and subscription.plan.tiers:
            tier = tier_label(subscription.plan, tier_for(subscription.plan, count.active if count else 0))
        return OperatorView(
            subscription,
            count,
            tier,
            await queries.sms_segments_since(connection, tenant_id, month_bounds(today)[0]),
            await queries.bills_of(connection, tenant_id),
            await offered(connection),
            await queries.settings(connection),
        )


async def is_operators_bill(db: Database, tenant_id: int, bill_id: int) -> bool:
    async with db.platform() as connection:
        return await queries.get_bill(connection, bill_id, tenant_id) is not None


async def save_plan(connection: asyncpg.Connection, plan_id: int | None, draft: PlanDraft) -> int:
    """Insert or update a plan and replace its tiers; a name another plan has is ``asyncpg.UniqueViolationError``."""
    if plan_id is None:
        plan_id = await connection.fetchval(
            "INSERT INTO platform.subscription_plan (name, pricing, sms_price, trial_days, active)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            draft.name,
            draft.pricing.value,
            draft.sms_price,
            draft.trial_days,
            draft.active,
        )
    else:
        await connection.execute(
            "UPDATE platform.subscription_plan SET name = $2, pricing = $3, sms_price = $4, trial_days = $5,"
            " active = $6, updated_at = now() WHERE id = $1",
            plan_id,
            draft.name,
            draft.pricing.value,
            draft.sms_price,
            draft.trial_days,
            draft.active,
        )
        await connection.execute("DELETE FROM platform.subscription_tier WHERE plan_id = $1", plan_id)
    await connection.executemany(
        "INSERT INTO platform.subscription_tier (plan_id, up_to, price) VALUES ($1, $2, $3)",
        [(plan_id, t.up_to, t.price) for t in draft.tiers],
    )
    return int(plan_id)


async def assign_plan(db: Database, tenant: TenantRef, draft: AssignDraft, actor: Principal | None, ip: str) -> None:
    """Put the operator on a plan (or change its plan, dates or SMS billing); the next bill uses it."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO platform.tenant_subscription (tenant_id, plan_id, started_on, trial_ends_on, sms_billing)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET plan_id = EXCLUDED.plan_id,"
            " started_on = EXCLUDED.started_on, trial_ends_on = EXCLUDED.trial_ends_on,"
            " sms_billing = EXCLUDED.sms_billing, updated_at = now()",
            tenant.id,
            draft.plan_id,
            draft.started_on,
            draft.trial_ends_on,
            draft.sms_billing,
        )
        plan = await scope.connection.fetchval(
            "SELECT name FROM platform.subscription_plan WHERE id = $1", draft.plan_id
        )
        await record_activity(
            scope,
            actor,
            "subscription.plan",
            object_type="operator",
            object_id=tenant.slug,
            summary=f"Subscription plan {plan} from {draft.started_on.isoformat()}, {draft.sms_billing} SMS",
            ip=ip,
        )


async def pay_bill(
    db: Database, tenant: TenantRef, bill: queries.Bill, draft: PaymentDraft, actor: Principal, ip: str
) -> Recorded:
    """The platform admin records a payment; a locked panel reopens in the same transaction when it is settled."""
    async with db.tenant(tenant) as scope:
        recorded = await record_payment(
            scope.connection,
            bill.id,
            draft.amount.minor,
            method=draft.method,
            reference=draft.reference,
            recorded_by=f"{actor.name} <{actor.login}>",
            paid_on=draft.paid_on,
        )
        await record_activity(
            scope,
            actor,
            "subscription.payment",
            object_type="subscription_bill",
            object_id=bill.number or str(bill.id),
            summary=f"Payment of {format_money(draft.amount)} on subscription bill {bill.number} recorded"
            + (", panel reopened" if recorded.reopened else ""),
            ip=ip,
        )
    return recorded


async def void_bill(
    db: Database, tenant: TenantRef, bill: queries.Bill, reason: str, actor: Principal, ip: str, today: date
) -> str:
    async with db.tenant(tenant) as scope:
        number = await credit_bill(scope.connection, bill.id, reason=reason, today=today)
        await record_activity(
            scope,
            actor,
            "subscription.void",
            object_type="subscription_bill",
            object_id=bill.number or str(bill.id),
            summary=f"Subscription bill {bill.number} voided by credit note {number}: {reason}",
            details={"reason": reason},
            ip=ip,
        )
    return number


async def save_settings(connection: asyncpg.Connection, draft: SettingsDraft) -> None:
    await connection.execute(
        "UPDATE platform.subscription_settings SET issuer_name = $1, issuer_address = $2, issuer_phone = $3,"
        " issuer_email = $4, due_day = $5, lock_day = $6, updated_at = now()",
        draft.issuer_name,
        draft.issuer_address,
        draft.issuer_phone,
        draft.issuer_email,
        draft.due_day,
        draft.lock_day,
    )
