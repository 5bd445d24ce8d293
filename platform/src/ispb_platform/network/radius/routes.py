"""Customers → Online: who has an open RADIUS session right now, with the customer behind each username.

The list comes from the tenant's own ``radacct`` (FreeRADIUS accounting), so it shows exactly what
Simultaneous-Use and usage see; a session whose router went silent is marked and closed by
``netsync.stale_sessions`` within minutes (ispb_platform.network.radius.sessions).
"""

from datetime import UTC, datetime
from typing import Any

from litestar import get
from litestar.params import FromQuery
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATORS
from ispb_platform.network.radius.queries import OnlineSession
from ispb_platform.network.radius.sessions import ONLINE_LIMIT, format_bytes, format_duration, is_stale, who_is_online
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.scope import TenantScope, in_tenant_scope

PATH = "/panel/customers/online"


def _row(session: OnlineSession, now: datetime) -> dict[str, Any]:
    """What the table shows: formatted here, so the template needs no byte or duration filters."""
    return {
        "session": session,
        "duration": format_duration(session.duration(now)),
        "download": format_bytes(session.output_octets),
        "upload": format_bytes(session.input_octets),
        "stale": is_stale(session, now),
    }


@get(PATH, opt=allow(OPERATORS))
@in_tenant_scope
async def online_page(db: TenantScope, q: FromQuery[str] = "") -> Template:
    """The online list; the search box re-requests this page and htmx swaps in only the table."""
    q = q.strip()[:100]
    now = datetime.now(UTC)
    sessions, total = await who_is_online(db.connection, q=q or None)
    context = {
        "nav": PANEL_NAV,
        "active": PATH,
        "q": q,
        "rows": [_row(s, now) for s in sessions],
        "total": total,
        "limit": ONLINE_LIMIT,
    }
    return Template("network/radius/online.html", context=context)


ROUTES: list[ControllerRouterHandler] = [online_page]
