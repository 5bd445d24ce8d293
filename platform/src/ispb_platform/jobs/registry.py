"""The schedule: every scheduled process of the platform, in one table (DESIGN 3).

Later work adds its jobs here (billing, notifications, network sync, ...). Names are the ones the CLI,
the Automation page and the run records use. Only implemented jobs are listed: the schedule never shows a
job that would not really run.
"""

from ispb_platform.backups import jobs as backup_jobs
from ispb_platform.backups import requests as backup_requests
from ispb_platform.billing.jobs import (
    ADVANCE_DEBIT_DUE,
    AUTO_SUSPEND_DUE,
    FUP_ENFORCE_DUE,
    GENERATE_BILLS_DUE,
    advance_debit,
    auto_suspend,
    fup_enforce,
    generate_bills,
)
from ispb_platform.jobs.heartbeat import heartbeat
from ispb_platform.jobs.job import Counts, JobContext, JobScope, ScheduledJob
from ispb_platform.jobs.reaper import close_dead_requests, close_dead_runs
from ispb_platform.jobs.requests import RequestedJob
from ispb_platform.maintenance.cleanup import cleanup_old_data
from ispb_platform.maintenance.jobs import clear_app_logs, purge_activity_logs, purge_netflow
from ispb_platform.monitoring.jobs import ZABBIX_SYNC_DUE, status_checks, zabbix_sync
from ispb_platform.network.jobs import (
    OLT_SYNC_DUE,
    ROUTER_COMMANDS_DUE,
    ROUTER_STATUS_DUE,
    RRD_UPDATE_DUE,
    STALE_SESSIONS_DUE,
    USAGE_ROLLUP_DUE,
    check_routers,
    close_stale_sessions,
    olt_sync,
    radacct_partitions,
    run_due_commands,
    update_traffic_graphs,
    usage_rollup,
)
from ispb_platform.notify.jobs import (
    DUE_DATE_DUE,
    EXPIRATION_DUE,
    OUTBOX_DUE,
    due_date_reminders,
    expiration_notices,
    low_sms_balance,
    send_outbox,
)
from ispb_platform.payments.imports.jobs import CONFIRMING_DUE, confirm_imports
from ispb_platform.payments.online.jobs import RECHECK_PENDING_DUE, recheck_pending_payments, recheck_sms_purchases
from ispb_platform.reports.jobs import bills_vs_payments, yearly_summary
from ispb_platform.subscriptions.jobs import (
    bill_operators,
    bill_sms,
    customer_counts,
    recheck_checkouts,
    suspend_unpaid,
)


async def _close_dead_runs(ctx: JobContext) -> Counts:
    """``system.close_dead_runs`` with every scheduled and requested job's timeout (``jobs/reaper.py``)."""
    counts = dict(await close_dead_runs(ctx, {job.name: job.timeout_s for job in SCHEDULE}))
    counts["requests_failed"] = await close_dead_requests(ctx, REQUESTED_BY_NAME)
    return counts


SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        name="system.heartbeat",
        cron="* * * * *",
        scope=JobScope.PLATFORM,
        run=heartbeat,
        description="Proves a worker is alive and reaches the database",
        timeout_s=60,
        observed_counts=frozenset({"active_tenants"}),
    ),
    ScheduledJob(
        name="system.close_dead_runs",
        cron="* * * * *",
        scope=JobScope.PLATFORM,
        run=_close_dead_runs,
        description="Closes the run records of jobs whose worker died, and runs again the jobs the queue lost",
        timeout_s=55,
        retries=1,  # the next minute is the retry
    ),
    ScheduledJob(
        name="billing.generate_bills",
        cron="5 * * * *",  # hourly: the first tick after each tenant's local midnight bills; later ones find nothing
        scope=JobScope.TENANT,
        run=generate_bills,
        description="Bills every customer whose monthly or daily billing period starts (or started unbilled) today",
        timeout_s=3600,
        observed_counts=frozenset({"not_due", "skipped_suspended"}),
        due_work=GENERATE_BILLS_DUE,
    ),
    ScheduledJob(
        name="billing.advance_debit",
        cron="20 * 1 * *",  # every hour of the 1st (UTC); the job acts only when it is the 1st in the tenant's zone
        scope=JobScope.TENANT,
        run=advance_debit,
        description="On the 1st of the month, settles open bills from customers' advance credit",
        timeout_s=3600,
        observed_counts=frozenset({"not_the_first"}),
        due_work=ADVANCE_DEBIT_DUE,
    ),
    ScheduledJob(
        name="billing.auto_suspend",
        cron="35 * * * *",  # hourly: a customer is suspended within the hour their grace period ends
        scope=JobScope.TENANT,
        run=auto_suspend,
        description="Suspends customers with bills overdue past their billing profile's grace period or day",
        timeout_s=1800,
        observed_counts=frozenset({"not_due", "already_handled", "rule_off"}),
        due_work=AUTO_SUSPEND_DUE,
    ),
    ScheduledJob(
        name="netsync.router_commands",
        cron="* * * * *",  # the backstop: commands also run at once when queued
        scope=JobScope.TENANT,
        run=run_due_commands,
        description="Sends queued suspensions, reactivations and package changes to routers, retrying failures",
        timeout_s=600,
        due_work=ROUTER_COMMANDS_DUE,
    ),
    ScheduledJob(
        name="netsync.stale_sessions",
        cron="*/5 * * * *",
        scope=JobScope.TENANT,
        run=close_stale_sessions,
        description="Closes RADIUS sessions silent for 15 minutes and asks their routers to drop them",
        timeout_s=600,
        due_work=STALE_SESSIONS_DUE,
    ),
    ScheduledJob(
        name="billing.fup_enforce",
        cron="*/5 * * * *",
        scope=JobScope.TENANT,
        run=fup_enforce,
        description="Customers over their data allowance at the FUP speed until their cycle ends, then full speed",
        timeout_s=240,
        observed_counts=frozenset({"reduced", "restored"}),
        due_work=FUP_ENFORCE_DUE,
    ),
    ScheduledJob(
        name="netsync.rrd_update",
        cron="*/5 * * * *",
        scope=JobScope.TENANT,
        run=update_traffic_graphs,
        description="Records customers' and API routers' traffic in their RRD graphs",
        timeout_s=240,  # inside the 5 minutes: a slow poll must not overlap the next
        retries=1,
        observed_counts=frozenset({"routers_read", "interfaces_updated"}),
        due_work=RRD_UPDATE_DUE,
    ),
    ScheduledJob(
        name="netsync.olt_sync",
        cron="*/15 * * * *",
        scope=JobScope.TENANT,
        run=olt_sync,
        description="Walks every OLT over SNMP: new ONUs appear, status and optical power are recorded, ONUs mapped",
        timeout_s=600,  # a dead OLT costs at most its own 2-minute bound, walked beside the others
        retries=2,
        due_work=OLT_SYNC_DUE,
    ),
    ScheduledJob(
        name="netsync.usage_rollup",
        cron="*/5 * * * *",
        scope=JobScope.TENANT,
        run=usage_rollup,
        description="Adds the traffic of RADIUS sessions since the last run to each customer's daily usage",
        timeout_s=600,
        due_work=USAGE_ROLLUP_DUE,
    ),
    ScheduledJob(
        name="netsync.radacct_partitions",
        cron="40 */6 * * *",  # four times a day: a failed run (lock timeout) is retried well before a month starts
        scope=JobScope.TENANT,
        run=radacct_partitions,
        description="Creates the next months' accounting partitions and drops months past the accounting retention",
        timeout_s=1800,
        observed_counts=frozenset({"retention_months"}),
    ),
    ScheduledJob(
        name="netsync.router_status",
        cron="10 0 * * *",  # daily (and on demand from the Routers page)
        scope=JobScope.TENANT,
        run=check_routers,
        description="Checks every router's API: identity, version and whether it answers",
        timeout_s=900,
        due_work=ROUTER_STATUS_DUE,
    ),
    ScheduledJob(
        name="notify.due_date",
        cron="2 * * * *",  # hourly: acts from the operator's send time on; once per bill and rule
        scope=JobScope.TENANT,
        run=due_date_reminders,
        description="Queues due-date reminders (e.g. 3 days before, on the day, 2 days after) at the send time",
        timeout_s=1800,
        observed_counts=frozenset({"no_rules"}),
        due_work=DUE_DATE_DUE,
    ),
    ScheduledJob(
        name="notify.expiration",
        cron="4 * * * *",  # hourly: acts from the operator's send time on; once per customer, expiry and lead
        scope=JobScope.TENANT,
        run=expiration_notices,
        description="Queues notices before prepaid (daily-cycle) customers' paid time runs out",
        timeout_s=1800,
        observed_counts=frozenset({"no_rules"}),
        due_work=EXPIRATION_DUE,
    ),
    ScheduledJob(
        name="notify.low_sms_balance",
        cron="0 4 * * *",  # daily, 10:00 in Dhaka
        scope=JobScope.TENANT,
        run=low_sms_balance,
        description="Tells the operator, once a day, when its SMS credit is below its threshold",
        timeout_s=300,
    ),
    ScheduledJob(
        name="notify.send_outbox",
        cron="* * * * *",
        scope=JobScope.TENANT,
        run=send_outbox,
        description="Turns events into messages and delivers queued messages through the gateway, with retries",
        timeout_s=600,
        due_work=OUTBOX_DUE,
    ),
    ScheduledJob(
        name="monitor.status_checks",
        cron="* * * * *",
        scope=JobScope.PLATFORM,  # one round for every operator: checks of all tenants share one bounded pool
        run=status_checks,
        description="Runs every due status check of every operator and the platform; opens and closes incidents",
        timeout_s=55,  # inside the minute: each check is bounded by its own timeout (30 s at most)
        retries=1,  # the next minute is the retry
        observed_counts=frozenset({"checked", "down", "written"}),
    ),
    ScheduledJob(
        name="monitor.zabbix_sync",
        cron="*/5 * * * *",
        scope=JobScope.TENANT,
        run=zabbix_sync,
        description="Reads hosts and active problems from the operator's Zabbix for the Monitoring dashboard",
        timeout_s=120,
        retries=1,
        observed_counts=frozenset({"not_configured", "hosts", "problems"}),
        due_work=ZABBIX_SYNC_DUE,
    ),
    ScheduledJob(
        name="maintenance.purge_activity_logs",
        cron="30 21 * * *",  # 03:30 in Dhaka, off-peak
        scope=JobScope.TENANT,
        run=purge_activity_logs,
        description="Deletes activity log rows older than the operator's retention period",
        timeout_s=1800,
        observed_counts=frozenset({"retention_days"}),
    ),
    ScheduledJob(
        name="maintenance.purge_netflow",
        cron="45 21 * * *",  # 03:45 in Dhaka, off-peak, after the activity log purge
        scope=JobScope.TENANT,
        run=purge_netflow,
        description="Removes NetFlow capture files older than the operator's NetFlow retention",
        timeout_s=1800,
        observed_counts=frozenset({"retention_days", "files_kept"}),
    ),
    ScheduledJob(
        name="maintenance.clear_app_logs",
        cron="0 22 * * 0",  # Sunday night
        scope=JobScope.PLATFORM,
        run=clear_app_logs,
        description="Clears log files older than a week; prunes run records (heartbeats after 7 days, others 90)",
        timeout_s=1800,
    ),
    ScheduledJob(
        name="maintenance.cleanup_old_data",
        cron="15 22 1 * *",  # the 1st of the month, 04:15 in Dhaka, off-peak
        scope=JobScope.TENANT,
        run=cleanup_old_data,
        description="Removes obsolete records: expired sign-ins, old sent messages and run records, accounting"
        " months past retention, traffic graphs of customers that no longer exist",
        timeout_s=3600,
        observed_counts=frozenset(
            {
                "expired_login_retention_days",
                "outbox_retention_days",
                "job_run_retention_days",
                "accounting_retention_months",
            }
        ),
    ),
    ScheduledJob(
        name="backup.customer_data",
        cron="0 20 * * *",  # 02:00 in Dhaka, off-peak
        scope=JobScope.TENANT,
        run=backup_jobs.customer_data,
        description="Backs up the operator's own data (its schema), sealed with the platform's key",
        timeout_s=3600,
        retries=3,
        retry_delay_s=60,
        observed_counts=frozenset({"tables", "rows"}),
    ),
    ScheduledJob(
        name="backup.full",
        cron="30 21 * * *",  # 03:30 in Dhaka, after the operators' own backups
        scope=JobScope.PLATFORM,
        run=backup_jobs.full,
        description="Backs up the whole database (platform and every operator), sealed with the platform's key",
        timeout_s=4 * 3600,
        retries=2,
        retry_delay_s=300,
        observed_counts=frozenset({"tables", "rows"}),
    ),
    ScheduledJob(
        name="backup.cleanup",
        cron="0 23 * * *",  # 05:00 in Dhaka, after the day's backups
        scope=JobScope.PLATFORM,
        run=backup_jobs.cleanup,
        description="Removes backups past retention (daily, weekly, monthly); never the last good one",
        timeout_s=1800,
        observed_counts=frozenset({"kept"}),
    ),
    ScheduledJob(
        name="backup.verify",
        cron="0 0 * * 1",  # Monday 06:00 in Dhaka: a weekly restore test of the newest backups
        scope=JobScope.PLATFORM,
        run=backup_jobs.verify,
        description="Restores the newest backups into a scratch database and checks every table against the dump",
        timeout_s=6 * 3600,
        retries=2,
        retry_delay_s=600,
    ),
    ScheduledJob(
        name="payments.recheck_pending",
        cron="*/30 * * * *",
        scope=JobScope.TENANT,
        run=recheck_pending_payments,
        description="Asks the gateways about online payments pending for more than 5 minutes and records paid ones",
        timeout_s=1500,  # inside the 30 minutes: 500 checkouts, 8 at a time, 30 s per gateway call at worst
        due_work=RECHECK_PENDING_DUE,
    ),
    ScheduledJob(
        name="payments.confirm_imports",
        cron="* * * * *",  # the backstop: "Record" queues it at once
        scope=JobScope.TENANT,
        run=confirm_imports,
        description="Records the bank and mobile-money statement imports operators asked to record",
        timeout_s=1800,  # 200,000 lines take well under a minute; a chunk per transaction, resumed after a kill
        due_work=CONFIRMING_DUE,
    ),
    ScheduledJob(
        name="reports.bills_vs_payments",
        cron="50 * * * *",  # hourly, after the hour's bills (:05), suspensions (:35) and payment rechecks (:30)
        scope=JobScope.TENANT,
        run=bills_vs_payments,
        description="Recounts the Overview's month figures: bills, payments, customers and who owes most",
        timeout_s=900,
    ),
    ScheduledJob(
        name="reports.yearly_summary",
        cron="15 20 * * *",  # daily, 02:15 in Dhaka
        scope=JobScope.TENANT,
        run=yearly_summary,
        description="Recounts the month figures and the yearly totals of bills, payments and customers",
        timeout_s=1800,
    ),
    ScheduledJob(
        name="payments.recheck_sms_purchases",
        cron="15 */2 * * *",
        scope=JobScope.PLATFORM,
        run=recheck_sms_purchases,
        description="Asks the platform's gateways about pending SMS credit purchases and credits paid ones once",
        timeout_s=1500,
    ),
    ScheduledJob(
        name="reports.customer_counts",
        cron="30 18 * * *",  # daily, 00:30 in Dhaka: the day's count, the basis of next month's bill
        scope=JobScope.PLATFORM,
        run=customer_counts,
        description="Counts each operator's active, suspended and disabled customers for subscription billing",
        timeout_s=1800,
        observed_counts=frozenset({"operators"}),
    ),
    ScheduledJob(
        name="subscription.bill_operators",
        cron="0 * 2 * *",  # every hour of the 2nd: the first run bills, later ones find every bill made
        scope=JobScope.PLATFORM,
        run=bill_operators,
        description="Issues last month's subscription bill to every operator on a plan, from its customer counts",
        timeout_s=1800,
        observed_counts=frozenset({"not_billed"}),
    ),
    ScheduledJob(
        name="subscription.bill_sms",
        cron="50 */6 * * *",
        scope=JobScope.PLATFORM,
        run=bill_sms,
        description="Records operators' SMS sent since the last run once each; bills postpaid ones on their SMS bill",
        timeout_s=1800,
        observed_counts=frozenset({"operators"}),
    ),
    ScheduledJob(
        name="subscription.suspend_unpaid",
        cron="0 3 * * *",  # daily, 09:00 in Dhaka: locks on the bills' lock day (the 20th), warns 5 and 1 day before
        scope=JobScope.PLATFORM,
        run=suspend_unpaid,
        description="Locks the panel of operators with a subscription bill unpaid on the 20th; warns them before",
        timeout_s=900,
    ),
    ScheduledJob(
        name="subscription.recheck_checkouts",
        cron="25 */2 * * *",
        scope=JobScope.PLATFORM,
        run=recheck_checkouts,
        description="Asks the platform's gateways about pending online payments of subscription bills, records paid",
        timeout_s=1500,
    ),
)


class UnknownJob(LookupError):
    def __init__(self, name: str) -> None:
        names = ", ".join(job.name for job in SCHEDULE)
        super().__init__(f"no job named {name!r}; known jobs: {names}")


REQUESTED: tuple[RequestedJob, ...] = (backup_requests.BACK_UP_NOW, backup_requests.RESTORE)
"""Jobs people start from a page (``jobs/requests.py``): run by the worker, closed by the reaper if it dies."""
REQUESTED_BY_NAME = {job.name: job for job in REQUESTED}


def get_job(name: str) -> ScheduledJob:
    for job in SCHEDULE:
        if job.name == name:
            return job
    raise UnknownJob(name)
