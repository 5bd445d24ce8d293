"""Staff sign-in and sign-out (platform admins, group admins, operator admins and staff)."""

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import OPEN_WHEN_LOCKED, PUBLIC, allow, home_for, principal_of
from ispb_platform.auth.middleware import expired_session_cookie, session_cookie
from ispb_platform.auth.roles import ADMINS, CUSTOMERS, OPERATORS, SessionKind
from ispb_platform.auth.sessions import end_all_sessions, end_session, start_session
from ispb_platform.auth.signin import sign_in_staff
from ispb_platform.runtime import Runtime
from ispb_platform.web.forms import text_problem
from ispb_platform.web.requests import client_ip, safe_next

EVERYONE_SIGNED_IN = ADMINS | OPERATORS | CUSTOMERS


@get("/login", opt=PUBLIC)
async def login_page(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template | Redirect:
    principal = principal_of(request)
    if principal is not None and principal.kind is SessionKind.STAFF:
        return Redirect(home_for(principal), status_code=303)
    return Template("auth/login.html", context={"form": {"next": next or ""}, "error": None})


@post("/login", opt=PUBLIC)
async def login(request: Request[Any, Any, Any]) -> Template | Redirect:
    runtime: Runtime = request.app.state.runtime
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = str(form.get("next", ""))
    if not email.strip() or not password or text_problem(email):
        return Template(
            "auth/login.html",
            status_code=400,
            context={"form": {"email": email, "next": target}, "error": "Enter your e-mail and password."},
        )
    result = await sign_in_staff(runtime.db, email, password, client_ip(request))
    if result.user_id is None:
        return Template(
            "auth/login.html",
            status_code=401,
            context={"form": {"email": email, "next": target}, "error": result.error},
        )
    token = await start_session(
        runtime.db,
        kind=SessionKind.STAFF,
        user_id=result.user_id,
        tenant_id=result.tenant_id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        replacing=request.scope["state"].get("session_token"),
    )
    default = "/admin/" if result.role in ADMINS else "/panel/"
    secure = runtime.settings.cookie_secure
    return Redirect(safe_next(target, default), status_code=303, cookies=[session_cookie(token, secure=secure)])


@post("/logout", opt={**allow(EVERYONE_SIGNED_IN), OPEN_WHEN_LOCKED: True})
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    runtime: Runtime = request.app.state.runtime
    principal = principal_of(request)
    target = "/login"
    if principal is not None:
        await end_session(runtime.db, principal.session_id)
        if principal.kind is SessionKind.CUSTOMER:
            target = f"/portal/{principal.require_tenant().slug}/login"
    return Redirect(target, status_code=303, cookies=[expired_session_cookie(secure=runtime.settings.cookie_secure)])


@post("/logout/everywhere", opt={**allow(EVERYONE_SIGNED_IN), OPEN_WHEN_LOCKED: True})
async def logout_everywhere(request: Request[Any, Any, Any]) -> Redirect:
    runtime: Runtime = request.app.state.runtime
    principal = principal_of(request)
    assert principal is not None  # the guard let only signed-in people through
    await end_all_sessions(runtime.db, principal)
    target = "/login" if principal.kind is SessionKind.STAFF else f"/portal/{principal.require_tenant().slug}/login"
    return Redirect(target, status_code=303, cookies=[expired_session_cookie(secure=runtime.settings.cookie_secure)])


ROUTES = [login_page, login, logout, logout_everywhere]
