"""Confirming a drastic action (suspend, disable, void, remove, revoke) with a reason that is logged.

The action's button is a link to a confirmation page: a GET that changes nothing, so it works without
JavaScript, on a phone, and when a chat app previews the link. The page says what will happen and asks why;
its form posts to the action, which refuses a missing or empty reason with a 422 beside the field (nothing
changed, the page shown again) and otherwise keeps the reason with the change: in the activity log, and in the
Suspension Log or on the credit note where the action has one. For example::

    reason, errors = read_reason(await form_fields(request))
    if errors:
        return confirm_page(suspend_confirmation(customer), PANEL, reason=reason, errors=errors)
"""

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar.response import Template

from ispb_platform.web.navigation import PANEL_NAV

MAX_REASON = 500
"""Characters: a sentence or two; the Suspension Log and credit notes show it whole."""


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page asks: ``title`` as a question, ``consequence`` in plain words, the form's
    ``action`` URL (with ``hidden`` fields, e.g. the status to set), the danger ``button`` and where Cancel goes."""

    title: str
    consequence: str
    action: str
    button: str
    back: str
    hidden: Mapping[str, str] = field(default_factory=dict)
    kept_in: str = "the activity log"
    """Where the reason is kept, for the hint under the field ("Kept in the Suspension Log ...")."""


@dataclass(frozen=True)
class Layout:
    """The page around the confirmation: the panel's (with its navigation) or the admin console's."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


def panel_layout(active: str) -> Layout:
    """The operator panel around the page, ``active`` the sidebar entry to mark (e.g. ``/panel/customers``)."""
    return Layout("panel/layout.html", {"nav": PANEL_NAV, "active": active})


ADMIN_LAYOUT = Layout("admin/layout.html")


def read_reason(fields: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The reason as one line (runs of spaces and line breaks become one space), or a field error for an
    empty, oversize or control-character one; the text comes back either way so the page can show it again."""
    typed = fields.get("reason", "")
    reason = " ".join(typed.split())
    if any(unicodedata.category(c) == "Cc" for c in reason):  # NUL and the like: shown again without them
        shown = "".join(c for c in reason if unicodedata.category(c) != "Cc")
        return shown[:MAX_REASON], {"reason": "Write the reason as plain text."}
    if not reason:
        return "", {"reason": "Say why. The reason is required and is kept with your name."}
    if len(reason) > MAX_REASON:
        return reason, {"reason": f"Keep the reason under {MAX_REASON} characters."}  # shown again whole
    return reason, {}


def optional_reason(fields: Mapping[str, str], default: str) -> str:
    """A reason an action takes but does not require (reactivating): one line, control characters dropped,
    cut to `MAX_REASON`; ``default`` when none was given."""
    typed = "".join(c for c in fields.get("reason", "") if c.isspace() or unicodedata.category(c) != "Cc")
    return " ".join(typed.split())[:MAX_REASON] or default


def confirm_page(
    confirmation: Confirmation,
    layout: Layout,
    *,
    reason: str = "",
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The confirmation page (``confirm.html``); with ``errors`` it is the 422 answer of the action itself."""
    context = {
        **layout.context,
        "layout": layout.template,
        "confirmation": confirmation,
        "reason": reason,
        "errors": dict(errors or {}),
        "max_reason": MAX_REASON,
    }
    return Template("confirm.html", context=context, status_code=422 if errors else status_code)
