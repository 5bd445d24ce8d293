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
from datetime import date
from typing import Any

from ispb_billing import (
    Adjustment,
    BillDraft,
    Cycle,
    Discount,
    ImplausibleBill,
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
SELECT c.id, c.status, c.connection_date, c.billed_through, c.package_id,
       p.name AS package_name, p.price_minor, p.vat_rate_bp, p.vat_inclusive, p.validity_days,
       bp.cycle, bp.billing_day, bp.due_days, bp.prorata, bp.bill_suspended
FROM customer c
JOIN package p ON p.id = c.package_id
JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
WHERE c.status <> 'disabled' AND c.package_id IS NOT NULL
  AND (c.billed_through IS NULL OR c.billed_through < $1)
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


def _bill_period(row: Any, today: date) -> tuple[Period, Period] | None:
    """(period to bill, the full cycle period it belongs to), or None when nothing is due today."""
    cycle = Cycle(row["cycle"])
    period = due_period(
        cycle=cycle,
        today=today,
        billing_day=row["billing_day"],
        validity_days=row["validity_days"],
        service_start=row["connection_date"],
        last_period_end=row["billed_through"],
    )
    if period is None:
        return None
    if cycle is Cycle.DAILY:
        if period.end < today:  # the chain fell behind: do not back-bill, start again today
            period = daily_period(today, row["validity_days"])
        return period, period
    return period, monthly_period_containing(today, row["billing_day"])


def plan_bill(
    row: Any,
    today: date,
    currency: str,
    discounts: list[Discount],
    adjustments: list[tuple[int, Adjustment]],
) -> PlannedBill | None:
    """The bill a candidate customer gets today (pure; raises ``ImplausibleBill``)."""
    periods = _bill_period(row, today)
    if periods is None:
        return None
    period, full_period = periods
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
    for r in await connection.fetch(
        "SELECT id, customer_id, description, amount_minor, vat_rate_bp FROM bill_adjustment"
        " WHERE customer_id = ANY($1::int[]) AND billed_bill_id IS NULL ORDER BY id FOR UPDATE",
        ids,
    ):
        adjustment = Adjustment(r["description"], Money(int(r["amount_minor"]), currency), r["vat_rate_bp"])
        found[r["customer_id"]].append((r["id"], adjustment))
    return found


async def write_bills(connection: Connection, plans: list[PlannedBill], today: date, created_by: str) -> list[int]:
    """Insert bills, their lines and ledger debits; move cursors and balances. Returns the new bill ids."""
    if not plans:
        return []
    numbers = await take_numbers(connection, INVOICE, today.year, len(plans))
    drafts = [plan.draft for plan in plans]
    rows = await connection.fetch(
        "INSERT INTO bill (customer_id, number, period_start, period_end, issue_date, due_date, currency,"
        " net_minor, vat_minor, total_minor, paid_minor, status, package_id, package_name, prorata, created_by)"
        " SELECT u.customer_id, u.number, u.period_start, u.period_end, u.issue_date, u.due_date, u.currency,"
        " u.net, u.vat, u.total, 0, CASE WHEN u.total = 0 THEN 'paid' ELSE 'open' END, u.package_id,"
        " u.package_name, u.prorata, $14"
        " FROM unnest($1::int[], $2::text[], $3::date[], $4::date[], $5::date[], $6::date[], $7::text[],"
        " $8::bigint[], $9::bigint[], $10::bigint[], $11::int[], $12::text[], $13::text[])"
        " AS u(customer_id, number, period_start, period_end, issue_date, due_date, currency, net, vat, total,"
        " package_id, package_name, prorata)"
        " ON CONFLICT DO NOTHING RETURNING id, customer_id",
        [p.customer_id for p in plans],
        numbers,
        [d.period.start for d in drafts],
        [d.period.end for d in drafts],
        [d.issue_date for d in drafts],
        [d.due_date for d in drafts],
        [d.currency for d in drafts],
        [d.net.minor for d in drafts],
        [d.vat.minor for d in drafts],
        [d.total.minor for d in drafts],
        [p.package_id for p in plans],
        [p.package_name for p in plans],
        [p.prorata for p in plans],
        created_by,
    )
    if len(rows) != len(plans):  # only possible if something bypassed the advisory lock: never leave a gap
        raise RuntimeError(f"{len(plans) - len(rows)} bills clashed with existing bills; nothing was written")
    bill_of = {r["customer_id"]: r["id"] for r in rows}
    number_of = {plan.customer_id: number for plan, number in zip(plans, numbers, strict=True)}
    await _insert_lines(connection, plans, bill_of)
    billed = [p for p in plans if p.draft.total.minor > 0]
    await connection.execute(
        "INSERT INTO ledger_entry (customer_id, on_date, kind, amount_minor, bill_id, description)"
        " SELECT u.customer_id, $2, 'debit', u.amount, u.bill_id, u.description"
        " FROM unnest($1::int[], $3::bigint[], $4::bigint[], $5::text[])"
        " AS u(customer_id, amount, bill_id, description)",
        [p.customer_id for p in billed],
        today,
        [p.draft.total.minor for p in billed],
        [bill_of[p.customer_id] for p in billed],
        [f"Bill {number_of[p.customer_id]} for {p.draft.period}" for p in billed],
    )
    await connection.execute(
        "UPDATE customer c SET billed_through = u.period_end, balance_minor = c.balance_minor + u.total,"
        " updated_at = now() FROM unnest($1::int[], $2::date[], $3::bigint[]) AS u(id, period_end, total)"
        " WHERE c.id = u.id",
        [p.customer_id for p in plans],
        [p.draft.period.end for p in plans],
        [p.draft.total.minor for p in plans],
    )
    adjusted = [(adjustment_id, bill_of[p.customer_id]) for p in plans for adjustment_id in p.adjustment_ids]
    if adjusted:
        await connection.execute(
            "UPDATE bill_adjustment a SET billed_bill_id = u.bill_id"
            " FROM unnest($1::bigint[], $2::bigint[]) AS u(id, bill_id) WHERE a.id = u.id",
            [a for a, _ in adjusted],
            [b for _, b in adjusted],
        )
    return [bill_of[p.customer_id] for p in plans]


async def _insert_lines(connection: Connection, plans: list[PlannedBill], bill_of: dict[int, int]) -> None:
    bill_ids, positions, kinds, descriptions, nets, rates, vats = [], [], [], [], [], [], []
    for plan in plans:
        for position, line in enumerate(plan.draft.lines, start=1):
            bill_ids.append(bill_of[plan.customer_id])
            positions.append(position)
            kinds.append(line.kind.value)
            descriptions.append(line.description)
            nets.append(line.net.minor)
            rates.append(line.vat_rate_bp)
            vats.append(line.vat.minor)
    await connection.execute(
        "INSERT INTO bill_line (bill_id, position, kind, description, net_minor, vat_rate_bp, vat_minor)"
        " SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::bigint[], $6::int[],"
        " $7::bigint[])",
        bill_ids,
        positions,
        kinds,
        descriptions,
        nets,
        rates,
        vats,
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
    ids = [r["id"] for r in rows]
    discounts = await _discounts(connection, ids, tenant.currency)
    adjustments = await _adjustments(connection, ids, tenant.currency)
    plans: list[PlannedBill] = []
    parked: list[tuple[int, date, str]] = []
    for row in rows:
        if row["status"] == "suspended" and not row["bill_suspended"]:
            counts.skipped_suspended += 1
            continue
        try:
            plan = plan_bill(row, today, tenant.currency, discounts.get(row["id"], []), adjustments.get(row["id"], []))
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
    return int(ids[-1])


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
