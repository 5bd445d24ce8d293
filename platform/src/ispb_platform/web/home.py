"""``GET /``: the front door. Staff sign in here; customers find their operator's portal from here.

It says nothing about the installation or its operators: an anonymous visitor learns neither which operators
exist nor what database or queue runs behind them. A customer types the portal link or code their provider
gave them; an unknown, malformed or suspended code gets the same neutral answer, so the finder lists nothing.
"""

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import PUBLIC, home_for, principal_of
from ispb_platform.runtime import Runtime
from ispb_platform.web.tenancy import active_operator

NOT_FOUND = "We could not find that provider. Check the link or code your provider gave you."


def provider_code(typed: str) -> str:
    """The operator's slug from what a customer typed: the code itself or a portal link.

    >>> provider_code(" https://isp.example/portal/dhaka-net/login ")
    'dhaka-net'
    >>> provider_code("Dhaka-Net")
    'dhaka-net'
    """
    text = typed.strip()
    path = urlsplit(text).path if "://" in text else text
    parts = [part for part in path.split("/") if part]
    if "portal" in parts and parts.index("portal") + 1 < len(parts):
        return parts[parts.index("portal") + 1].lower()
    return (parts[0] if parts else "").lower()


def _front_page(provider: str = "", error: str | None = None, status_code: int = 200) -> Template:
    context = {"form": {"next": ""}, "error": None, "provider": provider, "provider_error": error}
    return Template("auth/login.html", context=context, status_code=status_code)


@get("/", include_in_schema=False, opt=PUBLIC)
async def home(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Staff sign-in (signed-in people go straight to their home page)."""
    principal = principal_of(request)
    if principal is not None:
        return Redirect(home_for(principal), status_code=303)
    return _front_page()


@get("/portal", include_in_schema=False, opt=PUBLIC)
async def find_portal(request: Request[Any, Any, Any], provider: FromQuery[str] = "") -> Template | Redirect:
    """A customer's way in: their provider's code or portal link leads to that portal's sign-in page."""
    runtime: Runtime = request.app.state.runtime
    operator = await active_operator(runtime.db, provider_code(provider[:300]))
    if operator is None:
        return _front_page(provider[:300], NOT_FOUND, status_code=404)
    return Redirect(f"/portal/{operator.slug}/login", status_code=303)


ROUTES = [home, find_portal]
