"""``subscription.bill_sms`` (every 6 hours): SMS segments sent since the last run, recorded once per message.

Per operator, in its own schema's transaction and under a per-operator advisory lock: one statement copies the
operator's sent SMS messages not yet recorded into ``platform.sms_usage`` (``ON CONFLICT DO NOTHING`` on
(operator, outbox id): a message is recorded by exactly one run, whatever runs concurrently; a run that waited on
the lock or on the unique index finds it recorded) and returns what it recorded, by month. A postpaid operator's
segments are priced at its plan's rate and added as one line per month to that month's SMS bill (a draft until
the month ends, then issued with a gap-free number by the next run); a prepaid operator's segments were already
drawn from its SMS credit when they were sent (``notify/sender.py``) and are only recorded.

The cursor (``sms_usage_cursor.scan_from_id``) is the lowest outbox id that may still be sent: every message
below it is sent or failed, so scans stay short; messages sent before the operator's plan started are never
billed.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import asyncpg

from ispb_platform.subscriptions.numbers import BILL, take_numbers
from ispb_platform.subscriptions.plans import load_plans
from ispb_platform.subscriptions.pricing import due_dates, month_bounds, sms_charge
from ispb_tenants import Database, TenantRef, list_tenants

_SUBSCRIBED = """
SELECT s.tenant_id, s.plan_id, s.started_on, s.sms_billing, coalesce(c.scan_from_id, 0) AS scan_from_id
FROM platform.tenant_subscription s LEFT JOIN platform.sms_usage_cursor c ON c.tenant_id = s.tenant_id
WHERE s.tenant_id = $1
"""

_RECORD = """
WITH recorded AS (
    INSERT INTO platform.sms_usage (tenant_id, outbox_id, segments, sent_at, billed_as)
    SELECT $1, o.id, o.segments, o.sent_at, $4
    FROM outbox o
    WHERE o.id >= $2 AND o.channel = 'sms' AND o.status = 'sent' AND o.sent_at >= $3
    ORDER BY o.id
    ON CONFLICT (tenant_id, outbox_id) DO NOTHING
    RETURNING sent_at, segments
), by_month AS (
    SELECT date_trunc('month', sent_at AT TIME ZONE 'UTC')::date AS month, sum(segments)::int AS segments,
           count(*)::int AS messages
    FROM recorded GROUP BY 1
), kept AS (
    INSERT INTO platform.sms_usage_month AS m (tenant_id, month, billed_as, messages, segments)
    SELECT $1, month, $4, messages, segments FROM by_month
    ON CONFLICT (tenant_id, month, billed_as)
    DO UPDATE SET messages = m.messages + EXCLUDED.messages, segments = m.segments + EXCLUDED.segments
)
SELECT month, segments, messages FROM by_month ORDER BY month
"""

# The lowest id that may still be sent (queued, sending, waiting for credit), else past the last message.
_NEXT_CURSOR = """
SELECT coalesce((SELECT min(id) FROM outbox WHERE id >= $1 AND status IN ('queued', 'sending', 'waiting_credit')),
                (SELECT max(id) + 1 FROM outbox WHERE id >= $1), $1)
