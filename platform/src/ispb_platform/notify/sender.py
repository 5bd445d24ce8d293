"""``notify.send_outbox``: deliver queued messages, once each, with retries and backoff.

A batch is claimed in one short transaction (``FOR UPDATE SKIP LOCKED``; status ``sending`` with a claim time),
so two senders never take the same row. A claim older than the lease belonged to a sender that died mid-send:
it is taken over, and the message goes out again with the same ``{ref}`` so a de-duplicating gateway does not
deliver it twice. SMS credit is taken once per message (``credit_taken``) and given back if the message finally
fails; with no credit the message waits (``waiting_credit``) instead of being dropped. Gateway errors that can
pass (down, timeout, 5xx, rate limit) are retried with exponential backoff for a day; refusals (bad number,
bad credentials) fail at once with the gateway's reason.
"""

import asyncio
from datetime import timedelta
from typing import Any

from ispb_notify import Channel, GatewayError, GatewayRateLimited, OutgoingMessage
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.notify.gateways import close, load_gateways, send
from ispb_platform.secrets_box import SealError
from ispb_tenants import Database, TenantRef

LEASE = timedelta(minutes=5)
BATCH = 200
PARALLEL = 20
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
RETURNING id, key, channel, to_address, body, segments, attempts, credit_taken, created_at
"""


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), timedelta(hours=1))


async def _take_credit(db: Database, tenant: TenantRef, row: Any) -> bool:
    """Take the message's segments from the operator's SMS credit, once; False when there is not enough."""
    if row["channel"] != Channel.SMS.value or row["credit_taken"]:
        return True
    async with db.tenant(tenant) as scope:
        taken = await scope.connection.fetchval(
            "UPDATE platform.tenant SET sms_credit = sms_credit - $2 WHERE id = $1 AND sms_credit >= $2 RETURNING 1",
            tenant.id,
            row["segments"],
        )
        if taken:
            await scope.connection.execute("UPDATE outbox SET credit_taken = true WHERE id = $1", row["id"])
    return bool(taken)


async def _finish(db: Database, tenant: TenantRef, row: Any, sql: str, *args: object) -> None:
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(sql, row["id"], *args)


async def _give_back(db: Database, tenant: TenantRef, row: Any) -> None:
    if row["channel"] == Channel.SMS.value:
        async with db.tenant(tenant) as scope:
            returned = await scope.connection.fetchval(
                "UPDATE outbox SET credit_taken = false WHERE id = $1 AND credit_taken RETURNING segments", row["id"]
            )
            if returned:
                await scope.connection.execute(
                    "UPDATE platform.tenant SET sms_credit = sms_credit + $2 WHERE id = $1", tenant.id, returned
                )


async def _deliver(ctx: JobContext, tenant: TenantRef, gateways: dict[Channel, Any], row: Any) -> str:
    channel = Channel(row["channel"])
    gateway = gateways.get(channel)
    if gateway is None:
        await _finish(
            ctx.db,
            tenant,
            row,
            "UPDATE outbox SET status = 'queued', next_attempt_at = now() + $2, last_error = $3 WHERE id = $1",
            NO_GATEWAY_RETRY,
            f"No {channel.value.upper()} gateway is set up (SMS and Notifications → SMS Gateway Setup)",
        )
        return "no_gateway"
    if not await _take_credit(ctx.db, tenant, row):
        await _finish(
            ctx.db,
            tenant,
            row,
            "UPDATE outbox SET status = 'waiting_credit', next_attempt_at = now() + $2, last_error = $3 WHERE id = $1",
            NO_CREDIT_RETRY,
            f"Waiting for SMS credit: this message needs {row['segments']} segment(s)",
        )
        return "waiting_credit"
    try:
        result = await send(
            gateway, OutgoingMessage(to=row["to_address"], text=row["body"], channel=channel), row["key"]
        )
    except GatewayError as problem:
        expired = row["created_at"] + GIVE_UP_AFTER <= ctx.now
        if problem.retryable and not expired:
            delay = backoff(row["attempts"])
            if isinstance(problem, GatewayRateLimited) and problem.retry_after:
                delay = max(delay, timedelta(seconds=problem.retry_after))
            await _finish(
                ctx.db,
                tenant,
                row,
                "UPDATE outbox SET status = 'queued', next_attempt_at = now() + $2, last_error = $3,"
                " gateway_reply = $4 WHERE id = $1",
                delay,
                f"{type(problem).__name__}: {problem}",
                problem.raw[:2000],
            )
            return "retry"
        await _give_back(ctx.db, tenant, row)
        await _finish(
            ctx.db,
            tenant,
            row,
            "UPDATE outbox SET status = 'failed', last_error = $2, gateway_reply = $3 WHERE id = $1",
            f"{type(problem).__name__}: {problem}",
            problem.raw[:2000],
        )
        return "failed"
    await _finish(
        ctx.db,
        tenant,
        row,
        "UPDATE outbox SET status = 'sent', sent_at = now(), last_error = '', provider_message_id = $2,"
        " gateway_reply = $3 WHERE id = $1",
        result.provider_message_id,
        result.raw[:2000],
    )
    return "sent"


async def send_outbox(ctx: JobContext) -> Counts:
    """The scheduled job (every minute): claim and deliver batches until nothing is due."""
    from ispb_platform.notify.events import events_to_outbox

    tenant = ctx.require_tenant()
    counts = {"sent": 0, "retry": 0, "failed": 0, "waiting_credit": 0, "no_gateway": 0}
    counts["from_events"] = await events_to_outbox(ctx.db, tenant)
    async with ctx.db.tenant(tenant) as scope:
        try:
            gateways = await load_gateways(scope.connection, ctx.secret_key)
        except SealError:
            gateways = {}
    gate = asyncio.Semaphore(PARALLEL)

    async def one(row: Any) -> None:
        async with gate:
            counts[await _deliver(ctx, tenant, gateways, row)] += 1

    try:
        while True:
            async with ctx.db.tenant(tenant) as scope:
                rows = await scope.connection.fetch(_CLAIM, LEASE, BATCH)
            if not rows:
                return counts
            await asyncio.gather(*(one(row) for row in rows))
    finally:
        await close(gateways)
