"""``billing.generate_bills``: bill every customer whose monthly or daily period containing today is not billed.

Rules come from ``ispb_billing`` (periods, pro-rata, discounts, VAT); this module loads customers, calls the
rules and writes the results set-based, a chunk of customers per transaction:

- Idempotent by data: each customer's ``billed_through`` cursor moves in the bill's transaction, and the unique
  index ``bill_one_per_period`` refuses a second bill for a period. A per-tenant advisory lock makes a second
  worker wait and then find nothing left, so invoice numbers stay gap-free (DESIGN 3, 10).
- Only the period that contains ``today`` is billed: a period that ended unbilled (the customer was suspended
  under a profile that does not bill suspended customers, or no worker ran) is not back-billed. Daily-cycle
  chains that fell behind restart today.
- A result that looks wrong (``ImplausibleBill``) parks the customer with a visible reason instead of billing,
  and so does a package whose validity the customer's cycle cannot bill (a 1-day package on a monthly profile
  would be billed a month at a day's price; ``billing/validity.py``). Parked customers wait until the operator
  changes them (``resolve_parked``).

The job's entry point is ``billing/jobs.py``.

Why SQL: this is the set-based hot path (see docs/architecture.md, Billing, for the bench): candidates, drafts
and one data-modifying statement per chunk; a query builder would mean a round trip per customer.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

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
from ispb_platform.billing.validity import mismatch_reason
from ispb_platform.jobs.job import Counts
from ispb_tenants import Connection, Database, TenantRef, TenantScope

CHUNK = 2_000
"""Customers per transaction: big enough for set-based speed, small enough to keep locks short."""

# What differs per customer only: their package's and billing profile's terms come once per chunk (`_TERMS`), as
# a chunk's customers share a handful of them (sent per customer, decoding them was half of this read's time).
_CANDIDATES = """
SELECT c.id, c.status, c.connection_date, a.billed_through, c.package_id,
       COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default)) AS profile_id,
       EXISTS (SELECT 1 FROM customer_discount d WHERE d.customer_id = c.id) AS has_discount,
       EXISTS (SELECT 1 FROM bill_adjustment j WHERE j.customer_id = c.id AND j.billed_bill_id IS NULL)
           AS has_adjustment
FROM customer c
JOIN customer_account a ON a.customer_id = c.id  -- every customer has one (migration 0007)
WHERE c.status <> 'disabled' AND c.package_id IS NOT NULL
  AND COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default)) IS NOT NULL
  AND (a.billed_through IS NULL OR a.billed_through < $1)
  AND c.connection_date <= $1
  AND c.id > $2
  AND NOT EXISTS (SELECT 1 FROM billing_parked k WHERE k.customer_id = c.id AND k.resolved_at IS NULL)
ORDER BY c.id
LIMIT $3
"""

_TERMS = """
SELECT p.id AS package_id, p.name AS package_name, p.price_minor, p.vat_rate_bp, p.vat_inclusive, p.validity_days,
       bp.id AS profile_id, bp.name AS profile_name, bp.cycle, bp.billing_day, bp.due_days, bp.prorata,
       bp.bill_suspended
FROM package p, billing_profile bp
WHERE p.id = ANY($1::int[]) AND bp.id = ANY($2::int[])
"""


class PlannedBill(NamedTuple):
    customer_id: int
    package_id: int
    package_name: str
    prorata: str
    draft: BillDraft
    adjustment_ids: tuple[int, ...]


_CYCLES = {cycle.value: cycle for cycle in Cycle}
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=4096)
def _monthly_period(today: date, billing_day: int) -> Period:
    return monthly_period_containing(today, billing_day)


def _period_inputs(row: Any, terms: Any, today: date) -> tuple[Cycle, date, date | None]:
    """The cycle, service start and last billed day that decide the period due today, with what cannot change
    the answer folded away: for a monthly customer who started (or was billed up to) before the current
    period, only the period's first day matters, so thousands of customers share one set of inputs."""
    cycle = _CYCLES[terms["cycle"]]
    service_start, last_end = row["connection_date"], row["billed_through"]
    if cycle is Cycle.MONTHLY:
        current = _monthly_period(today, terms["billing_day"])
        if service_start < current.start:
            service_start = current.start
        if last_end is not None and last_end < current.start:
            last_end = current.start - _ONE_DAY
    return cycle, service_start, last_end


def _bill_periods(
    cycle: Cycle, today: date, billing_day: int, validity_days: int, service_start: date, last_end: date | None
) -> tuple[Period, Period] | None:
    """(period to bill, the full cycle period it belongs to), or None when nothing is due today."""
    period = due_period(
        cycle=cycle,
        today=today,
        billing_day=billing_day,
        validity_days=validity_days,
        service_start=service_start,
        last_period_end=last_end,
    )
    if period is None:
        return None
    if cycle is Cycle.DAILY:
        if period.end < today:  # the chain fell behind: do not back-bill, start again today
            period = daily_period(today, validity_days)
        return period, period
    return period, _monthly_period(today, billing_day)


