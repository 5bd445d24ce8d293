"""Friendly error pages for people and JSON errors for programs (DESIGN 6).

An anonymous visitor who needs to sign in is sent to the right sign-in page (the operator's portal for
``/portal/<slug>/...``, the staff sign-in otherwise) and brought back afterwards. Unexpected errors are logged
with a reference and shown without internals. While the database cannot be reached (restarting, failing over,
out of connections) every page answers 503 with a page saying so and when to try again, not a 500: nothing is
wrong with the request, and nothing it sent was half saved (each request is one transaction).
"""

import logging
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from ispb_platform.auth.access import LOCKED_PAGE, PanelLocked
from ispb_tenants.availability import database_unavailable

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be understood",
    401: "Please sign in",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "The service is briefly unavailable",
}
RETRY_AFTER_S = 30
"""What a 503 asks browsers and programs to wait: a PostgreSQL restart takes seconds, a failover under a minute."""
UNAVAILABLE_DETAIL = (
    "We cannot reach our database at the moment, so nothing was changed. Please try again in a minute; "
    "if you were sending a form, send it again then."
)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def _sign_in_url(request: Request[Any, Any, Any]) -> str:
    parts = request.url.path.split("/")
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
    if len(parts) > 2 and parts[1] == "portal" and parts[2]:
        return f"/portal/{parts[2]}/login?next={target}"
    return f"/login?next={target}"


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, PanelLocked) and not _wants_json(request):
        if request.headers.get("hx-request"):
            return Response("", status_code=200, headers={"HX-Redirect": LOCKED_PAGE})
        return Redirect(LOCKED_PAGE, status_code=303)
    if isinstance(error, NotAuthorizedException) and request.method == "GET" and not _wants_json(request):
        return Redirect(_sign_in_url(request), status_code=303)
    status = error.status_code
    if _wants_json(request):
        return Response({"error": TITLES.get(status, error.detail), "status": status}, status_code=status)
    if request.headers.get("hx-request") and isinstance(error, NotAuthorizedException):
        return Response("", status_code=status, headers={"HX-Redirect": _sign_in_url(request)})
    context = {"status": status, "title": TITLES.get(status, "Error"), "detail": error.detail}
    return Template("error.html", context=context, status_code=status)


def server_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    if database_unavailable(error):
        return _unavailable(request, error)
    reference = secrets.token_hex(4)
    log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path, exc_info=error)
    status = HTTP_500_INTERNAL_SERVER_ERROR
    if _wants_json(request):
        return Response({"error": TITLES[status], "reference": reference}, status_code=status)
    context = {
        "status": status,
        "title": TITLES[status],
        "detail": f"The error was recorded with reference {reference}. Please try again.",
    }
    return Template("error.html", context=context, status_code=status)


def _unavailable(request: Request[Any, Any, Any], error: BaseException) -> Response[Any]:
    """503 while the database is away: one log line (not a traceback per request), a page, a Retry-After."""
    log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path, type(error).__name__, error)
    status = HTTP_503_SERVICE_UNAVAILABLE
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_json(request):
        return Response({"error": TITLES[status], "status": status}, status_code=status, headers=headers)
    context = {"status": status, "title": TITLES[status], "detail": UNAVAILABLE_DETAIL}
    return Template("error.html", context=context, status_code=status, headers=headers)
