"""``GET /``: the front door. Says what is running; the sign-in pages hang off it."""

from typing import Any

from litestar import Request, get
from litestar.response import Template

from ispb_platform.auth.access import PUBLIC
from ispb_platform.jobs.queue import queue_backend
from ispb_platform.runtime import Runtime
from ispb_tenants import list_tenants


@get("/", include_in_schema=False, opt=PUBLIC)
async def home(request: Request[Any, Any, Any]) -> Template:
    runtime: Runtime = request.app.state.runtime
    tenants = await list_tenants(runtime.db)
    return Template(
        "home.html",
        context={
            "operators": [t for t in tenants if t.status == "active"],
            "embedded": runtime.settings.embedded_database,
            "queue_backend": queue_backend(runtime.queue),
        },
    )
