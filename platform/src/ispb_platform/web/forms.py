"""Reading submitted forms as plain text fields: validation lives with each domain (e.g. customers/forms.py),
which starts from ``text_errors``: the text no field of any form accepts."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect


async def form_fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Text fields of a urlencoded or multipart form; files and the CSRF token are left out."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "_csrf_token"}


MAX_TEXT_CHARS = 10_000
"""No field of any form is longer (the longest, a message template, stops at 2,000); more is refused beside the
field before anything reaches the database, whatever each domain's own limit."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be taken as typed text, or None: NUL (which PostgreSQL refuses in any text, a 500
    until this check) and the other control characters nobody types (tab and line breaks are text), or more
    than ``MAX_TEXT_CHARS`` characters."""
    if _CONTROL.search(value):
        return "Remove the control characters (such as NUL) from this text."
    if len(value) > MAX_TEXT_CHARS:
        return f"Keep this under {MAX_TEXT_CHARS:,} characters."
    return None


def text_errors(data: Mapping[str, str], fields: Iterable[str]) -> dict[str, str]:
    """``{field: message}`` for each of ``fields`` (those the form shows, so each message has its place beside
    one) whose text ``text_problem`` refuses. A domain's validator starts its errors from these::

        errors = text_errors(data, ("name", "price"))  # then the form's own rules
    """
    return {name: problem for name in fields if (problem := text_problem(data.get(name, "")))}


def whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high``, or None. Digits of any script count (``"৩০"`` is 30),
    at most 18 of them: ``int()`` raises on a 5,000-digit string and on ``"²"``, which ``isdigit()`` accepts.

    >>> whole_number(" 30 ", 1, 366), whole_number("9" * 5000, 1, 366), whole_number("²", 0, 9)
    (30, None, None)
    """
    text = text.strip()
    if not text.isdecimal() or len(text) > 18:
        return None
    value = int(text)
    return value if low <= value <= high else None


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
