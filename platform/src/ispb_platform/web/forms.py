"""Reading submitted forms as plain text fields: validation lives with each domain (e.g. customers/forms.py)."""

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Text fields of a urlencoded or multipart form; files and the CSRF token are left out."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "_csrf_token"}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def see_other(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """After a successful post: a 303 for a plain form, a full navigation (``HX-Redirect``) for htmx.

    Letting htmx follow a 303 would swap the next page into the old URL, so a reload would show the
    submitted form again.
    """
    if is_htmx(request):
        return Response(b"", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)
