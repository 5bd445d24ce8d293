"""Flash messages: one-time banners ("Package saved") that the server sets, never a query string.

A handler calls ``flash(request, "Package saved")`` before its redirect. The message is stored in the
signed-in person's session row (``platform.web_session.flash``) as the response starts, and only when the
response is a success or a redirect (so a handler that fails after flashing shows nothing); the tenant
transaction of ``@in_tenant_scope`` has committed by then. The next full page of that session takes the
messages (``SessionMiddleware``) and the layout shows them once (``_flash.html``). Text in a URL can never
reach a banner: the messages come only from the server's own handlers.
"""

from typing import Any

from litestar import Request

PENDING = "flash_pending"
SHOWN = "flash"


def flash(request: Request[Any, Any, Any], text: str, *, alert: bool = False) -> None:
    """Show ``text`` once on this person's next page (after the redirect); ``alert`` for a refusal."""
    kind = "alert" if alert else "notice"
    request.scope["state"].setdefault(PENDING, []).append({"kind": kind, "text": text})