"""

_DRAFT = """
INSERT INTO platform.subscription_bill (tenant_id, kind, status, period_start, period_end, currency)
VALUES ($1, 'sms', 'draft', $2, $3, $4)
ON CONFLICT (tenant_id, kind, period_start) WHERE kind <> 'credit_note' AND status <> 'void'
DO UPDATE SET updated_at = now()
RETURNING id, status
"""


@dataclass(frozen=True)
class _Month:
    month: date
    segments: int
    messages: int


async def bill_sms(db: Database, today: date, now_label: str) -> dict[str, int]:
    counts = {"operators": 0, "messages": 0, "segments": 0, "prepaid_segments": 0, "issued": 0}
    for info in await list_tenants(db):
        done = await _bill_operator(db, info.ref, today, now_label)
        for key, value in done.items():
            counts[key] += value
    return counts


async def _bill_operator(db: Database, tenant: TenantRef, today: date, now_label: str) -> dict[str, int]:
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('subscription.bill_sms'), $1)", tenant.id)
        sub = await connection.fetchrow(_SUBSCRIBED, tenant.id)
        if sub is None:
            return {}
        months = [
            _Month(r["month"], r["segments"], r["messages"])
            for r in await connection.fetch(
                _RECORD, tenant.id, sub["scan_from_id"], sub["started_on"], sub["sms_billing"]
            )
        ]
        await connection.execute(
            "INSERT INTO platform.sms_usage_cursor (tenant_id, scan_from_id) VALUES ($1, $2)"
            " ON CONFLICT (tenant_id) DO UPDATE SET scan_from_id = EXCLUDED.scan_from_id, scanned_at = now()",
            tenant.id,
            await connection.fetchval(_NEXT_CURSOR, sub["scan_from_id"]),
        )
        segments = sum(m.segments for m in months)
        counts = {"operators": 1, "messages": sum(m.messages for m in months)}
        if sub["sms_billing"] == "prepaid":
            return counts | {"prepaid_segments": segments}
        plan = (await load_plans(connection, [sub["plan_id"]]))[sub["plan_id"]]
        currency = await connection.fetchval("SELECT currency FROM platform.subscription_settings")
        for month in months:
            await _add_line(
                connection, tenant.id, month, plan.sms_price, sms_charge(plan, month.segments), currency, now_label
            )
        issued = await issue_ended_drafts(connection, tenant.id, today)
    return counts | {"segments": segments, "issued": issued}


async def _add_line(
    connection: asyncpg.Connection,
    tenant_id: int,
    month: _Month,
    price: Decimal,
    amount: int,
    currency: str,
    now_label: str,
) -> None:
    first, last = month_bounds(month.month)
    bill = await connection.fetchrow(_DRAFT, tenant_id, first, last, currency)
    if bill is None or bill["status"] != "draft":  # the month's bill was issued already: a late message
        first, last = month_bounds(last + timedelta(days=1))
        bill = await connection.fetchrow(_DRAFT, tenant_id, first, last, currency)
    assert bill is not None, "the next month's bill is still a draft"
    await connection.execute(
        "INSERT INTO platform.subscription_bill_line (bill_id, description, quantity, unit_price, amount_minor)"
        " VALUES ($1, $2, $3, $4, $5)",
        bill["id"],
        f"SMS to {now_label}: {month.messages} messages, {month.segments} segments ({month.month:%b %Y})",
        month.segments,
        price,
        amount,
    )
    await connection.execute(
        "UPDATE platform.subscription_bill SET total_minor = total_minor + $2, updated_at = now() WHERE id = $1",
        bill["id"],
        amount,
    )


async def issue_ended_drafts(connection: asyncpg.Connection, tenant_id: int, today: date) -> int:
    """Issue the operator's SMS bills of months that have ended: numbered, due and locking like subscription bills.
    A draft that came to nothing (every price zero) is deleted rather than issued."""
    await connection.execute(
        "DELETE FROM platform.subscription_bill WHERE tenant_id = $1 AND status = 'draft' AND period_end < $2"
        " AND total_minor = 0 AND NOT EXISTS (SELECT 1 FROM platform.subscription_bill_line l"
        " WHERE l.bill_id = subscription_bill.id)",
        tenant_id,
        today,
    )
    ended = await connection.fetch(
        "SELECT id FROM platform.subscription_bill WHERE tenant_id = $1 AND status = 'draft' AND period_end < $2"
        " ORDER BY period_start FOR UPDATE",
        tenant_id,
        today,
    )
    if not ended:
        return 0
    settings = await connection.fetchrow("SELECT due_day, lock_day FROM platform.subscription_settings")
    assert settings is not None, "platform migration 0012 inserts the settings row"
    due, lock = due_dates(today, settings["due_day"], settings["lock_day"])
    numbers = await take_numbers(connection, BILL, today.year, len(ended))
    await connection.execute(
        "UPDATE platform.subscription_bill b SET number = u.number, issue_date = $2, due_date = $3, lock_on = $4,"
        " status = CASE WHEN b.total_minor = 0 THEN 'paid' ELSE 'open' END, updated_at = now()"
        " FROM unnest($1::bigint[], $5::text[]) AS u(id, number) WHERE b.id = u.id",
        [r["id"] for r in ended],
        today,
        due,
        lock,
        numbers,
    )
    return len(ended)
