"""``ispb demo``: a platform with two operators, their packages, a few hundred customers each, and logins.

Idempotent: running the demo again keeps what exists (and whatever the visitor changed) and only adds what
is missing.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ispb_billing import Money
from ispb_platform.auth.passwords import hash_password
from ispb_platform.demo.backups import prepare_backups
from ispb_platform.demo.monitoring import prepare_monitoring
from ispb_platform.demo.notifications import mark_history_told, prepare_notifications
from ispb_platform.demo.olts import prepare_olts
from ispb_platform.demo.online_payments import prepare_online_payments
from ispb_platform.demo.router import ROUTER_NAME, prepare_router
from ispb_platform.demo.seed import assign_prepaid_profile, ensure_packages, seed_customers
from ispb_platform.demo.subscriptions import prepare_subscriptions
from ispb_platform.demo.traffic import prepare_fair_usage
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute, local_today
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_tenants import Database, TenantRef, TenantScope, ensure_tenant
from ispb_tenants.tables.platform import UserRole


@dataclass(frozen=True)
class DemoOperator:
    slug: str
    name: str
    seed: int


@dataclass(frozen=True)
class DemoLogin:
    role: str
    login: str
    password: str
    where: str


DEMO_OPERATORS = (
    DemoOperator("dhaka-fiber", "Dhaka Fiber Net", seed=1),
    DemoOperator("padma-link", "Padma Link Broadband", seed=2),
)
DEMO_CONTACT = {
    "dhaka-fiber": ("House 12, Road 5, Mirpur 10, Dhaka 1216", "09610-100200", "billing@dhaka-fiber.test"),
    "padma-link": ("Station Road, Rajbari 7700", "09610-300400", "hello@padma-link.test"),
}
PLATFORM_ADMIN = DemoLogin("platform admin", "admin@ispb.test", "demo-admin-pass", "admin console")
CUSTOMER_PASSWORD = "demo-customer-pass"  # noqa: S105 (printed by ispb demo on purpose)
PORTAL_CUSTOMERS = 20  # the first customers of each demo operator can sign in to the portal


def operator_login(operator: DemoOperator) -> DemoLogin:
    return DemoLogin(
        "operator admin",
        f"owner@{operator.slug}.test",
        "demo-operator-pass",
        f"operator panel of {operator.name}",
    )


async def prepare_demo(
    db: Database,
    *,
    secret_key: str,
    customers_per_operator: int = 300,
    sms_gateway_url: str = "",
    payment_gateway_url: str = "",
    web_url: str = "",
    zabbix_url: str = "",
    data_dir: Path | None = None,
) -> list[DemoLogin]:
    logins = [PLATFORM_ADMIN]
    tenants: list[TenantRef] = []
    await _ensure_user(db, PLATFORM_ADMIN, "Platform Admin", UserRole.PLATFORM_ADMIN, None)
    for operator in DEMO_OPERATORS:
        tenant = await ensure_tenant(db, operator.slug, operator.name)
        tenants.append(tenant)
        async with db.tenant(tenant) as scope:
            await ensure_packages(scope)
            existing = await scope.connection.fetchval("SELECT count(*) FROM customer")
            if existing == 0:
                await seed_customers(scope, customers_per_operator, seed=operator.seed)
                await scope.connection.execute(
                    "INSERT INTO activity_log (actor, action, object_type, summary) VALUES ($1, $2, $3, $4)",
                    "system",
                    "demo.seeded",
                    "customer",
                    f"Demo data: {customers_per_operator} customers",
                )
            await assign_prepaid_profile(scope)  # also fixes a demo seeded before validity packages went daily
            await _enable_portal(scope)
        await _contact_details(db, tenant)
        await prepare_router(db, tenant, secret_key)
        await prepare_olts(db, tenant, secret_key)
        if web_url:
            await prepare_monitoring(
                db, tenant, secret_key=secret_key, web_url=web_url, zabbix_url=zabbix_url, router_name=ROUTER_NAME
            )
        await prepare_fair_usage(db, tenant, local_today(datetime.now(UTC), tenant))
        if sms_gateway_url:
            await prepare_notifications(db, tenant, sms_gateway_url)
        # last month's and this month's bills, made by the real job (its run records show under Automation);
        # a few customers never paid last month: billing.auto_suspend ("Run now") suspends them on the router
        today = local_today(datetime.now(UTC), tenant)
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        job = get_job("billing.generate_bills")
        fresh = await _no_bills_yet(db, tenant)
        if fresh:
            await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="demo-last-month", today=last_month)
            await _demo_payments(db, tenant, period_before=today.replace(day=1), paid_on=last_month + timedelta(days=5))
        await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="demo")
        await _demo_payments(db, tenant, period_before=None, paid_on=today)
        if fresh:
            await mark_history_told(db, tenant)
        if payment_gateway_url:  # after the bills: C000003 owes last month's bill, C000013's payment is lost
            await prepare_online_payments(db, tenant, secret_key, payment_gateway_url)
        # the Overview's charts read precomputed tables: count the demo's months now rather than at the next hour
        for report in ("reports.bills_vs_payments", "reports.yearly_summary"):
            await execute(db, get_job(report), tenant=tenant, trigger=Trigger.MANUAL, key="demo")
        login = operator_login(operator)
        await _ensure_user(db, login, f"{operator.name} owner", UserRole.OPERATOR_ADMIN, tenant)
        logins.append(login)
        logins.append(DemoLogin("customer", "C000001", CUSTOMER_PASSWORD, f"/portal/{operator.slug}/"))
    # the platform bills its operators: last two months' bills, Padma Link's older one unpaid (the lock to try)
    await prepare_subscriptions(db, tenants)
    if data_dir is not None:
        await prepare_backups(db, tenants, secret_key=secret_key, data_dir=data_dir)
    return logins


async def _contact_details(db: Database, tenant: TenantRef) -> None:
    address, phone, email = DEMO_CONTACT.get(tenant.slug, ("", "", ""))
    await db.pool.execute(
        "UPDATE platform.tenant SET address = $2, phone = $3, email = $4 WHERE id = $1 AND address = ''",
        tenant.id,
        address,
        phone,
        email,
    )


async def _no_bills_yet(db: Database, tenant: TenantRef) -> bool:
    async with db.tenant(tenant) as scope:
        return not await scope.connection.fetchval("SELECT count(*) FROM bill")


async def _demo_payments(db: Database, tenant: TenantRef, *, period_before: date | None, paid_on: date) -> None:
    """Once per period: last month nearly everyone paid (except customers ``id % 10 == 3``: overdue now);
    this month about a third have paid in full and a few in part. Never for the overdue ones, whose
    payment is the operator's to record in the demo."""
    async with db.tenant(tenant) as scope:
        if await scope.connection.fetchval("SELECT count(*) FROM payment WHERE received_on = $1", paid_on):
            return
        owing = await scope.connection.fetch(
            "SELECT customer_id, total_minor FROM bill WHERE status = 'open' AND kind = 'invoice'"
            " AND ($1::date IS NULL OR period_start < $1) AND customer_id % 10 <> 3 ORDER BY customer_id",
            period_before,
        )
        for n, bill in enumerate(owing):
            everyone = period_before is not None
            if everyone or n % 3 == 1 or n % 7 == 5:
                amount = bill["total_minor"] if everyone or n % 3 == 1 else bill["total_minor"] // 2
                await record_payment(
                    scope.connection,
                    customer_id=bill["customer_id"],
                    amount=Money(int(amount), tenant.currency),
                    method=PaymentMethod.MOBILE_MONEY if n % 2 else PaymentMethod.CASH,
                    reference=f"DEMO{paid_on:%y%m}{n:05d}" if n % 2 else "",
                    received_on=paid_on,
                    received_by="demo",
                )


async def _enable_portal(scope: TenantScope) -> None:
    """One hash for all demo customers: hashing twenty times would only slow the demo's start."""
    missing = await scope.connection.fetchval(
        "SELECT count(*) FROM customer WHERE id <= $1 AND password_hash IS NULL", PORTAL_CUSTOMERS
    )
    if missing:
        await scope.connection.execute(
            "UPDATE customer SET password_hash = $2 WHERE id <= $1 AND password_hash IS NULL",
            PORTAL_CUSTOMERS,
            hash_password(CUSTOMER_PASSWORD),
        )


async def _ensure_user(db: Database, login: DemoLogin, name: str, role: UserRole, tenant: TenantRef | None) -> None:
    async with db.platform() as connection:
        exists = await connection.fetchval("SELECT 1 FROM platform_user WHERE lower(email) = lower($1)", login.login)
        if exists:
            return
        await connection.execute(
            "INSERT INTO platform_user (email, name, password_hash, role, tenant_id) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT DO NOTHING",
            login.login,
            name,
            hash_password(login.password),
            role.value,
            tenant.id if tenant else None,
        )
