"""The monitoring domain's scheduled jobs: the entry points ``jobs/registry.py`` names."""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.monitoring.rounds import run_round
from ispb_platform.monitoring.zabbix_sync import sync

ZABBIX_SYNC_DUE = (
    "EXISTS (SELECT FROM {schema}.monitor_settings WHERE id = 1 AND zabbix_url <> ''"
    " AND zabbix_token_sealed IS NOT NULL)"
)
"""``monitor.zabbix_sync`` has work: the operator configured its Zabbix (URL and token), the job's own test
(``zabbix_sync.py``); one probe of ``monitor_settings_pkey`` (``jobs/due.py``)."""


async def status_checks(ctx: JobContext) -> Counts:
    """``monitor.status_checks`` (every minute, platform-wide): one round of every due check of every operator
    and of the platform (``monitoring/rounds.py``)."""
    return await run_round(ctx.db, secret_key=ctx.secret_key, outbound=ctx.outbound, now=ctx.now)


async def zabbix_sync(ctx: JobContext) -> Counts:
    """``monitor.zabbix_sync`` (every 5 minutes, per operator): hosts and active problems from its Zabbix."""
    return await sync(ctx.db, ctx.require_tenant(), secret_key=ctx.secret_key, outbound=ctx.outbound)
