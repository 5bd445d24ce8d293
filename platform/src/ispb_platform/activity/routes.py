"""Logs → Activity Log: the tenant's log, newest first, 100 entries a page."""

from litestar import get
from litestar.params import FromQuery
from litestar.response import Template

from ispb_platform.activity import service
from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATORS
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.scope import TenantScope, in_tenant_scope


@get("/panel/logs/activity", opt=allow(OPERATORS))
@in_tenant_scope
async def activity_log(db: TenantScope, before: FromQuery[int | None] = None) -> Template:
    page = await service.activity_page(before)
    context = {"nav": PANEL_NAV, "active": "/panel/logs/activity", "rows": page.rows, "older": page.older}
    return Template("activity/log.html", context=context)


ROUTES = [activity_log]
