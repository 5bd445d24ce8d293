"""The notify domain's scheduled jobs: the entry points ``jobs/registry.py`` names.

Each takes the job context and hands explicit arguments to the set-based work: reminders in
``notify.reminders``, events turned into messages in ``notify.events``, delivery in ``notify.sender``.
"""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.notify.events import events_to_outbox
from ispb_platform.notify.reminders import alert_low_sms_credit, queue_due_date_reminders, queue_expiration_notices
from ispb_platform.notify.sender import ABANDONED, LEASE, deliver_outbox


async def due_date_reminders(ctx: JobContext) -> Counts:
    """``notify.due_date`` (hourly): due-date reminders from the operator's send time on, once per bill and rule."""
    return await queue_due_date_reminders(ctx.db, ctx.require_tenant(), today=ctx.today, now=ctx.now)


async def expiration_notices(ctx: JobContext) -> Counts:
    """``notify.expiration`` (hourly): notices before prepaid customers' paid time runs out."""
    return await queue_expiration_notices(ctx.db, ctx.require_tenant(), today=ctx.today, now=ctx.now)


async def low_sms_balance(ctx: JobContext) -> Counts:
    """``notify.low_sms_balance`` (daily): tell the operator, once a day, that its SMS credit is low."""
    return await alert_low_sms_credit(ctx.db, ctx.require_tenant(), today=ctx.today)


DUE_DATE_DUE = (
    "(EXISTS (SELECT FROM {schema}.notify_rule WHERE kind = 'due_date' AND enabled)"
    " AND EXISTS (SELECT FROM {schema}.bill WHERE status = 'open'))"
)
"""``notify.due_date`` has work: an enabled due-date rule and an open bill to remind of (``reminders.py`` reads
open invoices only), from ``notify_rule_kind_offset_days_before_hours_key`` and ``bill_open_idx``."""

EXPIRATION_DUE = (
    "(EXISTS (SELECT FROM {schema}.notify_rule WHERE kind = 'expiration' AND enabled)"
    " AND EXISTS (SELECT FROM {schema}.customer WHERE status = 'active'))"
)
"""``notify.expiration`` has work: an enabled expiration rule and an active customer (``reminders.py`` reads
active daily-cycle customers), from the rule's unique index and ``customer_status_idx``."""

OUTBOX_DUE = (
    "(EXISTS (SELECT FROM {schema}.outbox WHERE status IN ('queued', 'sending', 'waiting_credit')"  # noqa: S608
    " AND ((status <> 'sending' AND next_attempt_at <= now()) OR ("
    + ABANDONED.format(lease=f"interval '{int(LEASE.total_seconds())} seconds'").replace("{", "{{").replace("}", "}}")
    + ")))"
    " OR EXISTS (SELECT FROM {schema}.domain_event WHERE notified_at IS NULL))"
)
"""``notify.send_outbox`` has work (``jobs/due.py``): a message due, a dead sender's claim abandoned, or an event
to turn into messages. The conditions of its claim (``notify/sender.py``) and of ``notify/events.py``, answered
from the partial indexes ``outbox_due_idx`` and ``domain_event_pending_idx``."""


async def send_outbox(ctx: JobContext) -> Counts:
    """``notify.send_outbox`` (every minute, and at once after a payment or an OTP request): turn pending
    events into messages, then claim and deliver batches until nothing is due."""
    tenant = ctx.require_tenant()
    from_events = await events_to_outbox(ctx.db, tenant, ctx.secret_key)
    counts = await deliver_outbox(ctx.db, tenant, secret_key=ctx.secret_key, now=ctx.now, outbound=ctx.outbound)
    return {**counts, "from_events": from_events}
