"""A queued run's trigger comes from its key: "Run now" is a person's run and keeps its own record; a tick's run
is the schedule's and is added into the day's record (``jobs/runs.py``)."""

from datetime import UTC, datetime

from ispb_platform.jobs.job import RUN_NOW
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, job_key, trigger_of
from ispb_tenants import TenantRef


def test_a_run_now_key_is_a_persons_run_and_a_tick_key_the_schedules():
    job = get_job("billing.generate_bills")
    tenant = TenantRef(id=1, slug="padma-now", schema="tenant_padma_now", timezone="Asia/Dhaka", currency="BDT")
    moment = datetime(2026, 12, 4, 17, 40, tzinfo=UTC)

    assert trigger_of(job_key(job, tenant, f"{RUN_NOW}{moment:%Y-%m-%dT%H:%M:%S}")) is Trigger.MANUAL
    assert trigger_of(job_key(job, tenant, f"{moment:%Y-%m-%dT%H:%MZ}")) is Trigger.SCHEDULE
    assert trigger_of(job_key(job, None, "2026-12-04T17:40Z")) is Trigger.SCHEDULE