PlanKey = tuple[Any, ...]
_NOT_DUE = object()


def plan_bill(
    row: Any,
    terms: Any,
    today: date,
    currency: str,
    discounts: list[Discount],
    adjustments: list[tuple[int, Adjustment]],
    memo: dict[PlanKey, Any] | None = None,
) -> PlannedBill | None:
    """The bill a candidate customer (``row``) on a package and billing profile (``terms``, a `_TERMS` row) gets
    today (pure; raises ``ImplausibleBill``).

    Customers with the same period inputs, package and profile and without discounts or adjustments get the
    same bill draft (or are equally not due), so ``memo`` (one per chunk, whose terms do not change) decides
    once for all of them: most of an operator's customers share a handful of drafts.
    """
    cycle, service_start, last_end = _period_inputs(row, terms, today)
    key: PlanKey | None = None
    draft: Any = None
    if memo is not None and not discounts and not adjustments:
        key = (terms["package_id"], terms["profile_id"], service_start, last_end)
        draft = memo.get(key)
    if draft is None:
        periods = _bill_periods(
            cycle, today, terms["billing_day"], terms["validity_days"], service_start, last_end
        )  # fmt: skip
        if periods is None:
            draft = _NOT_DUE
        else:
            package = PackageTerms(
                name=terms["package_name"],
                price=Money(int(terms["price_minor"]), currency),
                vat_rate_bp=terms["vat_rate_bp"],
                vat_inclusive=terms["vat_inclusive"],
            )
            draft = compute_bill(
                package=package,
                period=periods[0],
                full_period=periods[1],
                issue_date=today,
                due_days=terms["due_days"],
                prorata=ProrataPolicy(terms["prorata"]),
                discounts=discounts,
                adjustments=[adjustment for _, adjustment in adjustments],
            )
        if memo is not None and key is not None:
            memo[key] = draft
    if draft is _NOT_DUE:
        return None
    return PlannedBill(
        row["id"],
        terms["package_id"],
        terms["package_name"],
        terms["prorata"],
        draft,
        tuple([adjustment_id for adjustment_id, _ in adjustments]) if adjustments else (),
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


# One statement writes a chunk's bills, their lines, the adjustments they carry and the customers' cursors and
# balances. Python sends what differs per customer (customer, number, which draft) and each distinct draft once
# (most customers share a handful of drafts), so little is encoded per bill and there is one round trip.
_WRITE = """
WITH plan AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::int[]) AS p(customer_id, number, draft)
), draft AS (
    SELECT * FROM unnest($4::int[], $5::date[], $6::date[], $7::date[], $8::date[], $9::text[], $10::bigint[],
                         $11::bigint[], $12::bigint[], $13::int[], $14::text[], $15::text[])
        AS d(draft, period_start, period_end, issue_date, due_date, currency, net_minor, vat_minor, total_minor,
             package_id, package_name, prorata)
), bills AS (
    INSERT INTO bill (customer_id, number, period_start, period_end, issue_date, due_date, currency, net_minor,
                      vat_minor, total_minor, paid_minor, status, package_id, package_name, prorata, created_by)
    SELECT p.customer_id, p.number, d.period_start, d.period_end, d.issue_date, d.due_date, d.currency,
           d.net_minor, d.vat_minor, d.total_minor, 0, CASE WHEN d.total_minor = 0 THEN 'paid' ELSE 'open' END,
           d.package_id, d.package_name, d.prorata, $16
    FROM plan p JOIN draft d USING (draft)
    RETURNING id, customer_id
), lines AS (
    INSERT INTO bill_line (bill_id, position, kind, description, net_minor, vat_rate_bp, vat_minor)
    SELECT b.id, l.position, l.kind, l.description, l.net_minor, l.vat_rate_bp, l.vat_minor
    FROM bills b JOIN plan p USING (customer_id)
    JOIN unnest($17::int[], $18::int[], $19::text[], $20::text[], $21::bigint[], $22::int[], $23::bigint[])
        AS l(draft, position, kind, description, net_minor, vat_rate_bp, vat_minor) USING (draft)
), adjusted AS (
    UPDATE bill_adjustment j SET billed_bill_id = b.id
    FROM unnest($24::bigint[], $25::int[]) AS u(id, customer_id) JOIN bills b USING (customer_id)
    WHERE j.id = u.id
)
INSERT INTO customer_account AS a (customer_id, billed_through, balance_minor)
SELECT p.customer_id, d.period_end, d.total_minor FROM plan p JOIN draft d USING (draft)
ON CONFLICT (customer_id) DO UPDATE
    SET billed_through = EXCLUDED.billed_through, balance_minor = a.balance_minor + EXCLUDED.balance_minor
"""


async def write_bills(connection: Connection, plans: list[PlannedBill], today: date, created_by: str) -> None:
    """Write the planned bills with their lines; mark adjustments billed; move cursors and balances.

    A clash with an existing bill (only possible if something bypassed the advisory lock) fails the unique
    index and rolls the whole chunk back: no gap, no double bill.
    """
    if not plans:
        return
    numbers = await take_numbers(connection, INVOICE, today.year, len(plans))
    drafts: dict[int, int] = {}  # id(plan draft) -> its index: plans sharing a memoised draft share the index
    shared: list[PlannedBill] = []
    for plan in plans:
        if id(plan.draft) not in drafts:
            drafts[id(plan.draft)] = len(shared)
            shared.append(plan)
    lines = [
        (index, position, line) for index, p in enumerate(shared) for position, line in enumerate(p.draft.lines, 1)
    ]
    adjusted = [(adjustment_id, p.customer_id) for p in plans for adjustment_id in p.adjustment_ids]
    await connection.execute(
        _WRITE,
        [p.customer_id for p in plans],
        numbers,
        [drafts[id(p.draft)] for p in plans],
        list(range(len(shared))),
        [p.draft.period.start for p in shared],
        [p.draft.period.end for p in shared],
        [p.draft.issue_date for p in shared],
        [p.draft.due_date for p in shared],
        [p.draft.currency for p in shared],
        [p.draft.net.minor for p in shared],
        [p.draft.vat.minor for p in shared],
        [p.draft.total.minor for p in shared],
        [p.package_id for p in shared],
        [p.package_name for p in shared],
        [p.prorata for p in shared],
        created_by,
        [index for index, _, _ in lines],
        [position for _, position, _ in lines],
        [line.kind.value for _, _, line in lines],
        [line.description for _, _, line in lines],
        [line.net.minor for _, _, line in lines],
        [line.vat_rate_bp for _, _, line in lines],
        [line.vat.minor for _, _, line in lines],
        [adjustment_id for adjustment_id, _ in adjusted],
        [customer_id for _, customer_id in adjusted],
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
    """Bill one chunk of candidates after customer id ``after``; returns the id to continue after, or None when
    this chunk was the last (a short chunk: no second, empty transaction just to find out)."""
    connection = scope.connection
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext('billing.generate_bills'), hashtext($1))", tenant.schema
    )
    rows = await connection.fetch(_CANDIDATES, today, after, CHUNK)
    if not rows:
        return None
    packages = list({r["package_id"] for r in rows})
    profiles = list({r["profile_id"] for r in rows})
    terms_of = {(t["package_id"], t["profile_id"]): t for t in await connection.fetch(_TERMS, packages, profiles)}
    discounts = await _discounts(connection, [r["id"] for r in rows if r["has_discount"]], tenant.currency)
    adjustments = await _adjustments(connection, [r["id"] for r in rows if r["has_adjustment"]], tenant.currency)
    plans: list[PlannedBill] = []
    parked: list[tuple[int, date, str]] = []
    memo: dict[PlanKey, Any] = {}
    mismatches: dict[tuple[int, int], str | None] = {}  # per package/profile pair: a chunk has a handful
    for row in rows:
        pair = (row["package_id"], row["profile_id"])
        terms = terms_of[pair]
        if row["status"] == "suspended" and not terms["bill_suspended"]:
            counts.skipped_suspended += 1
            continue
        if pair in mismatches:
            mismatch = mismatches[pair]
        else:
            mismatch = mismatches[pair] = mismatch_reason(
                package=terms["package_name"],
                validity_days=terms["validity_days"],
                profile=terms["profile_name"],
                cycle=terms["cycle"],
            )
        if mismatch is not None:
            parked.append((row["id"], today, mismatch))
            continue
        try:
            plan = plan_bill(
                row, terms, today, tenant.currency, discounts.get(row["id"], []), adjustments.get(row["id"], []),
                memo,
            )  # fmt: skip
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
    return int(rows[-1]["id"]) if len(rows) == CHUNK else None


async def bill_customers(db: Database, tenant: TenantRef, today: date) -> Counts:
    """Every chunk of the tenant's candidates, each in its own transaction."""
    counts = GenerationCounts()
    after = 0
    while True:
        async with db.tenant(tenant) as scope:
            last = await generate_chunk(scope, tenant, today, after, counts)
        if last is None:
            return counts.as_counts()
        after = last
