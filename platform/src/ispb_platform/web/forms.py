"""Reading submitted forms as plain text fields: validation lives with each domain (e.g. customers/forms.py)."""

from typing import Any

from litestar import Request


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Text fields of a urlencoded or multipart form; files and the CSRF token are left out."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "_csrf_token"}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"
