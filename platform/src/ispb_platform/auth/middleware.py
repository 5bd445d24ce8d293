"""Loads the signed-in person from the session cookie before routing, so guards and handlers can see them."""

from typing import Any

from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ispb_platform.auth.roles import Principal
from ispb_platform.auth.sessions import add_flash, cookie_name, load_principal, take_flash
from ispb_platform.web.flash import PENDING, SHOWN


def _cookies(scope: Scope) -> dict[str, str]:
    raw = b"; ".join(value for name, value in scope.get("headers", []) if name == b"cookie").decode("latin-1")
    jar: dict[str, str] = {}
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in jar:
            jar[name] = value
    return jar


def _is_page_view(scope: Scope) -> bool:
    """A full page load (where the layout shows the messages), not an htmx fragment or a form post."""
    headers = dict(scope.get("headers", []))
    return scope.get("method") == "GET" and b"hx-request" not in headers


class SessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    # static files and health checks never need to know who is asking
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith(("/static/", "/healthz")))

    def __init__(self, secure_cookies: bool) -> None:
        self.cookie = cookie_name(secure_cookies)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = _cookies(scope).get(self.cookie)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["principal"] = None
        state["session_token"] = None
        state[SHOWN] = []
        db = scope["app"].state.runtime.db
        principal: Principal | None = None
        if token:
            principal = await load_principal(db, token)
            state["principal"] = principal
            state["session_token"] = token if principal else None
        if principal is None:
            await next_app(scope, receive, send)
            return
        if _is_page_view(scope):
            state[SHOWN] = await take_flash(db, principal.session_id)

        async def send_keeping_flash(message: Message) -> None:
            # store the handler's messages before the redirect reaches the browser, which follows it at once
            pending = state.pop(PENDING, None)
            if pending and message["type"] == "http.response.start" and message["status"] < 400:
                await add_flash(db, principal.session_id, pending)
            await send(message)

        await next_app(scope, receive, send_keeping_flash)


def session_cookie(token: str, *, secure: bool) -> Cookie:
    return Cookie(key=cookie_name(secure), value=token, path="/", secure=secure, httponly=True, samesite="lax")


def expired_session_cookie(*, secure: bool) -> Cookie:
    return Cookie(
        key=cookie_name(secure), value="", path="/", secure=secure, httponly=True, samesite="lax", max_age=0, expires=0
    )
