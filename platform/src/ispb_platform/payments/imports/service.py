"""Importing a bank or mobile-money statement: preview every line, then record the ready ones at once.

Step 1, preview (`preview_statement`): the file is read (``statement.py``), and every line is stored with its
verdict in ``payment_import_line``: ready, duplicate (its reference repeats an earlier line or is already
recorded), unknown customer, or invalid (with the reason and its line number). No payment is written. The
stored lines *are* the file between the two steps: the confirmation records exactly what the operator saw, a
refused line keeps its text for the page and for the "refused lines" download, and nothing has to be uploaded
twice (a re-upload could differ from what was previewed; a hash check would only refuse it).

Step 2, confirm: "Record" (`request_confirmation`) marks the import 'confirming' and asks the worker to run
``payments.confirm_imports`` now; the page shows the job's progress. The job (`confirm_import`) records the
ready lines as the counter records one payment (``payments.service.record_payment``), with the same rules,
set-based per chunk of customers, one transaction per chunk: under the customers' row locks (taken in id order),
each payment is allocated to its customer's open bills oldest first by ``ispb_billing.allocate`` (a customer's
payments in statement order, each seeing the bills the previous one paid), the rest kept as advance credit; the
payments, allocations, bills' paid amounts, balance caches and ``payment.received`` events are written with one
statement each, suspended customers whose payments cleared what was overdue are reactivated as a set
(`_reactivate_paid`), and the import's mark (``recorded_through``) moves to the chunk's last customer. A chunk
ends between customers, so the mark says exactly what is recorded: a worker killed mid-way leaves whole chunks
and the mark, and the next run (a retry, the minute tick, a second worker) records the rest, each line once.

The unique index on the normalised reference records a transaction once even when two imports (or a double
click) race: a second run of the same import waits on its row lock and goes on from the mark or finds it done;
when another import recorded the same reference first, the chunk's insert fails on the index (in a savepoint)
and is planned again without that line, which says so. When no ready line is left, the import is recounted and
confirmed, the activity log gets the counts, and the messages go out at once.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from saq import Queue

from ispb_billing import Money, OpenBill, Settlement, allocate, format_money, outstanding_after
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing.suspension.actions import StatusChange, reactivate_paid
from ispb_platform.jobs.queue import run_soon
from ispb_platform.network.routers.commands import kick
from ispb_platform.payments.imports import queries
from ispb_platform.payments.imports.queries import ImportStatus, ImportSummary, LineStatus, LockedCustomer, ReadyLine
from ispb_platform.payments.imports.statement import Defaults, StatementRejected, read_statement
from ispb_platform.payments.queries import PaymentMethod, pay_bills
from ispb_platform.payments.service import PAYMENT_RECEIVED, payment_received
from ispb_tenants import Connection, Database, TenantRef, TenantScope

CHUNK = 5_000
"""Ready lines recorded per transaction (about: a chunk ends after its last customer's lines): large enough that
per-statement and per-commit costs vanish, small enough that a chunk's arrays and locks stay modest and a killed
worker loses at most a few seconds of work."""


class ImportNotFound(LookupError):
    pass


CONFIRM_JOB = "payments.confirm_imports"


@dataclass(frozen=True)
class ConfirmationRequest:
    summary: ImportSummary
    already_requested: bool
    """The import was being recorded or recorded already: nothing was asked again."""


@dataclass(frozen=True)
class Confirmation:
    """What one run did for an import: ``recorded`` and ``reactivated`` by this run (a run that goes on after a
    killed one counts only its own), ``finished`` when this run confirmed it; ``summary`` is the import's."""

    summary: ImportSummary
    recorded: int
    reactivated: int
    finished: bool


async def preview_statement(
    db: TenantScope,
    operator: Principal,
    *,
    file_name: str,
    content: bytes,
    default_method: PaymentMethod,
    default_date: date,
    today: date,
) -> int:
    """Store the statement's lines with their verdicts; returns the import id. Writes no payment.

    Raises ``StatementRejected`` (the file as a whole is unusable), leaving nothing behind."""
    defaults = Defaults(default_method, default_date, today, db.tenant.currency)
    statement = read_statement(content, defaults)
    async with db.connection.transaction():  # a line read late can still reject the file: undo the import
        import_id = await queries.create_import(
            db.connection,
            file_name=file_name[:200],
            file_sha256=hashlib.sha256(content).hexdigest(),
            default_method=default_method.value,
            default_date=default_date,
            currency=db.tenant.currency,
            header=statement.header,
            ignored_columns=statement.ignored_columns,
            uploaded_by=_who(operator),
        )
        await queries.store_lines(db.connection, import_id, statement.lines)
    return import_id


async def request_confirmation(
    db: TenantScope, operator: Principal, import_id: int, *, queue: Queue | None, ip: str
) -> ConfirmationRequest:
    """The operator's "Record": mark the import for the job and ask the worker to run it now (after commit).

    The request is data, not only a queued job: were the queue away, ``payments.confirm_imports`` finds the import
    at its next minute (its ``due_work``). Asking again for an import being recorded or recorded changes nothing.
    Raises ``ImportNotFound``."""
    summary = await queries.lock_import(db.connection, import_id)
    if summary is None:
        raise ImportNotFound(import_id)
    if summary.status != ImportStatus.PREVIEW:
        return ConfirmationRequest(summary, already_requested=True)
    summary = await queries.mark_confirming(db.connection, import_id, _who(operator))
    await record_activity(
        db,
        operator,
        "payments.import_confirmed",
        object_type="payment_import",
        object_id=import_id,
        summary=f"Asked to record {summary.ready:,} payments from {summary.file_name}",
        ip=ip,
    )
    if queue is not None:
        tenant = db.tenant
        db.on_commit(lambda: run_soon(queue, CONFIRM_JOB, tenant, f"import {import_id}"))
    return ConfirmationRequest(summary, already_requested=False)


async def confirm_requested(
    db: Database, tenant: TenantRef, *, today: date, secret_key: str, queue: Queue | None
) -> list[Confirmation]:
    """Record every import of ``tenant`` its operator asked for (the job's work), oldest first."""
    async with db.tenant(tenant) as scope:
        import_ids = await queries.confirming_imports(scope.connection)
    return [
        await confirm_import(db, tenant, import_id, today=today, secret_key=secret_key, queue=queue)
        for import_id in import_ids
    ]


async def confirm_import(
    db: Database, tenant: TenantRef, import_id: int, *, today: date, secret_key: str, queue: Queue | None
) -> Confirmation:
    """Record the ready lines of an import asked for (see the module's docstring), a chunk per transaction.

    Each chunk's transaction takes the import's row lock, reads how far it got (``recorded_through``), records
    the next customers' lines and moves the mark: a second run at the same time waits for the lock and goes on
    from the new mark, a run after a killed one goes on from the last committed chunk, and neither records a
    line twice. A previewed import (not asked for) and a confirmed one are left as they are.

    Raises ``ImportNotFound``."""
    recorded = reactivated = 0
    while True:
        async with db.tenant(tenant) as scope:
            step = await _confirm_chunk(scope, import_id, today, secret_key, queue)
        recorded += step.recorded
        reactivated += step.reactivated
        if step.summary is not None:
            return Confirmation(step.summary, recorded, reactivated, finished=step.finished)


@dataclass(frozen=True)
class _Step:
    """What one transaction of a confirmation did; ``summary`` when there is nothing more to do."""

    recorded: int = 0
    reactivated: int = 0
    summary: ImportSummary | None = None
    finished: bool = False


async def _confirm_chunk(db: TenantScope, import_id: int, today: date, secret_key: str, queue: Queue | None) -> _Step:
    connection = db.connection
    summary = await queries.lock_import(connection, import_id)
    if summary is None:
        raise ImportNotFound(import_id)
    if summary.status != ImportStatus.CONFIRMING:
        return _Step(summary=summary)
    lines = await queries.next_chunk(connection, import_id, summary.recorded_through, CHUNK)
    if not lines:
        summary = await queries.finish_import(connection, import_id)
        await _log(db, summary)
        if queue is not None and summary.recorded:
            tenant = db.tenant
            db.on_commit(lambda: run_soon(queue, "notify.send_outbox", tenant, "payment import"))
        return _Step(summary=summary, finished=True)
    requested_by = summary.confirm_requested_by or ""
    run = _Run(import_id, summary.currency, requested_by)
    await _record_chunk(connection, run, lines)
    actor = f"system (statement import by {requested_by})"
    reactivated = await _reactivate_paid(db, sorted(run.paid_customers), today, secret_key, actor)
    await queries.advance_import(
        connection,
        import_id,
        through=lines[-1].customer_id,
        recorded=run.recorded,
        recorded_minor=run.recorded_minor,
        reactivated=len(reactivated),
    )
    if queue is not None:
        for command_id in (change.command_id for change in reactivated if change.command_id is not None):
            db.on_commit(partial(kick, queue, db.tenant, command_id))
    return _Step(recorded=run.recorded, reactivated=len(reactivated))


@dataclass
class _Run:
    import_id: int
    currency: str
    by: str
    recorded: int = 0
    recorded_minor: int = 0
    paid_customers: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class PlannedPayment:
    """A ready line as it will be recorded: its settlement and the customer's balance after it."""

    line: ReadyLine
    amount: Money
    settlement: Settlement
    balance_minor: int


def plan_payments(
    lines: Sequence[ReadyLine],
    open_bills: dict[int, list[OpenBill]],
    customers: dict[int, LockedCustomer],
    currency: str,
) -> list[PlannedPayment]:
    """Each line's settlement, as recording the lines one by one in this order would make it: the rule is
    ``ispb_billing.allocate`` (oldest bill first, the rest advance credit), and a customer's next payment sees
    what the previous one left outstanding (``outstanding_after``). Pure: nothing is read or written."""
    bills = {customer_id: tuple(b) for customer_id, b in open_bills.items()}
    balances = {customer_id: c.balance_minor for customer_id, c in customers.items()}
    last = {line.customer_id: n for n, line in enumerate(lines)}  # a customer's last payment needs no "after"
    planned: list[PlannedPayment] = []
    for n, line in enumerate(lines):
        own = bills.get(line.customer_id, ())
        amount = Money(line.amount_minor, currency)
        settlement = allocate(amount, own)
        if settlement.allocations and n < last[line.customer_id]:
            bills[line.customer_id] = outstanding_after(own, settlement)
        balances[line.customer_id] -= line.amount_minor
        planned.append(PlannedPayment(line, amount, settlement, balances[line.customer_id]))
    return planned


async def _record_chunk(connection: Connection, run: _Run, lines: list[ReadyLine]) -> None:
    customer_ids = sorted({line.customer_id for line in lines})
    customers = await queries.lock_customers(connection, customer_ids)
    gone = [line for line in lines if line.customer_id not in customers]
    await _refuse(connection, run, gone, LineStatus.UNKNOWN_CUSTOMER, "The customer was removed after the preview.")
    lines = [line for line in lines if line.customer_id in customers]
    taken = await queries.recorded_references(connection, [line.reference_key for line in lines])
    await _refuse(connection, run, [line for line in lines if line.reference_key in taken], LineStatus.DUPLICATE)
    lines = [line for line in lines if line.reference_key not in taken]
    bills = await queries.open_bills_of(connection, sorted({line.customer_id for line in lines}), run.currency)
    while lines:
        planned = plan_payments(lines, bills, customers, run.currency)
        try:
            payment_ids = await queries.insert_payments(
                connection,
                run.import_id,
                [p.line.line for p in planned],
                [p.settlement.unapplied.minor for p in planned],
                currency=run.currency,
                received_by=run.by,
            )
        except queries.ReferenceTaken:  # recorded by a concurrent import, committed now: visible to a new read
            taken = await queries.recorded_references(connection, [line.reference_key for line in lines])
            if not taken:
                raise
            await _refuse(
                connection, run, [line for line in lines if line.reference_key in taken], LineStatus.DUPLICATE
            )
            lines = [line for line in lines if line.reference_key not in taken]
            continue
        await _write_effects(connection, planned, payment_ids)
        run.recorded += len(planned)
        run.recorded_minor += sum(p.line.amount_minor for p in planned)
        run.paid_customers.update(p.line.customer_id for p in planned)
        return


async def _write_effects(
    connection: Connection, planned: Sequence[PlannedPayment], payment_ids: dict[str, int]
) -> None:
    """Allocations, bills' paid amounts, balance caches and events of a chunk's inserted payments."""
    allocated: tuple[list[int], list[int], list[int]] = ([], [], [])
    per_bill: dict[int, int] = {}
    per_customer: dict[int, int] = {}
    event_customers: list[int] = []
    payloads: list[str] = []
    for p in planned:
        payment_id = payment_ids[p.line.reference_key]
        for allocation in p.settlement.allocations:
            allocated[0].append(allocation.bill_id)
            allocated[1].append(payment_id)
            allocated[2].append(allocation.amount.minor)
            per_bill[allocation.bill_id] = per_bill.get(allocation.bill_id, 0) + allocation.amount.minor
        per_customer[p.line.customer_id] = per_customer.get(p.line.customer_id, 0) - p.line.amount_minor
        event_customers.append(p.line.customer_id)
        payload = payment_received(payment_id, p.amount, p.line.method, p.settlement, p.balance_minor)
        payloads.append(json.dumps(payload))
    await queries.insert_allocations(connection, *allocated)
    await pay_bills(connection, list(per_bill), list(per_bill.values()))
    await queries.move_balances(connection, list(per_customer), list(per_customer.values()))
    await queries.add_events(connection, PAYMENT_RECEIVED, event_customers, payloads)


async def _refuse(
    connection: Connection, run: _Run, lines: Sequence[ReadyLine], status: LineStatus, reason: str = ""
) -> None:
    """Lines the preview found ready that cannot be recorded now, with the reason on the line."""
    if not lines:
        return
    if status is LineStatus.DUPLICATE:
        reason = "The transaction was recorded after the preview (another import, or at the counter)."
    await queries.judge_again(connection, run.import_id, [line.line for line in lines], status, [reason] * len(lines))


async def _reactivate_paid(
    db: TenantScope, customer_ids: Sequence[int], today: date, secret_key: str, actor: str
) -> list[StatusChange]:
    """Reactivate the chunk's paid customers who are suspended and owe nothing overdue any more, in the chunk's
    transaction (as the counter does with one payment): the rule a single payment uses, for the whole set in a
    few statements (``reactivate_paid``), only over those suspended. A customer whose lines the chunk ended
    before all of them were recorded cannot happen: a chunk ends between customers."""
    suspended = await queries.suspended_among(db.connection, customer_ids)
    return await reactivate_paid(db.connection, db.tenant, suspended, today, secret_key=secret_key, actor=actor)


async def _log(db: TenantScope, summary: ImportSummary) -> None:
    """The job's entry (actor ``system``); the operator's click has its own (``payments.import_confirmed``)."""
    amount = format_money(Money(summary.recorded_minor, summary.currency), symbol=False)
    await record_activity(
        db,
        None,
        "payments.imported",
        object_type="payment_import",
        object_id=summary.id,
        summary=f"Imported {summary.recorded:,} payments ({amount} {summary.currency}) from {summary.file_name};"
        f" {summary.refused:,} lines refused",
        details={
            "lines": summary.lines,
            "recorded": summary.recorded,
            "recorded_minor": summary.recorded_minor,
            "duplicate": summary.duplicate,
            "unknown_customer": summary.unknown_customer,
            "invalid": summary.invalid,
            "reactivated": summary.reactivated,
            "file_sha256": summary.file_sha256,
            "confirmed_by": summary.confirmed_by,
        },
    )


def _who(operator: Principal) -> str:
    return f"{operator.name} <{operator.login}>"


__all__ = (
    "CHUNK",
    "CONFIRM_JOB",
    "Confirmation",
    "ConfirmationRequest",
    "ImportNotFound",
    "PlannedPayment",
    "StatementRejected",
    "confirm_import",
    "confirm_requested",
    "plan_payments",
    "preview_statement",
    "request_confirmation",
)
