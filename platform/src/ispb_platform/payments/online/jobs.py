"""Scheduled online payment work: ``payments.recheck_pending``."""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.payments.online.service import Context, recheck_pending


async def recheck_pending_payments(ctx: JobContext) -> Counts:
    """``payments.recheck_pending``: checkouts pending for more than a few minutes are asked about at their
    gateway; paid ones are recorded once, failed ones closed, unknown ones left pending with the answer."""
    tenant = ctx.require_tenant()
    context = Context(ctx.db, ctx.secret_key, ctx.outbound)
    return dict(await recheck_pending(context, tenant, ctx.today, ctx.now))
