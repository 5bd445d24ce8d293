"""Automation: the schedule, read-only, with this operator's last run of each job, and "Run now" (DESIGN 3)."""

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATOR_ADMINS, OPERATORS, Role
from ispb_platform.jobs import service
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields
from ispb_platform.web.navigation import PANEL_NAV


@get("/panel/automation", opt=allow(OPERATORS))
async def automation(request: Request[Any, Any, Any]) -> Template:
    """The schedule with this operator's last run of each job (platform jobs: the platform's)."""
    principal = request.scope["state"]["principal"]
    jobs = await service.schedule_with_last_runs(request.app.state.runtime.db, principal.require_tenant())
    context = {"nav": PANEL_NAV, "active": "/panel/automation", "jobs": jobs}
    return Template("jobs/automation.html", context=context)


@post("/panel/automation/run", opt=allow(OPERATOR_ADMINS))
async def run_now(request: Request[Any, Any, Any]) -> Redirect:
    """Queue one of this operator's jobs now (the worker runs it, exactly as on schedule, and records it)."""
    principal = request.scope["state"]["principal"]
    name = (await form_fields(request)).get("job", "")
    try:
        job = await service.run_now(request.app.state.runtime.queue, principal.require_tenant(), name)
    except service.UnknownJob:
        raise NotFoundException() from None
    except service.QueueUnavailable as away:
        flash(request, str(away), alert=True)
        return Redirect("/panel/automation", status_code=303)
    flash(
        request, f"{job.name} is queued for {principal.require_tenant().name}; its run appears below when it finishes."
    )
    return Redirect("/panel/automation", status_code=303)


PLATFORM_ADMIN = allow(frozenset({Role.PLATFORM_ADMIN}))


@get("/admin/jobs", opt=PLATFORM_ADMIN)
async def platform_jobs(request: Request[Any, Any, Any]) -> Template:
    """Admin console → Scheduled jobs: the platform's subscription jobs with their last run, and "Run now"."""
    jobs = await service.platform_jobs_with_last_runs(request.app.state.runtime.db)
    return Template("jobs/platform.html", context={"jobs": jobs})


@post("/admin/jobs/run", opt=PLATFORM_ADMIN)
async def run_platform_now(request: Request[Any, Any, Any]) -> Redirect:
    name = (await form_fields(request)).get("job", "")
    try:
        job = await service.run_platform_now(request.app.state.runtime.queue, name)
    except service.UnknownJob:
        raise NotFoundException() from None
    except service.QueueUnavailable as away:
        flash(request, str(away), alert=True)
        return Redirect("/admin/jobs", status_code=303)
    flash(request, f"{job.name} is queued; its run appears below when it finishes.")
    return Redirect("/admin/jobs", status_code=303)


ROUTES = [automation, run_now, platform_jobs, run_platform_now]
