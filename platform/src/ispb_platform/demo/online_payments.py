"""The demo's online payments: every demo operator takes bKash payments through the demo gateway
(``payment_gateway.py``), the platform sells SMS credit through it, customer C000003 of Dhaka Fiber Net is
suspended at the demo machine's address (so the suspension portal, opened on that machine, is theirs), and one
customer's payment is waiting whose callback was lost (``payments.recheck_pending`` captures it)."""

from datetime import UTC, datetime, timedelta

from ispb_billing import Money
from ispb_platform.billing.suspension.actions import suspend
from ispb_platform.demo import payment_gateway
from ispb_platform.payments.online.accounts import PLATFORM_ACCOUNTS, GatewayAccount, accounts, save_account
from ispb_platform.payments.online.gateway import Provider, to_decimal
from ispb_tenants import Connection, Database, TenantRef

SUSPENDED_CODE = "C000003"
"""The demo's suspended customer who pays from the suspension portal (as the issue's demo asks)."""
LOST_CALLBACK_CODE = "C000013"
DEMO_ADDRESS = "127.0.0.1"
LOST_AGE = timedelta(minutes=40)
"""How long ago the lost payment was made: past the recheck's 5 minutes, so the next run captures it."""


def _account(url: str) -> GatewayAccount:
    return GatewayAccount(Provider.BKASH, True, "sandbox", url, payment_gateway.APP_KEY, payment_gateway.credentials())


async def prepare_online_payments(db: Database, tenant: TenantRef, secret_key: str, gateway_url: str) -> None:
    """Idempotent: a gateway set up by hand is kept; the suspension and the lost payment are made once."""
    async with db.platform() as connection:
        if Provider.BKASH not in await accounts(connection, PLATFORM_ACCOUNTS, secret_key):
            await save_account(connection, PLATFORM_ACCOUNTS, secret_key, _account(gateway_url))
    async with db.tenant(tenant) as scope:
        c = scope.connection
        if Provider.BKASH not in await accounts(c, tenant.id, secret_key):
            await save_account(c, tenant.id, secret_key, _account(gateway_url))
        else:  # the demo's port may differ from the last start
            await c.execute(
                "UPDATE payment_gateway SET base_url = $1 WHERE provider = 'bkash' AND base_url LIKE 'http://%/demo/bkash/%'",
                gateway_url,
            )
        if tenant.slug != "dhaka-fiber":
            return
        await _suspend_at_demo_address(c, secret_key)
        await _lost_callback(c, tenant)


async def _suspend_at_demo_address(connection: Connection, secret_key: str) -> None:
    row = await connection.fetchrow(
        "SELECT c.id, c.status, coalesce(a.balance_minor, 0) AS owed FROM customer c"
        " LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.code = $1",
        SUSPENDED_CODE,
    )
    if row is None or row["owed"] <= 0:
        return
    await connection.execute(
        "UPDATE customer SET ip_address = $2 WHERE id = $1 AND ip_address IS NULL", row["id"], DEMO_ADDRESS
    )
    if row["status"] == "active" and not await connection.fetchval(
        "SELECT 1 FROM suspension_log WHERE customer_id = $1", row["id"]
    ):
        await suspend(
            connection,
            row["id"],
            secret_key=secret_key,
            actor="demo",
            reason="Demo: last month's bill is overdue (pay it from the suspension portal)",
            rule="manual",
        )


async def _lost_callback(connection: Connection, tenant: TenantRef) -> None:
    row = await connection.fetchrow(
        "SELECT c.id, coalesce(a.balance_minor, 0) AS owed FROM customer c"
        " LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.code = $1",
        LOST_CALLBACK_CODE,
    )
    if row is None or row["owed"] <= 0:
        return
    if await connection.fetchval("SELECT 1 FROM online_payment WHERE customer_id = $1", row["id"]):
        return
    invoice = "d" * 4 + f"{row['id']:016x}"
    amount = Money(int(row["owed"]), tenant.currency)
    await connection.execute(
        "INSERT INTO online_payment (customer_id, provider, amount_minor, currency, merchant_ref, gateway_ref, origin,"
        " created_at, last_answer) VALUES ($1, 'bkash', $2, $3, $4, $5, 'portal', $6, $7)",
        row["id"],
        amount.minor,
        amount.currency,
        invoice,
        payment_gateway.lost_payment_id(invoice, to_decimal(amount)),
        datetime.now(UTC).replace(microsecond=0) - LOST_AGE,
        "demo: paid at bKash, the callback never arrived",
    )
