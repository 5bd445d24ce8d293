"""``subscription.suspend_unpaid`` (daily; bills lock on the 20th): an operator with a bill still open on its lock
date has its panel locked, and is warned 5 and 1 day before.

The lock is ``tenant_subscription.locked_at``: the operator's staff see only the locked page (their bills, the way
to pay, the platform's contact; ``auth/access.py``). Their customers' automation keeps running (billing,
reminders, suspensions and reactivations on routers, the portal and online payments): locking the operator must
not cut off or stop billing people who paid the operator; it is the operator's access that waits for payment.
The platform admin's manual suspension (``tenant.status``) stays the way to close everything.

One statement locks every due operator (``locked_at IS NULL`` makes a second run a no-op) and one reopens those
who paid meanwhile; warnings and the lock notice go to the operator's phone through its outbox (keys per bill and
day, so a rerun adds nothing), sent by ``notify.send_outbox`` like its other messages. Paying reopens at once
(``reopen_if_paid``, called in the payment's transaction).
"""

from datetime import date, timedelta

import asyncpg

from ispb_billing import Money, format_money
from ispb_notify import Channel
from ispb_platform.notify.outbox import enqueue
from ispb_tenants import Database, get_tenant

WARN_DAYS = (5, 1)

_LOCK_DUE = """
UPDATE tenant_subscription s SET locked_at = now(), updated_at = now()
WHERE s.locked_at IS NULL
  AND EXISTS (SELECT 1 FROM subscription_bill b WHERE b.tenant_id = s.tenant_id AND b.status = 'open'
              AND b.lock_on <= $1)
RETURNING s.tenant_id
"""

_REOPEN = """
UPDATE platform.tenant_subscription s SET locked_at = NULL, updated_at = now()
WHERE s.locked_at IS NOT NULL AND ($2::int IS NULL OR s.tenant_id = $2)
  AND NOT EXISTS (SELECT 1 FROM platform.subscription_bill b WHERE b.tenant_id = s.tenant_id AND b.status = 'open'
                  AND b.lock_on <= $1)
RETURNING s.tenant_id
"""

_TO_WARN = """
SELECT b.tenant_id, t.slug, b.number, b.total_minor - b.paid_minor AS due_minor, b.currency, b.lock_on
FROM subscription_bill b JOIN tenant t ON t.id = b.tenant_id
WHERE b.status = 'open' AND b.lock_on = ANY($1::date[])
ORDER BY b.tenant_id, b.number
"""


async def reopen_if_paid(connection: asyncpg.Connection, today: date, tenant_id: int | None = None) -> list[int]:
    """Unlock operators (or one) with no bill left open past its lock date; in the caller's transaction."""
    return [r["tenant_id"] for r in await connection.fetch(_REOPEN, today, tenant_id)]


async def suspend_unpaid(db: Database, today: date) -> dict[str, int]:
    async with db.platform() as connection:
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('subscription.suspend_unpaid'))")
        reopened = await reopen_if_paid(connection, today)
        locked = [r["tenant_id"] for r in await connection.fetch(_LOCK_DUE, today)]
        warn = await connection.fetch(_TO_WARN, [today + timedelta(days=d) for d in WARN_DAYS])
        found = await connection.fetch("SELECT id, slug FROM tenant WHERE id = ANY($1::int[])", locked)
        slugs: dict[int, str] = {r["id"]: r["slug"] for r in found}
    warned = 0
    for row in warn:
        days = (row["lock_on"] - today).days
        text = (
            f"ISPB: subscription bill {row['number']} ({format_money(Money(row['due_minor'], row['currency']))}) is"
            f" unpaid. Pay it by {row['lock_on']:%-d %b %Y} (Settings → Subscription) or the panel locks."
        )
        warned += await _tell(db, row["slug"], f"subscription:warn:{row['number']}:{days}", text)
    for tenant_id in locked:
        text = (
            "ISPB: your panel is locked for an unpaid subscription bill. Sign in to see it and pay: it reopens at once."
        )
        await _tell(db, slugs[tenant_id], f"subscription:locked:{today.isoformat()}", text)
    return {"locked": len(locked), "reopened": len(reopened), "warned": warned}


async def _tell(db: Database, slug: str, key: str, text: str) -> int:
    """A message to the operator's own phone (``tenant.phone``) in its outbox; 1 when queued now."""
    tenant = await get_tenant(db, slug)
    async with db.tenant(tenant) as scope:
        phone = await scope.connection.fetchval("SELECT phone FROM platform.tenant WHERE id = $1", tenant.id)
        if not phone:
            return 0
        added = await enqueue(
            scope.connection, key=key, customer_id=None, channel=Channel.SMS, to=phone, body=text, cause="subscription"
        )
    return int(added is not None)
