"""Operator panel pages that are not a domain of their own: overview, activity log, automation, pending."""

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import allow, own_tenant_scope
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS
from ispb_platform.jobs.job import JobScope
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import job_key, last_runs_for
from ispb_platform.jobs.worker import RUN_JOB, job_options
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import NOT_READY, PANEL_NAV

OPERATOR = allow(OPERATORS)
ACTIVITY_PAGE = 100


def panel_page(template: str, active: str, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": active, **context})


@get("/panel/", opt=OPERATOR)
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    async with own_tenant_scope(request) as db:
        counts = await db.connection.fetch("SELECT status, count(*) AS n FROM customer GROUP BY status")
        packages = await db.connection.fetchval("SELECT count(*) FROM package WHERE is_active")
        sms = await db.connection.fetchrow(
            "SELECT sms_credit, sms_low_threshold FROM platform.tenant WHERE id = $1", db.tenant.id
        )
        waiting = await db.connection.fetchval("SELECT count(*) FROM outbox WHERE status = 'waiting_credit'")
    by_status = {row["status"]: row["n"] for row in counts}
    return panel_page(
        "panel/dashboard.html",
        "/panel/",
        by_status=by_status,
        total=sum(by_status.values()),
        packages=packages,
        sms=sms,
        waiting=waiting,
    )


@get(sorted(NOT_READY), opt=OPERATOR)
async def not_configured(request: Request[Any, Any, Any]) -> Template:
    section, item = NOT_READY[request.url.path]
    return panel_page("panel/not_configured.html", request.url.path, section=section, item=item)


@get("/panel/logs/activity", opt=OPERATOR)
async def activity_log(request: Request[Any, Any, Any], before: FromQuery[int | None] = None) -> Template:
    async with own_tenant_scope(request) as db:
        rows = await db.connection.fetch(
            "SELECT id, at, actor, action, object_type, object_id, summary, ip FROM activity_log"
            " WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            before,
            ACTIVITY_PAGE,
        )
    older = rows[-1]["id"] if len(rows) == ACTIVITY_PAGE else None
    return panel_page("activity/log.html", "/panel/logs/activity", rows=rows, older=older)


@get("/panel/automation", opt=OPERATOR)
async def automation(request: Request[Any, Any, Any], queued: FromQuery[str | None] = None) -> Template:
    """The schedule with this operator's last run of each job (platform jobs: the platform's)."""
    principal = request.scope["state"]["principal"]
    last = await last_runs_for(request.app.state.runtime.db, principal.tenant.id)
    jobs = [{"job": job, "last": last.get(job.name), "per_tenant": job.scope is JobScope.TENANT} for job in SCHEDULE]
    return panel_page("panel/automation.html", "/panel/automation", jobs=jobs, queued=queued)


@post("/panel/automation/run", opt=allow(OPERATOR_ADMINS))
async def run_now(request: Request[Any, Any, Any]) -> Redirect:
    """Queue one of this operator's jobs now (the worker runs it, exactly as on schedule, and records it)."""
    principal = request.scope["state"]["principal"]
    name = (await form_fields(request)).get("job", "")
    job = next((j for j in SCHEDULE if j.name == name and j.scope is JobScope.TENANT), None)
    if job is None:
        raise NotFoundException()
    tenant = principal.require_tenant()
    await request.app.state.runtime.queue.enqueue(
        RUN_JOB,
        key=job_key(job, tenant, f"now-{datetime.now(UTC):%Y-%m-%dT%H:%M:%S}"),
        job_name=job.name,
        tenant=tenant.slug,
        **job_options(job),
    )
    return Redirect(f"/panel/automation?queued={job.name}", status_code=303)


ROUTES = [dashboard, not_configured, activity_log, automation, run_now]
