"""Delivering queued messages, once each, with retries and backoff (the ``notify.send_outbox`` job, in
``notify.jobs``, runs it after turning pending events into messages).

A batch is claimed in one short transaction (``FOR UPDATE SKIP LOCKED``; status ``sending`` with a claim time),
so two senders never take the same row. The claim is a short lease (`LEASE`) that the sender renews while it is
alive (`_Claim`); a claim left unrenewed for a lease belonged to a sender that died mid-send and is taken over,
and the message goes out again with the same ``{ref}`` so a de-duplicating gateway does not deliver it twice.

PostgreSQL going away mid-batch (a restart, a failover) costs no message and sends none twice: the sender keeps
the outcomes the gateway gave and writes them when the database answers again (`_patiently`, up to
`DB_PATIENCE`), starts no send once its lease may have run out, and gives the messages it did not try back at
once. A claim is not taken over in the first lease after the server started (``pg_postmaster_start_time()``):
live senders reconnect and record or renew first. docs/reliability.md has the reasoning.

SMS credit is taken once per message (``credit_taken``) and given back if the message finally fails; with no
credit the message waits (``waiting_credit``) instead of being dropped. Gateway errors that can pass (down,
timeout, 5xx, rate limit) are retried with exponential backoff for a day; refusals (bad number, bad
credentials) fail at once with the gateway's reason.

A message whose stored ``body`` masks a secret (``notify/outbox.py``) is sent with the text opened from
``text_sealed`` at send time, so only the gateway ever gets it; the sealed text is dropped once the message is
sent. A text that no longer opens (another ``ISPB_SECRET_KEY``) fails that message with the reason, not the run.

SQL, not Piccolo: the claim (``FOR UPDATE SKIP LOCKED`` with a lease), the credit taken under the tenant row's
lock, and the outcomes written for a whole group in one ``UPDATE ... FROM unnest(...)`` are set-based and
concurrency-sensitive statements the query builder does not express.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from ispb_notify import (
    Channel,
    Gateway,
    GatewayError,
    GatewayRateLimited,
    HttpClient,
    OutboundPolicy,
    OutgoingMessage,
)
from ispb_platform.notify.gateways import load_gateways
from ispb_platform.notify.outbox import outbox_binding
from ispb_platform.secrets_box import SealError, reveal
from ispb_tenants import Database, TenantRef, database_unavailable

log = logging.getLogger(__name__)
_T = TypeVar("_T")

LEASE = timedelta(seconds=60)
"""A claim its sender has not renewed for this long may be taken over (the sender died)."""
RENEW_EVERY_S = 10.0
"""How often a sender renews the claim of the batch it is sending (every second while the database is away)."""
SEND_MARGIN_S = 20.0
"""A send starts only while the claim was renewed less than ``LEASE - SEND_MARGIN_S`` ago: a send that starts
then ends (gateway timeout 10 s) before anyone may take the message over."""
DB_PATIENCE = timedelta(minutes=5)
"""How long a sender waits for the database to record what it sent before it gives up (inside the job's 600 s)."""
BATCH = 200
PARALLEL = 50
RECORD_EVERY = 50
GIVE_UP_AFTER = timedelta(days=1)
NO_CREDIT_RETRY = timedelta(minutes=10)
NO_GATEWAY_RETRY = timedelta(minutes=15)

ABANDONED = "status = 'sending' AND claimed_at < now() - {lease} AND pg_postmaster_start_time() < now() - {lease}"
"""A claim that may be taken over: not renewed for a lease, and the server has been up for a lease (after a
restart every live sender gets a lease to reconnect, record its outcomes and renew; the outage itself may have
been longer than the lease). ``{lease}`` is an interval expression. Shared with ``notify.jobs.OUTBOX_DUE``."""

_CLAIM = f"""
UPDATE outbox SET status = 'sending', claimed_at = now(), attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE (status IN ('queued', 'waiting_credit') AND next_attempt_at <= now())
       OR ({ABANDONED.format(lease="$1::interval")})
    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
)
RETURNING id, key, channel, to_address, body, text_sealed, segments, attempts, credit_taken, created_at, claimed_at
"""  # noqa: S608 (constants of this module)
_RENEW = (
    "UPDATE outbox SET claimed_at = now() WHERE id = ANY($1::bigint[]) AND status = 'sending' AND claimed_at = $2"
    " RETURNING claimed_at"
)
_RELEASE = (
    "UPDATE outbox SET status = 'queued', next_attempt_at = now(), attempts = attempts - 1"
    " WHERE id = ANY($1::bigint[]) AND status = 'sending' AND claimed_at = $2"
)


async def _patiently(what: str, action: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``action`` (one transaction) until the database answers it, waiting 0.5 s, then twice as long each time
    up to 5 s, for at most `DB_PATIENCE`; other errors, and the database still away after that, are raised.

    Every action given is safe to run again after a failure: a transaction that failed did nothing, and one
    whose commit was lost with the connection is repeated with the same effect (outcomes written by id, the
    claim's release and renewal conditioned on the claim, credit taken only for rows that have none)."""
    deadline = time.monotonic() + DB_PATIENCE.total_seconds()
    pause, waiting = 0.5, False
    while True:
        try:
            result = await action()
        except Exception as problem:
            if not database_unavailable(problem) or time.monotonic() + pause > deadline:
                raise
            if not waiting:
                log.warning("the database is away while %s (%s); waiting for it", what, type(problem).__name__)
                waiting = True
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
            continue
        if waiting:
            log.info("the database answers again; %s done", what)
        return result


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), timedelta(hours=1))


@dataclass
class Outcome:
    """What happened to one claimed message; written back for the whole batch in one statement."""

    status: str
    delay: timedelta = timedelta(0)
    error: str = ""
    provider_message_id: str | None = None
    reply: str | None = None
    give_back: bool = False


async def _take_credit(db: Database, tenant: TenantRef, rows: list[Any]) -> set[int]:
    """Take SMS credit for the batch's messages that have none yet, oldest first, as far as it goes; returns
    the ids that may be sent. One statement for the usual case (enough credit for all). An operator whose plan
    bills SMS afterwards (``tenant_subscription.sms_billing = 'postpaid'``) sends without credit."""
    needing = [r for r in rows if r["channel"] == Channel.SMS.value and not r["credit_taken"]]
    allowed = {r["id"] for r in rows} - {r["id"] for r in needing}
    if not needing:
        return allowed
    async with db.tenant(tenant) as scope:
        # run again after a lost commit (`_patiently`): rows whose credit that commit took need none now
        had = await scope.connection.fetch(
            "SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND credit_taken", [r["id"] for r in needing]
        )
        allowed |= {r["id"] for r in had}
        needing = [r for r in needing if r["id"] not in allowed]
        account = await scope.connection.fetchrow(
            "SELECT t.sms_credit, s.sms_billing FROM platform.tenant t"
            " LEFT JOIN platform.tenant_subscription s ON s.tenant_id = t.id WHERE t.id = $1 FOR UPDATE OF t",
            tenant.id,
        )
        assert account is not None, "the tenant's own row"
        if account["sms_billing"] == "postpaid":  # billed afterwards by subscription.bill_sms, no credit needed
            return allowed | {r["id"] for r in needing}
        credit = account["sms_credit"]
        taken: list[int] = []
        spent = 0
        for row in needing:
            if spent + row["segments"] <= credit:
                spent += row["segments"]
                taken.append(row["id"])
        if taken:
            await scope.connection.execute(
                "UPDATE platform.tenant SET sms_credit = sms_credit - $2 WHERE id = $1", tenant.id, spent
            )
            await scope.connection.execute("UPDATE outbox SET credit_taken = true WHERE id = ANY($1::bigint[])", taken)
    return allowed | set(taken)


@dataclass(frozen=True)
class _Run:
    """One sender run: the tenant, its gateways, the run's clock (messages older than a day are given up) and the
    key that opens the texts of messages that carry a secret."""

    db: Database
    tenant: TenantRef
    gateways: dict[Channel, Gateway]
    now: datetime
    secret_key: str


def _text(run: _Run, row: Any) -> str:
    """What the gateway gets: the stored body, or the text it masks, opened from ``text_sealed``."""
    if row["text_sealed"] is None:
        return str(row["body"])
    return reveal(run.secret_key, row["text_sealed"], outbox_binding(run.tenant.id, row["key"]))


async def _deliver(run: _Run, row: Any, may_send: bool) -> Outcome:
    now, gateways = run.now, run.gateways
    channel = Channel(row["channel"])
    gateway = gateways.get(channel)
    if gateway is None:
        return Outcome(
            "queued",
            NO_GATEWAY_RETRY,
            f"No {channel.value.upper()} gateway is set up (SMS and Notifications → SMS Gateway Setup)",
        )
    if not may_send:
        return Outcome(
            "waiting_credit",
            NO_CREDIT_RETRY,
            f"Waiting for SMS credit: this message needs {row['segments']} segment(s)",
        )
    try:
        text = _text(run, row)
    except SealError as problem:
        return Outcome("failed", error=f"The message's text cannot be opened: {problem}", give_back=True)
    try:
        result = await gateway.send(
            OutgoingMessage(to=row["to_address"], text=text, channel=channel, reference=row["key"])
        )
    except GatewayError as problem:
        error = f"{type(problem).__name__}: {problem}"
        if problem.retryable and row["created_at"] + GIVE_UP_AFTER > now:
            delay = backoff(row["attempts"])
            if isinstance(problem, GatewayRateLimited) and problem.retry_after:
                delay = max(delay, timedelta(seconds=problem.retry_after))
            return Outcome("queued", delay, error, reply=problem.raw[:2000])
        return Outcome("failed", error=error, reply=problem.raw[:2000], give_back=True)
    return Outcome("sent", provider_message_id=result.provider_message_id, reply=result.raw[:2000])


async def _record(db: Database, tenant: TenantRef, rows: list[Any], outcomes: list[Outcome]) -> None:
    """Write the batch's outcomes in one statement, and give back the credit of messages that failed for good.

    A message recorded ``sent`` stays sent: writing again after a commit whose answer was lost (`_patiently`)
    must not turn a message another sender has since sent back into one to send."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "UPDATE outbox o SET status = u.status, next_attempt_at = now() + u.delay, last_error = u.error,"
            " provider_message_id = coalesce(u.message_id, o.provider_message_id),"
            " gateway_reply = coalesce(u.reply, o.gateway_reply),"
            " sent_at = CASE WHEN u.status = 'sent' THEN now() ELSE o.sent_at END,"
            " text_sealed = CASE WHEN u.status = 'sent' THEN NULL ELSE o.text_sealed END"
            " FROM unnest($1::bigint[], $2::text[], $3::interval[], $4::text[], $5::text[], $6::text[])"
            " AS u(id, status, delay, error, message_id, reply) WHERE o.id = u.id AND o.status <> 'sent'",
            [r["id"] for r in rows],
            [o.status for o in outcomes],
            [o.delay for o in outcomes],
            [o.error for o in outcomes],
            [o.provider_message_id for o in outcomes],
            [o.reply for o in outcomes],
        )
        refund_ids = [r["id"] for r, o in zip(rows, outcomes, strict=True) if o.give_back]
        if refund_ids:
            returned = await scope.connection.fetchval(
                "WITH back AS (UPDATE outbox SET credit_taken = false WHERE id = ANY($1::bigint[]) AND credit_taken"
                " AND channel = 'sms' RETURNING segments) SELECT coalesce(sum(segments), 0) FROM back",
                refund_ids,
            )
            if returned:
                await scope.connection.execute(
                    "UPDATE platform.tenant SET sms_credit = sms_credit + $2 WHERE id = $1", tenant.id, returned
                )


@dataclass
class _Claim:
    """The batch a sender holds: its ids, the claim time it last wrote (its token: a claim renewed or taken over
    by someone else no longer matches) and when, by this process's clock, that was confirmed."""

    ids: list[int]
    token: datetime
    confirmed_at: float
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def fresh(self) -> bool:
        """Whether a send may start: nobody can take these messages over before it ends."""
        return time.monotonic() - self.confirmed_at < LEASE.total_seconds() - SEND_MARGIN_S

    async def keep(self, db: Database, tenant: TenantRef) -> None:
        """Renew the claim until `stop` is set: every `RENEW_EVERY_S`, every second while the database is away.
        Only an answered renewal moves `confirmed_at`; stopping waits for a renewal in flight (never cancels a
        statement midway, which would leave its connection busy)."""
        pause = RENEW_EVERY_S
        while not self.stop.is_set():
            try:
                await asyncio.wait_for(self.stop.wait(), pause)
                return
            except TimeoutError:
                pass
            started = time.monotonic()
            try:
                async with db.tenant(tenant) as scope:
                    renewed = await scope.connection.fetchval(_RENEW, self.ids, self.token)
            except Exception as problem:
                if not database_unavailable(problem):
                    log.exception("outbox of %s: the claim could not be renewed; its sends stop", tenant.slug)
                    return  # the claim goes stale: no send starts, the untried messages are given back
                pause = 1.0
                continue
            if renewed is not None:  # None: every message of the batch is recorded
                self.token = renewed
            self.confirmed_at, pause = started, RENEW_EVERY_S


async def _send_batch(
    run: _Run, rows: list[Any], allowed: set[int], gate: asyncio.Semaphore, claim: _Claim
) -> list[Outcome | None]:
    """Send a claimed batch in parallel, recording outcomes in groups as sends finish, so a crash loses at most
    ``RECORD_EVERY`` recorded outcomes (whose messages a de-duplicating gateway recognises by ``{ref}``).

    A send starts only while the claim is fresh; a message not tried (None) is given back by the caller. A group
    whose record finds the database away waits for it (`_patiently`) while the other sends go on."""
    done: list[tuple[Any, Outcome]] = []
    every: list[Outcome | None] = [None] * len(rows)

    async def send_one(index: int, row: Any) -> None:
        async with gate:
            if not claim.fresh():
                return
            outcome = await _deliver(run, row, row["id"] in allowed)
        every[index] = outcome
        done.append((row, outcome))
        if len(done) >= RECORD_EVERY:
            await _record_group(run, done)

    await asyncio.gather(*(send_one(index, row) for index, row in enumerate(rows)))
    while done:
        await _record_group(run, done)
    return every


async def _record_group(run: _Run, done: list[tuple[Any, Outcome]]) -> None:
    group = done[:]
    done.clear()
    try:
        await _patiently(
            f"recording {len(group)} outcomes",
            lambda: _record(run.db, run.tenant, [r for r, _ in group], [o for _, o in group]),
        )
    except Exception:
        sent = [r["id"] for r, o in group if o.status == "sent"]
        log.error(
            "outbox of %s: %d messages the gateway accepted could not be recorded as sent (ids %s); after the"
            " lease they go out again with the same reference",
            run.tenant.slug,
            len(sent),
            sent,
        )
        raise


async def deliver_outbox(
    db: Database, tenant: TenantRef, *, secret_key: str, now: datetime, outbound: OutboundPolicy
) -> dict[str, int]:
    """Claim and deliver ``tenant``'s due messages, batch after batch, until nothing is due; returns the
    outcomes counted (``sent``, ``retry``, ``failed``, ``waiting_credit``, ``no_gateway``). Requests go only
    where ``outbound`` allows (``ISPB_OUTBOUND_ALLOW``): a gateway URL to a refused address fails its messages.

    While the database is away the sender waits for it (`DB_PATIENCE`) with what it holds: outcomes are written
    and untried messages given back when it answers, and delivery goes on in the same run."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "waiting_credit": 0, "no_gateway": 0}
    async with HttpClient(max_connections=PARALLEL, policy=outbound) as client:
        async with db.tenant(tenant):
            try:
                gateways = await load_gateways(secret_key, tenant.id, client)
            except SealError:
                gateways = {}
        run = _Run(db, tenant, gateways, now, secret_key)
        gate = asyncio.Semaphore(PARALLEL)
        while True:
            started = time.monotonic()
            rows = await _patiently("claiming messages", partial(_claim, db, tenant))
            if not rows:
                return counts
            claim = _Claim([r["id"] for r in rows], rows[0]["claimed_at"], started)
            keeper = asyncio.create_task(claim.keep(db, tenant))
            try:
                allowed = (
                    await _patiently("taking SMS credit", partial(_take_credit, db, tenant, rows))
                    if Channel.SMS in gateways
                    else set()
                )
                outcomes = await _send_batch(run, rows, allowed, gate, claim)
            finally:
                claim.stop.set()
                await asyncio.gather(keeper, return_exceptions=True)
            untried = [row["id"] for row, outcome in zip(rows, outcomes, strict=True) if outcome is None]
            if untried:
                await _patiently("giving back untried messages", partial(_release, db, tenant, untried, claim.token))
            for outcome in outcomes:
                if outcome is None:
                    continue
                key = {"queued": "retry"}.get(outcome.status, outcome.status)
                if outcome.error.startswith("No ") and outcome.status == "queued":
                    key = "no_gateway"
                counts[key] += 1


async def _claim(db: Database, tenant: TenantRef) -> list[Any]:
    async with db.tenant(tenant) as scope:
        return list(await scope.connection.fetch(_CLAIM, LEASE, BATCH))


async def _release(db: Database, tenant: TenantRef, ids: list[int], token: datetime) -> None:
    """Give back messages this sender claimed but did not try (its claim went stale while the database was away):
    due at once, their attempt not counted. Rows someone else took over meanwhile are theirs (token differs)."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(_RELEASE, ids, token)
