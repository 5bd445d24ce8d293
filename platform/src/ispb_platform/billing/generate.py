"""``billing.generate_bills``: bill every customer whose monthly or daily period containing today is not billed.

Rules come from ``ispb_billing`` (periods, pro-rata, discounts, VAT); this module loads customers, calls the
rules and writes the results set-based, a chunk of customers per transaction:

- Idempotent by data: each customer's ``billed_through`` cursor moves in the bill's transaction, and the unique
  index ``bill_one_per_period`` refuses a second bill for a period. A per-tenant advisory lock makes a second
  worker wait and then find nothing left, so invoice numbers stay gap-free (DESIGN 3, 10).
- Only the period that contains ``today`` is billed: a period that ended unbilled (the customer was suspended
  under a profile that does not bill suspended customers, or no worker ran) is not back-billed. Daily-cycle
  chains that fell behind restart today.
- A result that looks wrong (``ImplausibleBill``) parks the customer with a visible reason instead of billing.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from ispb_billing import (
    Adjustment,
    BillDraft,
    Cycle,
    Discount,
    ImplausibleBill,
    LineKind,
    Money,
    PackageTerms,
    Period,
    ProrataPolicy,
    compute_bill,
    daily_period,
    due_period,
    monthly_period_containing,
)
from ispb_platform.billing.numbers import INVOICE, take_numbers
from ispb_platform.jobs.job import Counts, JobContext
from ispb_tenants import TenantRef, TenantScope
from ispb_tenants.migrations import Connection

CHUNK = 2_000
"""Customers per transaction: big enough for set-based speed, small enough to keep locks short."""

_CANDIDATES = """
SELECT c.id, c.status, c.connection_date, a.billed_through, c.package_id,
       p.name AS package_name, p.price_minor, p.vat_rate_bp, p.vat_inclusive, p.validity_days,
       bp.cycle, bp.billing_day, bp.due_days, bp.prorata, bp.bill_suspended,
       EXISTS (SELECT 1 FROM customer_discount d WHERE d.customer_id = c.id) AS has_discount,
       EXISTS (SELECT 1 FROM bill_adjustment j WHERE j.customer_id = c.id AND j.billed_bill_id IS NULL)
           AS has_adjustment
FROM customer c
JOIN package p ON p.id = c.package_id
JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
LEFT JOIN customer_account a ON a.customer_id = c.id
WHERE c.status <> 'disabled' AND c.package_id IS NOT NULL
  AND (a.billed_through IS NULL OR a.billed_through < $1)
  AND c.connection_date <= $1
  AND c.id > $2
  AND NOT EXISTS (SELECT 1 FROM billing_parked k WHERE k.customer_id = c.id AND k.resolved_at IS NULL)
