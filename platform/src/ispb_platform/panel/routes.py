"""Operator panel pages that are not a domain of their own: Overview and "not configured yet".

The Activity Log lives in ``activity/routes.py``, Automation (the schedule) in ``jobs/routes.py``.
"""

from datetime import UTC, datetime
from typing import Any

from litestar import get
from litestar.response import Template

from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATORS
from ispb_platform.jobs.runs import local_today
from ispb_platform.panel import service
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.scope import TenantScope, in_tenant_scope

OPERATOR = allow(OPERATORS)


def panel_page(template: str, active: str, **context: Any) -> Template:
    return Template(template, context={"nav": PANEL_NAV, "active": active, **context})


@get("/panel/", opt=OPERATOR)
@in_tenant_scope
async def dashboard(db: TenantScope) -> Template:
    overview = await service.overview(db, local_today(datetime.now(UTC), db.tenant))
    return panel_page(
        "panel/dashboard.html",
        "/panel/",
        by_status=overview.by_status,
        total=overview.total,
        packages=overview.packages,
        sms=overview.sms,
        waiting=overview.waiting,
        incidents=overview.incidents,
        charts=overview.charts,
        top_overdue=overview.top_overdue,
        refreshed_at=overview.refreshed_at,
        currency=db.tenant.currency,
    )


ROUTES = [dashboard]
