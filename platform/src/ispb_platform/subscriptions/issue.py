"""``subscription.bill_operators``: one subscription bill per operator per month, from last month's counts.

One transaction for the whole run, under an advisory lock (a second worker waits, then finds every bill made):
one query for the candidates (operators on a plan since before the month ended, not yet billed for it, with the
month's peak count of active customers), the pure pricing in Python, a block of gap-free numbers, then one
statement for the bills and one for their lines. The unique index ``subscription_bill_one_per_month`` is the
last guard. The peak is the highest daily count of the month (``reports.customer_counts``); a month without any
count falls back to the last count before its end, else zero.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from ispb_platform.subscriptions.numbers import BILL, take_numbers
from ispb_platform.subscriptions.plans import load_plans
from ispb_platform.subscriptions.pricing import (
    Plan,
    Pricing,
    billable_days,
    due_dates,
    monthly_charge,
    previous_month,
    tier_label,
    to_minor,
)
from ispb_tenants import Database

LOCK = "subscription.bill_operators"

_CANDIDATES = """
SELECT s.tenant_id, s.plan_id, s.started_on, s.trial_ends_on,
       coalesce((SELECT max(c.active) FROM customer_count c
                 WHERE c.tenant_id = s.tenant_id AND c.counted_on BETWEEN $1 AND $2),
                (SELECT c.active FROM customer_count c WHERE c.tenant_id = s.tenant_id AND c.counted_on < $1
                 ORDER BY c.counted_on DESC LIMIT 1), 0) AS peak
FROM tenant_subscription s
WHERE s.started_on <= $2
  AND NOT EXISTS (SELECT 1 FROM subscription_bill b WHERE b.tenant_id = s.tenant_id AND b.kind = 'subscription'
                  AND b.period_start = $1 AND b.status <> 'void')
ORDER BY s.tenant_id
"""

_INSERT_BILLS = """
INSERT INTO subscription_bill (tenant_id, kind, number, status, period_start, period_end, issue_date, due_date,
                               lock_on, currency, total_minor)
SELECT u.tenant_id, 'subscription', u.number, 'open', $2, $3, $4, $5, $6, $7, u.total
FROM unnest($1::int[], $8::text[], $9::bigint[]) AS u(tenant_id, number, total)
RETURNING id, tenant_id
"""

_INSERT_LINES = """
INSERT INTO subscription_bill_line (bill_id, description, quantity, unit_price, amount_minor)
SELECT u.bill_id, u.description, u.quantity, u.unit_price, u.amount
FROM unnest($1::bigint[], $2::text[], $3::numeric[], $4::numeric[], $5::bigint[])
    AS u(bill_id, description, quantity, unit_price, amount)
"""


@dataclass(frozen=True)
class _Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount_minor: int


def _lines(plan: Plan, peak: int, days: int, start: date, end: date) -> tuple[int, list[_Line]]:
    month_days = (end - start).days + 1
    charge = monthly_charge(plan, peak, days, month_days)
    tier = charge.tier
    quantity = 1 if plan.pricing is Pricing.TIER else peak
    full = to_minor(tier.price * quantity)
    span = f"{start:%-d %b} – {end:%-d %b %Y}"
    lines = [
        _Line(
            f"{plan.name}: {tier_label(plan, tier)} (peak {peak} active), {span}", Decimal(quantity), tier.price, full
        )
    ]
    if charge.amount_minor != full:
        lines.append(
            _Line(
                f"Part of the month: {days} of {month_days} days on the plan",
                Decimal(1),
                Decimal(0),
                charge.amount_minor - full,
            )
        )
    return charge.amount_minor, lines


async def bill_operators(db: Database, today: date) -> dict[str, int]:
    start, end = previous_month(today)
    async with db.platform() as connection:
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", LOCK)
        settings = await connection.fetchrow("SELECT currency, due_day, lock_day FROM subscription_settings")
        assert settings is not None, "platform migration 0012 inserts the settings row"
        candidates = await connection.fetch(_CANDIDATES, start, end)
        plans = await load_plans(connection, [c["plan_id"] for c in candidates])
        billed: list[tuple[int, int, list[_Line]]] = []
        for row in candidates:
            days = billable_days(start, end, row["started_on"], row["trial_ends_on"])
            if days == 0:
                continue  # a free trial covered the month
            total, lines = _lines(plans[row["plan_id"]], row["peak"], days, start, end)
            if total > 0:
                billed.append((row["tenant_id"], total, lines))
        await _write(connection, billed, today, start, end, settings)
    return {"billed": len(billed), "not_billed": len(candidates) - len(billed)}


async def _write(
    connection: asyncpg.Connection,
    billed: list[tuple[int, int, list[_Line]]],
    today: date,
    start: date,
    end: date,
    settings: asyncpg.Record,
) -> None:
    if not billed:
        return
    numbers = await take_numbers(connection, BILL, today.year, len(billed))
    due, lock = due_dates(today, settings["due_day"], settings["lock_day"])
    rows = await connection.fetch(
        _INSERT_BILLS,
        [b[0] for b in billed],
        start,
        end,
        today,
        due,
        lock,
        settings["currency"],
        numbers,
        [b[1] for b in billed],
    )
    bill_of = {r["tenant_id"]: r["id"] for r in rows}
    lines = [(bill_of[tenant], line) for tenant, _, bill_lines in billed for line in bill_lines]
    await connection.execute(
        _INSERT_LINES,
        [bill for bill, _ in lines],
        [line.description for _, line in lines],
        [line.quantity for _, line in lines],
        [line.unit_price for _, line in lines],
        [line.amount_minor for _, line in lines],
    )
