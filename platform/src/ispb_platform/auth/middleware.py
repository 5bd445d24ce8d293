"""Loads the signed-in person from the session cookie before routing, so guards and handlers can see them."""

from typing import Any

from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ispb_platform.auth.sessions import cookie_name, load_principal


def _cookies(scope: Scope) -> dict[str, str]:
    raw = b"; ".join(value for name, value in scope.get("headers", []) if name == b"cookie").decode("latin-1")
    jar: dict[str, str] = {}
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in jar:
            jar[name] = value
    return jar


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
        if token:
            principal = await load_principal(scope["app"].state.runtime.db, token)
            state["principal"] = principal
            state["session_token"] = token if principal else None
        await next_app(scope, receive, send)


def session_cookie(token: str, *, secure: bool) -> Cookie:
    return Cookie(key=cookie_name(secure), value=token, path="/", secure=secure, httponly=True, samesite="lax")


def expired_session_cookie(*, secure: bool) -> Cookie:
    return Cookie(
        key=cookie_name(secure), value="", path="/", secure=secure, httponly=True, samesite="lax", max_age=0, expires=0
    )
