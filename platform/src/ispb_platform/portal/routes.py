"""Customer portal: sign-in by customer id or mobile number, dashboard, profile.

A customer's session belongs to one operator: the portal of another operator answers 404 to it, as it would
to anyone asking for something that does not exist there.
"""

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ispb_platform.auth.access import PUBLIC, allow, principal_of
from ispb_platform.auth.middleware import session_cookie
from ispb_platform.auth.roles import CUSTOMERS, Principal, SessionKind
from ispb_platform.auth.routes import client_ip, safe_next
from ispb_platform.auth.sessions import start_session
from ispb_platform.auth.signin import sign_in_customer
from ispb_platform.auth.throttle import account_limit, address_limit, locked_for, record_failure
from ispb_platform.billing.invoices.service import invoice_document, pdf_response
from ispb_platform.jobs.queue import run_soon
from ispb_platform.portal import otp
from ispb_platform.runtime import Runtime
from ispb_platform.web.tenancy import provide_portal_tenant
from ispb_tenants import TenantRef

Operator = NamedDependency[TenantRef]


def _own(request: Request[Any, Any, Any], operator: TenantRef) -> Principal:
    """The signed-in customer, if they belong to this operator; 404 otherwise."""
    principal = principal_of(request)
    if principal is None or principal.tenant is None or principal.tenant.id != operator.id:
        raise NotFoundException()
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
        error = None if login.strip() and password else "Enter your customer id or mobile number and password."
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
        limits = [account_limit(f"otp:{operator.id}", login), address_limit(client_ip(request))]
        error = None
        if not login:
            error = "Enter your customer id or mobile number."
        elif await locked_for(runtime.db, limits):
            error = "Too many attempts. Try again in a few minutes."
        else:
            async with runtime.db.tenant(operator) as scope:
                sent = await otp.send_code(
                    scope.connection,
                    operator,
                    str(runtime.settings.secret_key),
                    login,
                    client_ip(request),
                    datetime.now(UTC),
                )
            if sent:
                await run_soon(runtime.queue, "notify.send_outbox", operator, "otp")
        context = {"operator": operator, "login": login, "sent": error is None, "error": error}
        return Template("portal/otp.html", context=context, status_code=400 if error else 200)

    @post("/otp/verify", opt=PUBLIC)
    async def otp_verify(self, request: Request[Any, Any, Any], operator: Operator) -> Template | Redirect:
        runtime: Runtime = request.app.state.runtime
        form = await request.form()
        login, code = str(form.get("login", "")).strip(), str(form.get("code", "")).strip()
        if not login or not code:
            context = {
                "operator": operator,
                "login": login,
                "sent": bool(login),
                "error": "Enter the code from the SMS.",
            }
            return Template("portal/otp.html", context=context, status_code=400)
        limits = [account_limit(f"otp:{operator.id}", login), address_limit(client_ip(request))]
        verified = None
        if not await locked_for(runtime.db, limits):
            async with runtime.db.tenant(operator) as scope:
                verified = await otp.verify_code(
                    scope.connection, str(runtime.settings.secret_key), login, code, datetime.now(UTC)
                )
        if verified is None:
            await record_failure(runtime.db, limits)
            context = {"operator": operator, "login": login, "sent": True, "error": "That code is wrong or expired."}
            return Template("portal/otp.html", context=context, status_code=401)
        token = await start_session(
            runtime.db,
            kind=SessionKind.CUSTOMER,
            user_id=verified.customer_id,
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
    async def dashboard(self, request: Request[Any, Any, Any], operator: Operator) -> Template:
        principal = _own(request, operator)
        customer = await self._customer(request, operator, principal)
        async with request.app.state.runtime.db.tenant(operator) as scope:
            bills = await scope.connection.fetch(
                "SELECT id, kind, number, period_start, period_end, issue_date, due_date, total_minor, paid_minor,"
                " status, currency FROM bill WHERE customer_id = $1 ORDER BY issue_date DESC, id DESC LIMIT 24",
                principal.user_id,
            )
            paying = await scope.connection.fetchval(
                "SELECT payment_instructions FROM platform.tenant WHERE id = $1", operator.id
            )
        context = {"operator": operator, "customer": customer, "bills": bills, "payment_instructions": paying}
        return Template("portal/dashboard.html", context=context)

    @get("/bills/{bill_id:int}/pdf", opt=allow(CUSTOMERS))
    async def bill_pdf(
        self, request: Request[Any, Any, Any], operator: Operator, bill_id: FromPath[int]
    ) -> Response[bytes]:
        """The customer's own invoice or credit note; any other id is a 404, as if it did not exist."""
        principal = _own(request, operator)
        async with request.app.state.runtime.db.tenant(operator) as scope:
            owner = await scope.connection.fetchval("SELECT customer_id FROM bill WHERE id = $1", bill_id)
            if owner != principal.user_id:
                raise NotFoundException()
            document = await invoice_document(scope.connection, operator, bill_id)
        if document is None:
            raise NotFoundException()
        return await pdf_response(request.app, document)

    @get("/profile", opt=allow(CUSTOMERS))
    async def profile(self, request: Request[Any, Any, Any], operator: Operator) -> Template:
        principal = _own(request, operator)
        customer = await self._customer(request, operator, principal)
        return Template("portal/profile.html", context={"operator": operator, "customer": customer})

    async def _customer(
        self, request: Request[Any, Any, Any], operator: TenantRef, principal: Principal
    ) -> dict[str, Any]:
        async with request.app.state.runtime.db.tenant(operator) as scope:
            row = await scope.connection.fetchrow(
                "SELECT c.code, c.name, c.phone, c.email, c.address, c.area, c.status, c.connection_date,"
                " p.name AS package, p.download_kbps, p.upload_kbps, p.price_minor,"
                " coalesce(a.balance_minor, 0) AS balance_minor"
                " FROM customer c LEFT JOIN package p ON p.id = c.package_id"
                " LEFT JOIN customer_account a ON a.customer_id = c.id WHERE c.id = $1",
                principal.user_id,
            )
        if row is None:
            raise NotFoundException()
        return dict(row)
