"""Logs → NetFlow: which customer used an address at a time, and what they exchanged (a read-only search).

The form is a GET (a search changes nothing, and its address can be bookmarked or handed to a colleague);
times are typed in the operator's time zone. The work is in ``search.py``.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_netsync.netflow import AttributedFlow
from ispb_platform.auth.access import allow, provide_principal
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.network.netflow.search import FIELDS, parse_search, search_flows
from ispb_platform.network.radius.sessions import format_bytes
from ispb_platform.web.navigation import PANEL_NAV

PATH = "/panel/logs/netflow"


@get(PATH, opt=allow(OPERATORS), dependencies={"operator": Provide(provide_principal)})
async def netflow_page(request: Request[Any, Any, Any], operator: NamedDependency[Principal]) -> Template:
    """The search form; with a search in the query string, its flows (or what was wrong with it).

    Not ``@in_tenant_scope``: the search opens short tenant scopes of its own around nfdump (``search.py``).
    """
    tenant = operator.require_tenant()
    values = {name: str(request.query_params.get(name) or "")[:200] for name in FIELDS}
    context: dict[str, Any] = {"nav": PANEL_NAV, "active": PATH, "form": values, "errors": {}, "result": None}
    context["time_zone"] = tenant.timezone
    if any(values.values()):
        search, errors = parse_search(values, tenant.timezone, datetime.now(UTC))
        context["errors"] = errors
        if search is not None:
            runtime = request.app.state.runtime
            result = await search_flows(runtime.db, tenant, Path(runtime.settings.data_dir), search)
            context["result"] = result
            context["rows"] = [_row(row, tenant.timezone) for row in result.flows]
            context["window"] = (
                _local(search.window.start, tenant.timezone),
                _local(search.window.end, tenant.timezone),
            )
    return Template("network/netflow/search.html", context=context)


def _local(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


def _row(row: AttributedFlow, time_zone: str) -> dict[str, Any]:
    flow = row.flow
    return {
        "first": _local(flow.first, time_zone),
        "first_iso": flow.first.isoformat(),
        "seconds": int((flow.last - flow.first).total_seconds()),
        "source": f"{flow.source}:{flow.source_port}",
        "destination": f"{flow.destination}:{flow.destination_port}",
        "protocol": flow.protocol,
        "octets": format_bytes(flow.octets),
        "packets": flow.packets,
        "holders": [h for h in (row.source_holder, row.destination_holder) if h is not None],
    }


ROUTES: list[ControllerRouterHandler] = [netflow_page]
