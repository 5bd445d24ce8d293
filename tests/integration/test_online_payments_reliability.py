"""Exactly once under races: 500 customers pay at the bKash peer; 1,000 callbacks (each payment's twice) and
recheck runs hit the platform at the same time. Exactly 500 payment rows, every bill paid once, every ledger
equal to its balance cache, every suspended payer reactivated once."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from factories import make_billing_profile
from ispb_notify import OutboundPolicy
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.online.accounts import GatewayAccount, save_account
from ispb_platform.payments.online.gateway import Provider
from ispb_platform.payments.online.service import Context, recheck_pending, start_checkout
from ispb_tenants import Database
from peers.bkash import BkashPeer

pytestmark = pytest.mark.slow
KEY = "t" * 40
PAYERS = 500


async def _seed(db: Database, tenant, overdue) -> list[int]:
    """500 suspended customers, each owing one overdue 500.00 invoice (set-based inserts)."""
    async with db.tenant(tenant) as scope:
        c = scope.connection
        profile = await make_billing_profile(scope, auto_activate=True)
        ids = await c.fetch(
            "INSERT INTO customer (code, name, phone, status, billing_profile_id)"
            " SELECT 'P' || n, 'Payer ' || n, '+88017' || lpad(n::text, 8, '0'), 'suspended', $2"
            " FROM generate_series(1, $1) n RETURNING id",
            PAYERS,
            profile,
        )
        customer_ids = [r["id"] for r in ids]
        await c.execute(
            "INSERT INTO bill (customer_id, number, period_start, period_end, issue_date, due_date, currency,"
            " net_minor, vat_minor, total_minor, created_by)"
            " SELECT id, 'INV-R-' || id, $2::date, ($2::date + 29), $2::date, ($2::date + 7), 'BDT', 50000, 0, 50000,"
            " 'test' FROM unnest($1::int[]) id",
            customer_ids,
            overdue,
        )
        await c.execute(
            "UPDATE customer_account SET balance_minor = 50000 WHERE customer_id = ANY($1::int[])", customer_ids
        )
    return customer_ids


async def test_500_payments_with_1000_racing_callbacks_and_rechecks_credit_each_once(
    db: Database, make_tenant, make_client, allow_outbound
):
    tenant = await make_tenant("race")
    today = local_today(datetime.now(UTC), tenant)
    customer_ids = await _seed(db, tenant, (today.replace(day=1) - timedelta(days=70)).replace(day=1))
    async with BkashPeer() as bkash:
        allow_outbound(f"127.0.0.1:{bkash.port}")
        context = Context(db, KEY, OutboundPolicy.parse(f"127.0.0.1:{bkash.port}"))
        async with db.tenant(tenant) as scope:
            account = GatewayAccount(
                Provider.BKASH, True, "sandbox", bkash.base_url, bkash.app_key,
                {"app_secret": bkash.app_secret, "username": bkash.username, "password": bkash.password},
            )  # fmt: skip
            await save_account(scope.connection, tenant.id, KEY, account)
        slots = asyncio.Semaphore(20)

        async def start(customer_id: int) -> None:
            async with slots:
                await start_checkout(
                    context, tenant, customer_id, Provider.BKASH, origin="portal", site_url="https://isp.test"
                )

        await asyncio.gather(*(start(customer_id) for customer_id in customer_ids))
        assert len(bkash.payments) == PAYERS
        callbacks = [bkash.pay(payment_id) for payment_id in bkash.payments] * 2  # every callback twice
        random.Random(17).shuffle(callbacks)
        async with db.tenant(tenant) as scope:  # all due for the recheck while the callbacks arrive
            await scope.connection.execute("UPDATE online_payment SET created_at = created_at - interval '10 min'")
        client = make_client()

        async def callback(url: str) -> int:
            parts = urlsplit(url)
            async with slots:
                return (await client.get(f"{parts.path}?{parts.query}")).status_code

        async def recheck() -> None:
            async with slots:
                await recheck_pending(context, tenant, today, datetime.now(UTC))

        work = [callback(url) for url in callbacks] + [recheck() for _ in range(6)]
        random.Random(4).shuffle(work)
        answers = await asyncio.gather(*work)
        assert [a for a in answers if a is not None and a != 303] == []
        assert bkash.executions == PAYERS

    async with db.tenant(tenant) as scope:
        c = scope.connection
        assert await c.fetchval("SELECT count(*) FROM payment") == PAYERS
        assert await c.fetchval("SELECT count(DISTINCT customer_id) FROM payment") == PAYERS
        assert await c.fetchval("SELECT count(*) FROM online_payment WHERE status = 'completed'") == PAYERS
        assert (
            await c.fetchval("SELECT count(*) FROM bill WHERE status = 'paid' AND paid_minor = total_minor") == PAYERS
        )
        assert await c.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM payment_allocation") == PAYERS * 50000
        unreconciled = await c.fetchval(
            "SELECT count(*) FROM customer_account a WHERE a.balance_minor <> (SELECT coalesce(sum(CASE kind WHEN"
            " 'debit' THEN amount_minor ELSE -amount_minor END), 0) FROM ledger_entry l WHERE l.customer_id ="
            " a.customer_id) OR a.balance_minor <> 0"
        )
        assert unreconciled == 0
        assert await c.fetchval("SELECT count(*) FROM customer WHERE status = 'active'") == PAYERS
        reactivations = await c.fetch(
            "SELECT customer_id, count(*) AS n FROM suspension_log WHERE action = 'activated' GROUP BY customer_id"
        )
        assert len(reactivations) == PAYERS and {r["n"] for r in reactivations} == {1}
        assert await c.fetchval("SELECT count(*) FROM domain_event WHERE name = 'payment.received'") == PAYERS
