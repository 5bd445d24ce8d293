"""The subscription domain's scheduled jobs: the entry points ``jobs/registry.py`` names (all platform-wide)."""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.payments.online.service import Context
from ispb_platform.subscriptions.checkout import recheck
from ispb_platform.subscriptions.counts import count_customers
from ispb_platform.subscriptions.issue import bill_operators as issue_bills
from ispb_platform.subscriptions.locking import suspend_unpaid as lock_unpaid
from ispb_platform.subscriptions.sms import bill_sms as record_sms


async def customer_counts(ctx: JobContext) -> Counts:
    """``reports.customer_counts`` (daily): each operator's active, suspended and disabled customers."""
    return await count_customers(ctx.db, ctx.today)


async def bill_operators(ctx: JobContext) -> Counts:
    """``subscription.bill_operators`` (the 2nd): last month's subscription bill of every operator on a plan."""
    return await issue_bills(ctx.db, ctx.today)


async def bill_sms(ctx: JobContext) -> Counts:
    """``subscription.bill_sms`` (every 6 hours): SMS sent since the last run, recorded once, billed if postpaid."""
    return await record_sms(ctx.db, ctx.today, f"{ctx.now:%-d %b %H:%M} UTC")


async def suspend_unpaid(ctx: JobContext) -> Counts:
    """``subscription.suspend_unpaid`` (daily): locks operators with a bill open past its lock date, warns before."""
    return await lock_unpaid(ctx.db, ctx.today)


async def recheck_checkouts(ctx: JobContext) -> Counts:
    """``subscription.recheck_checkouts`` (every 2 hours): pending online payments of subscription bills asked
    about at the platform's gateways; paid ones recorded once (reopening a locked panel), failed ones closed."""
    return dict(await recheck(Context(ctx.db, ctx.secret_key, ctx.outbound, ctx.public_ipv4), ctx.now))
