"""Delivering queued messages, once each, with retries and backoff (the ``notify.send_outbox`` job, in
``notify.jobs``, runs it after turning pending events into messages).

A batch is claimed in one short transaction (``FOR UPDATE SKIP LOCKED``; status ``sending`` with a claim time),
so two senders never take the same row. A claim older than the lease belonged to a sender that died mid-send:
it is taken over, and the message goes out again with the same ``{ref}`` so a de-duplicating gateway does not
deliver it twice. SMS credit is taken once per message (``credit_taken``) and given back if the message finally
fails; with no credit the message waits (``waiting_credit``) instead of being dropped. Gateway errors that can
pass (down, timeout, 5xx, rate limit) are retried with exponential backoff for a day; refusals (bad number,
bad credentials) fail at once with the gateway's reason.

A message whose stored ``body`` masks a secret (``notify/outbox.py``) is sent with the text opened from
``text_sealed`` at send time, so only the gateway ever gets it; the sealed text is dropped once the message is
sent. A text that no longer opens (another ``ISPB_SECRET_KEY``) fails that message with the reason, not the run.

SQL, not Piccolo: the claim (``FOR UPDATE SKIP LOCKED`` with a lease), the credit taken under the tenant row's
lock, and the outcomes written for a whole group in one ``UPDATE ... FROM unnest(...)`` are set-based and
concurrency-sensitive statements the query builder does not express.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
from ispb_tenants import Database, TenantRef

LEASE = timedelta(minutes=5)
BATCH = 200
PARALLEL = 50
RECORD_EVERY = 50
GIVE_UP_AFTER = timedelta(days=1)
NO_CREDIT_RETRY = timedelta(minutes=10)
NO_GATEWAY_RETRY = timedelta(minutes=15)

_CLAIM = """
UPDATE outbox SET status = 'sending', claimed_at = now(), attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE (status IN ('queued', 'waiting_credit') AND next_attempt_at <= now())
       OR (status = 'sending' AND claimed_at < now() - $1::interval)
    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
)
RETURNING id, key, channel, to_address, body, text_sealed, segments, attempts, credit_taken, created_at
"""


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
    """Write the batch's outcomes in one statement, and give back the credit of messages that failed for good."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "UPDATE outbox o SET status = u.status, next_attempt_at = now() + u.delay, last_error = u.error,"
            " provider_message_id = coalesce(u.message_id, o.provider_message_id),"
            " gateway_reply = coalesce(u.reply, o.gateway_reply),"
            " sent_at = CASE WHEN u.status = 'sent' THEN now() ELSE o.sent_at END,"
            " text_sealed = CASE WHEN u.status = 'sent' THEN NULL ELSE o.text_sealed END"
            " FROM unnest($1::bigint[], $2::text[], $3::interval[], $4::text[], $5::text[], $6::text[])"
            " AS u(id, status, delay, error, message_id, reply) WHERE o.id = u.id",
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


async def _send_batch(run: _Run, rows: list[Any], allowed: set[int], gate: asyncio.Semaphore) -> list[Outcome]:
    """Send a claimed batch in parallel, recording outcomes in groups as sends finish, so a crash loses at most
    ``RECORD_EVERY`` recorded outcomes (whose messages a de-duplicating gateway recognises by ``{ref}``)."""
    done: list[tuple[Any, Outcome]] = []
    every: list[Outcome] = []

    async def send_one(row: Any) -> None:
        async with gate:
            outcome = await _deliver(run, row, row["id"] in allowed)
        every.append(outcome)
        done.append((row, outcome))
        if len(done) >= RECORD_EVERY:
            group = done[:]
            done.clear()
            await _record(run.db, run.tenant, [r for r, _ in group], [o for _, o in group])

    await asyncio.gather(*(send_one(row) for row in rows))
    if done:
        await _record(run.db, run.tenant, [r for r, _ in done], [o for _, o in done])
    return every


async def deliver_outbox(
    db: Database, tenant: TenantRef, *, secret_key: str, now: datetime, outbound: OutboundPolicy
) -> dict[str, int]:
    """Claim and deliver ``tenant``'s due messages, batch after batch, until nothing is due; returns the
    outcomes counted (``sent``, ``retry``, ``failed``, ``waiting_credit``, ``no_gateway``). Requests go only
    where ``outbound`` allows (``ISPB_OUTBOUND_ALLOW``): a gateway URL to a refused address fails its messages."""
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
            async with db.tenant(tenant) as scope:
                rows = list(await scope.connection.fetch(_CLAIM, LEASE, BATCH))
            if not rows:
                return counts
            allowed = await _take_credit(db, tenant, rows) if Channel.SMS in gateways else set()
            for outcome in await _send_batch(run, rows, allowed, gate):
                key = {"queued": "retry"}.get(outcome.status, outcome.status)
                if outcome.error.startswith("No ") and outcome.status == "queued":
                    key = "no_gateway"
                counts[key] += 1
