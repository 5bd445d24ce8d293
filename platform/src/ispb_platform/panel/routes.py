"""Operator panel pages that are not a domain of their own: Overview, Automation, "not configured yet".

The Activity Log lives in ``activity/routes.py``; the figures and the schedule come from ``panel/service.py``.
"""

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS
from ispb_platform.panel import service
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import NOT_READY, PANEL_NAV
from ispb_platform.web.scope import TenantScope, in_tenant_scope

OPERATOR = allow(OPERATORS)


def panel_page(template: str, active: str, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": active, **context})


@get("/panel/", opt=OPERATOR)
@in_tenant_scope
async def dashboard(db: TenantScope) -> Template:
    overview = await service.overview(db)
    return panel_page(
        "panel/dashboard.html",
        "/panel/",
        by_status=overview.by_status,
        total=overview.total,
        packages=overview.packages,
        sms=overview.sms,
        waiting=overview.waiting,
    )


@get(sorted(NOT_READY), opt=OPERATOR)
async def not_configured(request: Request[Any, Any, Any]) -> Template:
    section, item = NOT_READY[request.url.path]
    return panel_page("panel/not_configured.html", request.url.path, section=section, item=item)


@get("/panel/automation", opt=OPERATOR)
async def automation(request: Request[Any, Any, Any], queued: FromQuery[str | None] = None) -> Template:
    """The schedule with this operator's last run of each job (platform jobs: the platform's)."""
    principal = request.scope["state"]["principal"]
    jobs = await service.schedule_with_last_runs(request.app.state.runtime.db, principal.require_tenant())
    return panel_page("jobs/automation.html", "/panel/automation", jobs=jobs, queued=queued)


@post("/panel/automation/run", opt=allow(OPERATOR_ADMINS))
async def run_now(request: Request[Any, Any, Any]) -> Redirect:
    """Queue one of this operator's jobs now (the worker runs it, exactly as on schedule, and records it)."""
    principal = request.scope["state"]["principal"]
    name = (await form_fields(request)).get("job", "")
    try:
        job = await service.run_now(request.app.state.runtime.queue, principal.require_tenant(), name)
    except service.UnknownJob:
        raise NotFoundException() from None
    return Redirect(f"/panel/automation?queued={job.name}", status_code=303)


ROUTES = [dashboard, not_configured, automation, run_now]
