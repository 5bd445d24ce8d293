"""Operator panel pages that are not a domain of their own: overview, activity log, automation, pending."""

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from ispb_platform.auth.access import allow, own_tenant_scope
from ispb_platform.auth.roles import OPERATORS
from ispb_platform.jobs.job import JobScope
from ispb_platform.jobs.registry import SCHEDULE
from ispb_platform.jobs.runs import recent_runs
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
    by_status = {row["status"]: row["n"] for row in counts}
    return panel_page(
        "panel/dashboard.html", "/panel/", by_status=by_status, total=sum(by_status.values()), packages=packages
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
    return panel_page("logs/activity.html", "/panel/logs/activity", rows=rows, older=older)


@get("/panel/automation", opt=OPERATOR)
async def automation(request: Request[Any, Any, Any]) -> Template:
    """The schedule, read-only, with this operator's last run of each job (platform jobs: the platform's)."""
    principal = request.scope["state"]["principal"]
    runs = await recent_runs(request.app.state.runtime.db, limit=500)
    last: dict[str, Any] = {}
    for run in runs:
        mine = run.tenant_slug == principal.tenant.slug or run.tenant_slug is None
        if mine and run.job not in last:
            last[run.job] = run
    jobs = [{"job": job, "last": last.get(job.name), "per_tenant": job.scope is JobScope.TENANT} for job in SCHEDULE]
    return panel_page("panel/automation.html", "/panel/automation", jobs=jobs)


ROUTES = [dashboard, not_configured, activity_log, automation]