ORDER BY c.id
LIMIT $3
"""


@dataclass(frozen=True)
class PlannedBill:
    customer_id: int
    package_id: int
    package_name: str
    prorata: str
    draft: BillDraft
    adjustment_ids: tuple[int, ...]


@lru_cache(maxsize=4096)
def _monthly_period(today: date, billing_day: int) -> Period:
    return monthly_period_containing(today, billing_day)


@lru_cache(maxsize=65536)
def _due_period(
    cycle: Cycle, today: date, billing_day: int, validity_days: int, service_start: date, last_end: date | None
) -> Period | None:
    return due_period(
        cycle=cycle,
        today=today,
        billing_day=billing_day,
        validity_days=validity_days,
        service_start=service_start,
        last_period_end=last_end,
    )


def _bill_period(row: Any, today: date) -> tuple[Period, Period] | None:
    """(period to bill, the full cycle period it belongs to), or None when nothing is due today.

    Pure and cached: for a monthly customer who started before the current period, the start date cannot
    change the answer, so it is folded into the period's first day and thousands of customers share one entry.
    """
    cycle = Cycle(row["cycle"])
    service_start, last_end = row["connection_date"], row["billed_through"]
    if cycle is Cycle.MONTHLY:
        current = _monthly_period(today, row["billing_day"])
        service_start = max(service_start, current.start)
        if last_end is not None and last_end < current.start:
            last_end = current.start - timedelta(days=1)
    period = _due_period(cycle, today, row["billing_day"], row["validity_days"], service_start, last_end)
    if period is None:
        return None
    if cycle is Cycle.DAILY:
        if period.end < today:  # the chain fell behind: do not back-bill, start again today
            period = daily_period(today, row["validity_days"])
        return period, period
    return period, _monthly_period(today, row["billing_day"])


PlanKey = tuple[Any, ...]


def plan_bill(
    row: Any,
    today: date,
    currency: str,
    discounts: list[Discount],
    adjustments: list[tuple[int, Adjustment]],
    memo: dict[PlanKey, BillDraft] | None = None,
) -> PlannedBill | None:
    """The bill a candidate customer gets today (pure; raises ``ImplausibleBill``).

    Customers on the same package, period and profile without discounts or adjustments get the same bill
    draft, so ``memo`` (one per chunk) computes it once: most of an operator's customers share a handful.
    """
    periods = _bill_period(row, today)
    if periods is None:
        return None
    period, full_period = periods
    key: PlanKey | None = None
    if memo is not None and not discounts and not adjustments:
        key = (row["package_id"], row["price_minor"], row["vat_rate_bp"], row["vat_inclusive"], row["package_name"])
        key += (period, full_period, row["due_days"], row["prorata"])
    draft = memo.get(key) if memo is not None and key is not None else None
    if draft is None:
        package = PackageTerms(
            name=row["package_name"],
            price=Money(int(row["price_minor"]), currency),
            vat_rate_bp=row["vat_rate_bp"],
            vat_inclusive=row["vat_inclusive"],
        )
        draft = compute_bill(
            package=package,
            period=period,
            full_period=full_period,
            issue_date=today,
            due_days=row["due_days"],
            prorata=ProrataPolicy(row["prorata"]),
            discounts=discounts,
            adjustments=[adjustment for _, adjustment in adjustments],
        )
        if memo is not None and key is not None:
            memo[key] = draft
    return PlannedBill(
        customer_id=row["id"],
        package_id=row["package_id"],
        package_name=row["package_name"],
        prorata=row["prorata"],
        draft=draft,
        adjustment_ids=tuple(adjustment_id for adjustment_id, _ in adjustments),
    )


async def _discounts(connection: Connection, ids: list[int], currency: str) -> dict[int, list[Discount]]:
    found: dict[int, list[Discount]] = defaultdict(list)
    if not ids:
        return found
    for r in await connection.fetch(
        "SELECT customer_id, label, percent_bp, amount_minor, starts, ends FROM customer_discount"
        " WHERE customer_id = ANY($1::int[]) ORDER BY id",
        ids,
    ):
        amount = Money(int(r["amount_minor"]), currency) if r["amount_minor"] is not None else None
        found[r["customer_id"]].append(
            Discount(label=r["label"], percent_bp=r["percent_bp"], amount=amount, starts=r["starts"], ends=r["ends"])
        )
    return found


async def _adjustments(
    connection: Connection, ids: list[int], currency: str
) -> dict[int, list[tuple[int, Adjustment]]]:
    found: dict[int, list[tuple[int, Adjustment]]] = defaultdict(list)
    if not ids:
        return found
    for r in await connection.fetch(
        "SELECT id, customer_id, description, amount_minor, vat_rate_bp, kind FROM bill_adjustment"
        " WHERE customer_id = ANY($1::int[]) AND billed_bill_id IS NULL ORDER BY id FOR UPDATE",
        ids,
    ):
        amount = Money(int(r["amount_minor"]), currency)
        adjustment = Adjustment(r["description"], amount, r["vat_rate_bp"], LineKind(r["kind"]))
        found[r["customer_id"]].append((r["id"], adjustment))
    return found


async def write_bills(connection: Connection, plans: list[PlannedBill], today: date, created_by: str) -> list[int]:
    """Write bills and their lines with COPY; move cursors and balances. Returns the bill ids.

    Ids are taken from the sequences first so both tables can be copied in one pass each (COPY is several
    times faster than INSERT for thousands of rows). A clash with an existing bill (only possible if something
    bypassed the advisory lock) fails the unique index and rolls the whole chunk back: no gap, no double bill.
    """
    if not plans:
        return []
    numbers = await take_numbers(connection, INVOICE, today.year, len(plans))
    bill_ids = list(
        await connection.fetchval("SELECT array_agg(nextval('bill_id_seq')) FROM generate_series(1, $1)", len(plans))
    )
    now = datetime.now(UTC)
    sums: dict[int, tuple[int, int, int]] = {}  # per distinct draft (shared by memo): net, VAT, total
    for plan in plans:
        if id(plan.draft) not in sums:
            sums[id(plan.draft)] = (plan.draft.net.minor, plan.draft.vat.minor, plan.draft.total.minor)
    await connection.copy_records_to_table(
        "bill",
        columns=_BILL_COLUMNS,
        records=[
            (
                bill_id,
                plan.customer_id,
                number,
                plan.draft.period.start,
                plan.draft.period.end,
                plan.draft.issue_date,
                plan.draft.due_date,
                plan.draft.currency,
                *sums[id(plan.draft)],
                0,
                "open" if sums[id(plan.draft)][2] else "paid",
                plan.package_id,
                plan.package_name,
                plan.prorata,
                created_by,
                now,
                now,
            )
            for bill_id, plan, number in zip(bill_ids, plans, numbers, strict=True)
        ],
    )
    await connection.copy_records_to_table(
        "bill_line",
        columns=("bill_id", "position", "kind", "description", "net_minor", "vat_rate_bp", "vat_minor"),
        records=[
            (bill_id, position, line.kind.value, line.description, line.net.minor, line.vat_rate_bp, line.vat.minor)
            for bill_id, plan in zip(bill_ids, plans, strict=True)
            for position, line in enumerate(plan.draft.lines, start=1)
        ],
    )
    await connection.execute(
        "INSERT INTO customer_account AS a (customer_id, billed_through, balance_minor)"
        " SELECT * FROM unnest($1::int[], $2::date[], $3::bigint[])"
        " ON CONFLICT (customer_id) DO UPDATE SET billed_through = EXCLUDED.billed_through,"
        " balance_minor = a.balance_minor + EXCLUDED.balance_minor",
        [p.customer_id for p in plans],
        [p.draft.period.end for p in plans],
        [sums[id(p.draft)][2] for p in plans],
    )
    adjusted = [
        (adjustment_id, bill_id)
        for bill_id, p in zip(bill_ids, plans, strict=True)
        for adjustment_id in p.adjustment_ids
    ]
    if adjusted:
        await connection.execute(
            "UPDATE bill_adjustment a SET billed_bill_id = u.bill_id"
            " FROM unnest($1::bigint[], $2::bigint[]) AS u(id, bill_id) WHERE a.id = u.id",
            [a for a, _ in adjusted],
            [b for _, b in adjusted],
        )
    return bill_ids


_BILL_COLUMNS = (
    "id",
    "customer_id",
    "number",
    "period_start",
    "period_end",
    "issue_date",
    "due_date",
    "currency",
    "net_minor",
    "vat_minor",
    "total_minor",
    "paid_minor",
    "status",
    "package_id",
    "package_name",
    "prorata",
    "created_by",
    "created_at",
    "updated_at",
)


@dataclass
class GenerationCounts:
    billed: int = 0
    not_due: int = 0
    skipped_suspended: int = 0
    parked: int = 0

    def as_counts(self) -> dict[str, int]:
        return dict(self.__dict__)


async def generate_chunk(
    scope: TenantScope, tenant: TenantRef, today: date, after: int, counts: GenerationCounts
) -> int | None:
    """Bill one chunk of candidates after customer id ``after``; returns the last id seen, or None when done."""
    connection = scope.connection
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext('billing.generate_bills'), hashtext($1))", tenant.schema
    )
    rows = await connection.fetch(_CANDIDATES, today, after, CHUNK)
    if not rows:
        return None
    discounts = await _discounts(connection, [r["id"] for r in rows if r["has_discount"]], tenant.currency)
    adjustments = await _adjustments(connection, [r["id"] for r in rows if r["has_adjustment"]], tenant.currency)
    plans: list[PlannedBill] = []
    parked: list[tuple[int, date, str]] = []
    memo: dict[PlanKey, BillDraft] = {}
    for row in rows:
        if row["status"] == "suspended" and not row["bill_suspended"]:
            counts.skipped_suspended += 1
            continue
        try:
            plan = plan_bill(
                row, today, tenant.currency, discounts.get(row["id"], []), adjustments.get(row["id"], []), memo
            )
        except ImplausibleBill as problem:
            parked.append((row["id"], today, str(problem)))
            continue
        if plan is None:
            counts.not_due += 1
        else:
            plans.append(plan)
    await write_bills(connection, plans, today, "billing.generate_bills")
    if parked:
        await connection.execute(
            "INSERT INTO billing_parked (customer_id, period_start, reason)"
            " SELECT * FROM unnest($1::int[], $2::date[], $3::text[]) ON CONFLICT DO NOTHING",
            [p[0] for p in parked],
            [p[1] for p in parked],
            [p[2] for p in parked],
        )
    counts.billed += len(plans)
    counts.parked += len(parked)
    return int(rows[-1]["id"])


async def generate_bills(ctx: JobContext) -> Counts:
    """The scheduled job: every chunk of the tenant's candidates, each in its own transaction."""
    tenant = ctx.require_tenant()
    counts = GenerationCounts()
    after = 0
    while True:
        async with ctx.db.tenant(tenant) as scope:
            last = await generate_chunk(scope, tenant, ctx.today, after, counts)
        if last is None:
            return counts.as_counts()
        after = last
