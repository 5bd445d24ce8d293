"""Customer portal: sign-in by customer id or mobile number (password or one-time code), dashboard, profile,
invoice PDFs. HTTP only: the work is in ``portal.service``.

A customer's session belongs to one operator: in another operator's portal that customer is a visitor who has
not signed in, so every page there leads to that portal's sign-in page (as it would for anyone), never to a
bare 404 and never to anything of the first operator. Signed-in pages run in the customer's own tenant scope
(``@in_tenant_scope``); the sign-in pages' operator comes from the URL.
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import PUBLIC, allow, principal_of
from ispb_platform.auth.middleware import session_cookie
from ispb_platform.auth.roles import CUSTOMERS, Principal, SessionKind
from ispb_platform.auth.sessions import start_session
from ispb_platform.auth.signin import sign_in_customer
from ispb_platform.billing.invoices.service import pdf_response
from ispb_platform.network.olts.customer_view import portal_signal
from ispb_platform.network.traffic.files import customer_graph
from ispb_platform.network.traffic.usage_view import usage_view
from ispb_platform.payments.online.accounts import accounts, enabled_providers
from ispb_platform.payments.online.gateway import PROVIDER_LABELS
from ispb_platform.portal import queries, service
from ispb_platform.runtime import Runtime
from ispb_platform.web.forms import text_problem
from ispb_platform.web.requests import client_ip, safe_next
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_platform.web.tenancy import provide_portal_tenant
from ispb_tenants import TenantRef

Operator = NamedDependency[TenantRef]


def _own(request: Request[Any, Any, Any], operator: TenantRef) -> Principal:
    """The signed-in customer, if they belong to this operator; otherwise "please sign in" (to this operator's
    portal: ``web/errors.py`` sends a GET to its sign-in page and back)."""
    principal = principal_of(request)
    if principal is None or principal.tenant is None or principal.tenant.id != operator.id:
        raise NotAuthorizedException("Please sign in.")
    return principal


class PortalController(Controller):
    path = "/portal/{operator_slug:str}"
    dependencies = {"operator": Provide(provide_portal_tenant)}  # noqa: RUF012 (Litestar reads it on the class)

    @get("/login", opt=PUBLIC)
    async def login_page(
        self, request: Request[Any, Any, Any], operator: Operator, next: FromQuery[str | None] = None
    ) -> Template | Redirect:
        principal = principal_of(request)
        if principal is not None and principal.tenant is not None and principal.tenant.id == operator.id:
            return Redirect(f"/portal/{operator.slug}/", status_code=303)
        return Template(
            "portal/login.html", context={"operator": operator, "form": {"next": next or ""}, "error": None}
        )

    @post("/login", opt=PUBLIC)
    async def login(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Redirect:
        runtime: Runtime = request.app.state.runtime
        form = await request.form()
        login, password, target = (str(form.get(k, "")) for k in ("login", "password", "next"))
        usable = login.strip() and password and not text_problem(login)
        error = None if usable else "Enter your customer id or mobile number and password."
        result = None if error else await sign_in_customer(runtime.db, operator, login, password, client_ip(request))
        if result is None or result.user_id is None:
            context = {
                "operator": operator,
                "form": {"login": login, "next": target},
                "error": error or (result.error if result else None),
            }
            return Template("portal/login.html", context=context, status_code=400 if error else 401)
        token = await start_session(
            runtime.db,
            kind=SessionKind.CUSTOMER,
            user_id=result.user_id,
            tenant_id=operator.id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            replacing=request.scope["state"].get("session_token"),
        )
        home = f"/portal/{operator.slug}/"
        target = target if target.startswith(home) else home
        return Redirect(
            safe_next(target, home),
            status_code=303,
            cookies=[session_cookie(token, secure=runtime.settings.cookie_secure)],
        )

    @get("/otp", opt=PUBLIC)
    async def otp_page(self, operator: Operator) -> Template:
        return Template("portal/otp.html", context={"operator": operator, "login": "", "sent": False, "error": None})

    @post("/otp", opt=PUBLIC)
    async def otp_send(self, request: Request[Any, Any, Any], operator: Operator) -> Template:
        """Send a code; the answer is the same whether or not the account exists."""
        runtime: Runtime = request.app.state.runtime
        login = str((await request.form()).get("login", "")).strip()
        error = (
            "Enter your customer id or mobile number."
            if text_problem(login)
            else await service.request_code(runtime, operator, login, client_ip(request), datetime.now(UTC))
        )
        context = {"operator": operator, "login": login, "sent": error is None, "error": error}
        return Template("portal/otp.html", context=context, status_code=400 if error else 200)

    @post("/otp/verify", opt=PUBLIC)
    async def otp_verify(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Redirect:
        runtime: Runtime = request.app.state.runtime
        form = await request.form()
        login, code = str(form.get("login", "")).strip(), str(form.get("code", "")).strip()
        if not login or not code or text_problem(login) or text_problem(code):
            context = {
                "operator": operator,
                "login": login,
                "sent": bool(login),
                "error": "Enter the code from the SMS.",
            }
            return Template("portal/otp.html", context=context, status_code=400)
        customer_id = await service.verify_code(runtime, operator, login, code, client_ip(request), datetime.now(UTC))
        if customer_id is None:
            context = {"operator": operator, "login": login, "sent": True, "error": "That code is wrong or expired."}
            return Template("portal/otp.html", context=context, status_code=401)
        token = await start_session(
            runtime.db,
            kind=SessionKind.CUSTOMER,
            user_id=customer_id,
            tenant_id=operator.id,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            replacing=request.scope["state"].get("session_token"),
        )
        return Redirect(
            f"/portal/{operator.slug}/",
            status_code=303,
            cookies=[session_cookie(token, secure=runtime.settings.cookie_secure)],
        )

    @get("/", opt=allow(CUSTOMERS))
    @in_tenant_scope
    async def dashboard(self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator) -> Template:
        principal = _own(request, operator)
        home = await service.home(operator, principal.user_id)
        if home is None:
            raise NotFoundException()
        usage = await usage_view(db, principal.user_id, Path(request.app.state.runtime.settings.data_dir))
        found = await accounts(db.connection, operator.id, str(request.app.state.runtime.settings.secret_key))
        context = {
            "operator": operator,
            "pay_with": enabled_providers(found),
            "provider_labels": PROVIDER_LABELS,
            "usage": usage,
            "signal": await portal_signal(principal.user_id),
            "customer": home.customer,
            "bills": home.bills,
            "payment_instructions": home.payment_instructions,
        }
        return Template("portal/dashboard.html", context=context)

    @get("/bills/{bill_id:int}/pdf", opt=allow(CUSTOMERS))
    async def bill_pdf(
        self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Response[bytes]:
        """The customer's own invoice or credit note; any other id is a 404, as if it did not exist. Not
        tenant-scoped: the service reads in its own short transaction, and the PDF is rendered after it."""
        principal = _own(request, operator)
        document = await service.own_invoice(request.app.state.runtime.db, operator, principal.user_id, bill_id)
        if document is None:
            raise NotFoundException()
        return await pdf_response(request.app, document)

    @get("/traffic.png", opt=allow(CUSTOMERS))
    @in_tenant_scope
    async def traffic_graph(
        self,
        db: TenantScope,
        request: Request[Any, Any, Any],
        operator: Operator,
        period: FromQuery[str] = "day",
        size: FromQuery[str] = "wide",
    ) -> Response[bytes]:
        """The signed-in customer's own traffic graph (there is no id to ask for anyone else's)."""
        principal = _own(request, operator)
        data_dir = Path(request.app.state.runtime.settings.data_dir)
        title = f"Your traffic ({period})"
        image = await asyncio.to_thread(customer_graph, data_dir, operator, principal.user_id, period, title, size)
        if image is None:
            raise NotFoundException()
        return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})

    @get("/profile", opt=allow(CUSTOMERS))
    @in_tenant_scope
    async def profile(self, db: TenantScope, request: Request[Any, Any, Any], operator: Operator) -> Template:
        principal = _own(request, operator)
        customer = await queries.customer(principal.user_id)
        if customer is None:
            raise NotFoundException()
        return Template("portal/profile.html", context={"operator": operator, "customer": customer})
