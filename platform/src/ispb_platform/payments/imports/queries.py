"""Reads and writes of statement imports, in the caller's tenant transaction.

SQL, set-based, on purpose: a statement has up to 200,000 lines and the goal is thousands of payments a second.
The lines are loaded with COPY and judged in one ``INSERT ... SELECT`` (customer by id or phone, reference
repeated in the file or already recorded, with the unique index's own ``payment_reference_key``); confirmation
reads the ready lines a chunk of customers at a time, in customer order, and writes each chunk's payments,
allocations, bills, balances and events with one statement each. The list pages read through Piccolo.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import asyncpg

from ispb_billing import Money, OpenBill
from ispb_platform.payments.imports.statement import StatementLine
from ispb_tenants import Connection
from ispb_tenants.tables import PaymentImport, PaymentImportLine


class LineStatus(StrEnum):
    """The verdict on one line (``payment_import_line.status``)."""

    READY = "ready"
    DUPLICATE = "duplicate"
    UNKNOWN_CUSTOMER = "unknown_customer"
    INVALID = "invalid"


REFUSED = (LineStatus.DUPLICATE, LineStatus.UNKNOWN_CUSTOMER, LineStatus.INVALID)


class ImportStatus(StrEnum):
    """``payment_import.status``: previewed, being recorded by the job (asked for), recorded."""

    PREVIEW = "preview"
    CONFIRMING = "confirming"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class ImportSummary:
    """An import and its counts: the preview's verdicts, then what its confirmation recorded."""

    id: int
    file_name: str
    file_sha256: str
    default_method: str
    default_date: date
    currency: str
    status: str
    lines: int
    ready: int
    duplicate: int
    unknown_customer: int
    invalid: int
    ready_minor: int
    recorded: int
    recorded_minor: int
    header: str
    ignored_columns: str
    uploaded_by: str
    uploaded_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    confirm_requested_by: str | None
    confirm_requested_at: datetime | None
    recorded_through: int
    reactivated: int

    @property
    def refused(self) -> int:
        return self.duplicate + self.unknown_customer + self.invalid

    @property
    def confirmed(self) -> bool:
        return self.status == ImportStatus.CONFIRMED

    @property
    def confirming(self) -> bool:
        return self.status == ImportStatus.CONFIRMING

    @property
    def percent_recorded(self) -> int:
        """How far the confirmation is, for the progress bar (ready lines found recorded meanwhile count at the
        end, when the job recounts)."""
        return min(100, self.recorded * 100 // self.ready) if self.ready else 100


@dataclass(frozen=True, slots=True)
class ReadyLine:
    line: int
    customer_id: int
    amount_minor: int
    reference_key: str
    method: str


@dataclass(frozen=True, slots=True)
class LockedCustomer:
    status: str
    balance_minor: int


async def create_import(
    connection: Connection,
    *,
    file_name: str,
    file_sha256: str,
    default_method: str,
    default_date: date,
    currency: str,
    header: str,
    ignored_columns: Sequence[str],
    uploaded_by: str,
) -> int:
    import_id = await connection.fetchval(
        "INSERT INTO payment_import (file_name, file_sha256, default_method, default_date, currency, header,"
        " ignored_columns, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        file_name,
        file_sha256,
        default_method,
        default_date,
        currency,
        header,
        ", ".join(ignored_columns),
        uploaded_by,
    )
    return int(import_id)


_JUDGE = """
INSERT INTO payment_import_line (import_id, line, original, customer_code, customer_phone, customer_id, amount_minor,
                                 reference, reference_key, received_on, method, status, problem)
SELECT $1, s.line, s.original, s.customer_code, s.customer_phone, s.customer_id, s.amount_minor, s.reference, s.key,
       s.received_on, s.method,
       CASE WHEN s.problem <> '' THEN 'invalid'
            WHEN s.first_line < s.line OR s.paid_id IS NOT NULL THEN 'duplicate'
            WHEN s.customer_id IS NULL THEN 'unknown_customer'
            ELSE 'ready' END,
       CASE WHEN s.problem <> '' THEN s.problem
            WHEN s.first_line < s.line
                THEN format('Transaction %s repeats line %s of this file.', s.reference, s.first_line)
            WHEN s.paid_id IS NOT NULL
                THEN format('Transaction %s is already recorded (payment %s of customer %s on %s).',
                            s.reference, s.paid_id, s.paid_code, s.paid_on)
            WHEN s.customer_id IS NULL AND s.phone_count > 1
                THEN format('%s customers have the phone %s; give the customer id instead.',
                            s.phone_count, s.customer_phone)
            WHEN s.customer_id IS NULL
                THEN 'No customer has ' || concat_ws(' or ', 'the id ' || nullif(s.customer_code, ''),
                                                      'the phone ' || nullif(s.customer_phone, '')) || '.'
            ELSE '' END
FROM (
    SELECT i.*, k.key,
           CASE WHEN k.key <> '' THEN min(i.line) OVER (PARTITION BY k.key) END AS first_line,
           coalesce(by_code.id, CASE WHEN by_phone.n = 1 THEN by_phone.id END) AS customer_id,
           by_phone.n AS phone_count, paid.id AS paid_id, paid.code AS paid_code, paid.received_on AS paid_on
    FROM statement_line_in i
    CROSS JOIN LATERAL (SELECT payment_reference_key(i.reference) AS key) k
    LEFT JOIN customer by_code ON by_code.code = i.customer_code AND i.customer_code <> ''
    LEFT JOIN (SELECT c.phone, min(c.id) AS id, count(*) AS n FROM customer c
               WHERE c.phone IN (SELECT customer_phone FROM statement_line_in) GROUP BY c.phone) by_phone
           ON by_phone.phone = i.customer_phone AND i.customer_phone <> ''
    LEFT JOIN LATERAL (SELECT p.id, c.code, p.received_on FROM payment p JOIN customer c ON c.id = p.customer_id
                       WHERE payment_reference_key(p.reference) = k.key AND p.reference <> '' LIMIT 1) paid
           ON k.key <> ''
) s
"""

_COUNT = """
UPDATE payment_import i SET lines = c.lines, ready = c.ready, duplicate = c.duplicate,
       unknown_customer = c.unknown_customer, invalid = c.invalid, ready_minor = c.ready_minor
FROM (SELECT count(*) AS lines, count(*) FILTER (WHERE status = 'ready') AS ready,
             count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
             count(*) FILTER (WHERE status = 'unknown_customer') AS unknown_customer,
             count(*) FILTER (WHERE status = 'invalid') AS invalid,
             coalesce(sum(amount_minor) FILTER (WHERE status = 'ready'), 0) AS ready_minor
      FROM payment_import_line WHERE import_id = $1) c
WHERE i.id = $1
"""

_LINE_COLUMNS = (
    "line",
    "original",
    "customer_code",
    "customer_phone",
    "amount_minor",
    "reference",
    "received_on",
    "method",
    "problem",
)


async def store_lines(connection: Connection, import_id: int, lines: Iterable[StatementLine]) -> None:
    """Load the statement's lines (COPY into a scratch table) and store each with its verdict, in one statement.

    Verdicts, first that applies: the line's own problem; its reference repeats an earlier line or is already
    recorded; no customer has its id (or exactly one customer its phone); else ready. Then the import's counts.
    """
    await connection.execute(
        "CREATE TEMP TABLE statement_line_in (line integer, original text, customer_code text, customer_phone text,"
        " amount_minor bigint, reference text, received_on date, method text, problem text) ON COMMIT DROP"
    )
    records = (
        (
            x.line,
            x.original,
            x.customer_code,
            x.customer_phone,
            x.amount_minor,
            x.reference,
            x.received_on,
            x.method.value if x.method else None,
            x.problem,
        )
        for x in lines
    )
    await connection.copy_records_to_table("statement_line_in", records=records, columns=_LINE_COLUMNS)
    await connection.execute("ANALYZE statement_line_in")
    await connection.execute(_JUDGE, import_id)
    await connection.execute("DROP TABLE statement_line_in")
    await connection.execute(_COUNT, import_id)


async def get_import(import_id: int) -> ImportSummary | None:
    row = await PaymentImport.select().where(PaymentImport.id == import_id).first()
    return ImportSummary(**row) if row else None


async def lock_import(connection: Connection, import_id: int) -> ImportSummary | None:
    """The import under its row lock: a second confirmation of the same file waits here, then finds it done."""
    row = await connection.fetchrow("SELECT * FROM payment_import WHERE id = $1 FOR UPDATE", import_id)
    return ImportSummary(**dict(row)) if row else None


async def recent_imports(limit: int = 20) -> list[ImportSummary]:
    rows = await PaymentImport.select().order_by(PaymentImport.id, ascending=False).limit(limit)
    return [ImportSummary(**row) for row in rows]


async def import_lines(
    import_id: int, statuses: Sequence[LineStatus], page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the import's lines with these verdicts, in file order, and how many there are."""
    where = (PaymentImportLine.import_id == import_id) & PaymentImportLine.status.is_in([s.value for s in statuses])
    total = await PaymentImportLine.count().where(where)
    rows = await (
        PaymentImportLine.select(
            PaymentImportLine.line,
            PaymentImportLine.original,
            PaymentImportLine.customer_code,
            PaymentImportLine.customer_phone,
            PaymentImportLine.amount_minor,
            PaymentImportLine.reference,
            PaymentImportLine.received_on,
            PaymentImportLine.method,
            PaymentImportLine.status,
            PaymentImportLine.problem,
        )
        .where(where)
        .order_by(PaymentImportLine.line)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return rows, int(total)


_NEXT_CHUNK = """
SELECT line, customer_id, amount_minor, reference_key, method FROM payment_import_line
WHERE import_id = $1 AND status = 'ready' AND customer_id > $2
  AND customer_id <= coalesce((SELECT customer_id FROM payment_import_line
                               WHERE import_id = $1 AND status = 'ready' AND customer_id > $2
                               ORDER BY customer_id, line OFFSET $3 LIMIT 1), 2147483647)
ORDER BY customer_id, line
"""


async def next_chunk(connection: Connection, import_id: int, after: int, size: int) -> list[ReadyLine]:
    """The ready lines of the next customers after id ``after``: about ``size`` lines, and every line of the last
    customer (a chunk ends between customers, so ``payment_import.recorded_through`` says exactly what is done).

    Customer order (then file order: a customer's payments are applied in the order the statement lists them)
    makes every chunk take its row locks in ascending id order, the order any other import takes them in, so two
    imports never deadlock."""
    rows = await connection.fetch(_NEXT_CHUNK, import_id, after, max(size - 1, 0))
    return [ReadyLine(*row) for row in rows]


async def mark_confirming(connection: Connection, import_id: int, requested_by: str) -> ImportSummary:
    """The operator asked to record the import: the job's work from now on (the caller holds the row lock)."""
    row = await connection.fetchrow(
        "UPDATE payment_import SET status = 'confirming', confirm_requested_by = $2, confirm_requested_at = now()"
        " WHERE id = $1 AND status = 'preview' RETURNING *",
        import_id,
        requested_by,
    )
    assert row is not None, "the import is previewed and locked by this transaction"
    return ImportSummary(**dict(row))


@dataclass(frozen=True)
class FailedAttempt:
    at: datetime
    error: str


async def failed_attempt(connection: Connection, tenant_id: int, since: datetime) -> FailedAttempt | None:
    """The confirmation job's latest run for this tenant since ``since``, if it failed: the page says so while the
    queue retries it, instead of "waiting" with no reason (the run records are the platform's)."""
    row = await connection.fetchrow(
        "SELECT status, coalesce(finished_at, started_at) AS at, coalesce(error, '') AS error FROM platform.job_run"
        " WHERE job = 'payments.confirm_imports' AND tenant_id = $1 AND started_at >= $2"
        " ORDER BY started_at DESC LIMIT 1",
        tenant_id,
        since,
    )
    return FailedAttempt(row["at"], row["error"]) if row and row["status"] == "failed" else None


async def confirming_imports(connection: Connection) -> list[int]:
    rows = await connection.fetch("SELECT id FROM payment_import WHERE status = 'confirming' ORDER BY id")
    return [int(r["id"]) for r in rows]


async def advance_import(
    connection: Connection, import_id: int, *, through: int, recorded: int, recorded_minor: int, reactivated: int
) -> None:
    """A chunk's customers are done: move the mark and add the chunk's counts, in the chunk's transaction."""
    await connection.execute(
        "UPDATE payment_import SET recorded_through = $2, recorded = recorded + $3,"
        " recorded_minor = recorded_minor + $4, reactivated = reactivated + $5 WHERE id = $1",
        import_id,
        through,
        recorded,
        recorded_minor,
        reactivated,
    )


async def lock_customers(connection: Connection, customer_ids: Sequence[int]) -> dict[int, LockedCustomer]:
    """Take the customers' row locks in id order (DESIGN 10: before reading what the payments decide on)."""
    rows = await connection.fetch(
        "SELECT c.id, c.status, a.balance_minor FROM customer c JOIN customer_account a ON a.customer_id = c.id"
        " WHERE c.id = ANY($1::integer[]) ORDER BY c.id FOR UPDATE OF c",
        customer_ids,
    )
    return {r["id"]: LockedCustomer(r["status"], int(r["balance_minor"])) for r in rows}


async def recorded_references(connection: Connection, keys: Sequence[str]) -> set[str]:
    """Which of these reference keys a payment already has (committed since the preview, or before)."""
    rows = await connection.fetch(
        "SELECT payment_reference_key(reference) AS key FROM payment"
        " WHERE payment_reference_key(reference) = ANY($1::text[]) AND reference <> ''",
        keys,
    )
    return {r["key"] for r in rows}


async def open_bills_of(
    connection: Connection, customer_ids: Sequence[int], currency: str
) -> dict[int, list[OpenBill]]:
    """Each customer's open invoices (as ``payments.queries.open_bills`` reads one customer's), read under the
    customers' locks."""
    rows = await connection.fetch(
        "SELECT customer_id, id, due_date, issue_date, total_minor - paid_minor AS outstanding FROM bill"
        " WHERE customer_id = ANY($1::integer[]) AND kind = 'invoice' AND status = 'open'",
        customer_ids,
    )
    bills: dict[int, list[OpenBill]] = {}
    for r in rows:
        bills.setdefault(r["customer_id"], []).append(
            OpenBill(r["id"], r["due_date"], r["issue_date"], Money(int(r["outstanding"]), currency))
        )
    return bills


class ReferenceTaken(Exception):
    """A payment of the chunk has a reference a concurrent transaction recorded meanwhile: the insert waited for it
    to commit and the unique index refused the chunk. Nothing of the chunk stays (a savepoint)."""


async def insert_payments(
    connection: Connection,
    import_id: int,
    lines: Sequence[int],
    unapplied: Sequence[int],
    *,
    currency: str,
    received_by: str,
) -> dict[str, int]:
    """The payments of these ready lines, ``INSERT ... SELECT`` from the stored lines; reference key → payment id.

    The unique index on ``payment_reference_key(reference)`` is the guard. The caller has left out the references
    recorded before it took the customers' locks, so a violation means a concurrent import got there first: the
    chunk is undone and ``ReferenceTaken`` raised, and the caller allocates again without those lines (a
    payment's allocation was computed for it). A plain insert, not ON CONFLICT DO NOTHING: the speculative
    insertion that needs costs every row, the race is rare."""
    try:
        async with connection.transaction():
            rows = await connection.fetch(
                "INSERT INTO payment (customer_id, received_on, amount_minor, currency, method, reference, note,"
                " received_by, unapplied_minor)"
                " SELECT l.customer_id, l.received_on, l.amount_minor, $4, l.method, l.reference,"
                " 'Statement import ' || $1 || ', line ' || l.line, $5, u.unapplied"
                " FROM unnest($2::integer[], $3::bigint[]) AS u(line, unapplied)"
                " JOIN payment_import_line l ON l.import_id = $1 AND l.line = u.line"
                " RETURNING id, payment_reference_key(reference) AS key",
                import_id,
                lines,
                unapplied,
                currency,
                received_by,
            )
    except asyncpg.UniqueViolationError as error:
        raise ReferenceTaken(str(error)) from error
    return {r["key"]: int(r["id"]) for r in rows}


async def insert_allocations(
    connection: Connection, bill_ids: Sequence[int], payment_ids: Sequence[int], amounts: Sequence[int]
) -> None:
    if bill_ids:
        await connection.execute(
            "INSERT INTO payment_allocation (bill_id, payment_id, amount_minor, source)"
            " SELECT u.bill_id, u.payment_id, u.amount, 'payment'"
            " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(bill_id, payment_id, amount)",
            bill_ids,
            payment_ids,
            amounts,
        )


async def move_balances(connection: Connection, customer_ids: Sequence[int], deltas: Sequence[int]) -> None:
    """Add each delta to its customer's balance cache (one delta per customer); the rows exist from creation."""
    await connection.execute(
        "UPDATE customer_account a SET balance_minor = a.balance_minor + u.delta"
        " FROM unnest($1::integer[], $2::bigint[]) AS u(customer_id, delta)"
        " WHERE a.customer_id = u.customer_id AND a.customer_id = ANY($1::integer[])",  # by key (see pay_bills)
        customer_ids,
        deltas,
    )


async def add_events(connection: Connection, name: str, customer_ids: Sequence[int], payloads: Sequence[str]) -> None:
    await connection.execute(
        "INSERT INTO domain_event (name, customer_id, payload)"
        " SELECT $1, u.customer_id, u.payload::jsonb FROM unnest($2::integer[], $3::text[]) AS u(customer_id, payload)",
        name,
        customer_ids,
        payloads,
    )


async def judge_again(
    connection: Connection, import_id: int, lines: Sequence[int], status: LineStatus, problems: Sequence[str]
) -> None:
    """Ready lines found wrong at confirmation (recorded meanwhile, customer gone) get their verdict and reason."""
    if lines:
        await connection.execute(
            "UPDATE payment_import_line l SET status = $3, problem = u.problem"
            " FROM unnest($2::integer[], $4::text[]) AS u(line, problem) WHERE l.import_id = $1 AND l.line = u.line",
            import_id,
            lines,
            status.value,
            problems,
        )


async def finish_import(connection: Connection, import_id: int) -> ImportSummary:
    """Every chunk is recorded: the verdicts recounted (lines refused at confirmation), the import confirmed by
    whoever asked for it."""
    await connection.execute(_COUNT, import_id)
    row = await connection.fetchrow(
        "UPDATE payment_import SET status = 'confirmed', confirmed_by = confirm_requested_by, confirmed_at = now()"
        " WHERE id = $1 RETURNING *",
        import_id,
    )
    assert row is not None, "the import is locked by this transaction"
    return ImportSummary(**dict(row))


async def suspended_among(connection: Connection, customer_ids: Sequence[int]) -> list[int]:
    """Which of these customers are suspended now (read after the payments, under their locks)."""
    rows = await connection.fetch(
        "SELECT id FROM customer WHERE id = ANY($1::integer[]) AND status = 'suspended' ORDER BY id", customer_ids
    )
    return [int(r["id"]) for r in rows]
