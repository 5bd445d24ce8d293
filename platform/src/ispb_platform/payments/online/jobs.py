"""Scheduled online payment work: ``payments.recheck_pending`` and ``payments.recheck_sms_purchases``."""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.payments.online.service import Context, recheck_pending
from ispb_platform.payments.online.sms_credit import recheck_purchases

RECHECK_PENDING_DUE = "EXISTS (SELECT FROM {schema}.online_payment WHERE status = 'pending')"
"""``payments.recheck_pending`` has work: a checkout still pending (the job asks about those pending for a few
minutes); one probe of the partial ``online_payment_pending_idx`` (``jobs/due.py``)."""


async def recheck_pending_payments(ctx: JobContext) -> Counts:
    """``payments.recheck_pending``: checkouts pending for more than a few minutes are asked about at their
    gateway; paid ones are recorded once, failed ones closed, unknown ones left pending with the answer."""
    tenant = ctx.require_tenant()
    context = Context(ctx.db, ctx.secret_key, ctx.outbound, ctx.public_ipv4)
    return dict(await recheck_pending(context, tenant, ctx.today, ctx.now))


async def recheck_sms_purchases(ctx: JobContext) -> Counts:
    """``payments.recheck_sms_purchases``: pending SMS credit purchases asked about at the platform's gateways;
    paid ones credited once, failed ones closed."""
    context = Context(ctx.db, ctx.secret_key, ctx.outbound, ctx.public_ipv4)
    return dict(await recheck_purchases(context, ctx.now))
