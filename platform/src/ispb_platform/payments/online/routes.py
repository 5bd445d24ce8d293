"""Online payment pages: "Pay now" on the portal and the suspension portal, the gateway's way back, the result
page, and Bills and Payments → Payment Gateways for the operator.

The pay buttons post here and get a page that sends the browser on to the gateway (a form may only post to
this site under our CSP, and a redirect after a post counts as the form's target). The way back and the
result page are public: a customer paying from the suspension portal is not signed in. The result page's
address holds the checkout's unguessable reference, nothing else identifies it.
"""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.access import PUBLIC, allow, principal_of
from ispb_platform.auth.roles import CUSTOMERS, OPERATOR_ADMINS, OPERATORS
from ispb_platform.billing.suspension.queries import suspended_customer_at
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.online import queries, settings_page
from ispb_platform.payments.online.accounts import IMPLEMENTED, accounts, save_account
from ispb_platform.payments.online.gateway import PROVIDER_LABELS, Provider
from ispb_platform.payments.online.service import (
    CheckoutRefused,
    Context,
    confirm_return,
    receive_notice,
    start_checkout,
)
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import client_ip, site_url
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_platform.web.tenancy import provide_portal_tenant
from ispb_tenants import TenantRef

Operator = NamedDependency[TenantRef]
_TENANT = {"operator": Provide(provide_portal_tenant)}


def context_of(request: Request[Any, Any, Any]) -> Context:
    runtime = request.app.state.runtime
    settings = runtime.settings
    return Context(runtime.db, str(settings.secret_key), settings.outbound, settings.public_ipv4, runtime.queue)


def _provider(fields: dict[str, str]) -> Provider | None:
    try:
        return Provider(fields.get("provider", ""))
    except ValueError:
        return None


async def _go(
    request: Request[Any, Any, Any], operator: TenantRef, customer_id: int, origin: str, back: str
) -> Template:
    provider = _provider(await form_fields(request))
    error = "Choose how to pay." if provider is None else None
    if provider is not None:
        try:
            url = await start_checkout(
                context_of(request), operator, customer_id, provider, origin=origin, site_url=site_url(request)
            )
        except CheckoutRefused as refused:
            error = str(refused)
        else:
            context = {"operator": operator, "url": url, "label": PROVIDER_LABELS[provider]}
            return Template("payments/online/redirect.html", context=context)
    return Template(
        "payments/online/refused.html", context={"operator": operator, "error": error, "back": back}, status_code=400
    )


@post("/portal/{operator_slug:str}/pay", opt=allow(CUSTOMERS), dependencies=_TENANT)
async def portal_pay(request: Request[Any, Any, Any], operator: Operator) -> Template:
    """ "Pay now" on the portal: a checkout for what the signed-in customer owes."""
    principal = principal_of(request)
    if principal is None or principal.tenant is None or principal.tenant.id != operator.id:
        raise NotAuthorizedException("Please sign in.")  # another operator's customer: sign in here first
    return await _go(request, operator, principal.user_id, "portal", f"/portal/{operator.slug}/")


@post("/suspended/{operator_slug:str}/pay", opt=PUBLIC, dependencies=_TENANT)
async def suspension_pay(request: Request[Any, Any, Any], operator: Operator) -> Template:
    """ "Pay now" on the suspension portal: the suspended customer at the request's address (as the page that
    showed the button found them), for what they owe."""
    async with request.app.state.runtime.db.tenant(operator) as scope:
        customer = await suspended_customer_at(scope.connection, client_ip(request) or None)
    if customer is None:
        return Template(
            "payments/online/refused.html",
            context={
                "operator": operator,
                "error": "This address is not a suspended customer's. Sign in to your account to pay.",
                "back": f"/portal/{operator.slug}/",
            },
            status_code=400,
        )
    return await _go(request, operator, customer.id, "suspension", f"/suspended/{operator.slug}/")


FROM_GATEWAY = {**PUBLIC, "exclude_from_csrf": True}
"""Gateways post back from their own sites (SSLCommerz's return, IPNs, Stripe's webhooks): no CSRF token can
come with them; what they say is believed only after the gateway confirms it server to server."""


def _chosen(provider: str) -> Provider:
    try:
        return Provider(provider)
    except ValueError:
        raise NotFoundException() from None


@route(
    "/payments/{operator_slug:str}/{provider:str}/return/{merchant_ref:str}",
    http_method=[HttpMethod.GET, HttpMethod.POST],
    opt=FROM_GATEWAY,
    dependencies=_TENANT,
)
async def gateway_return(
    request: Request[Any, Any, Any], operator: Operator, provider: FromPath[str], merchant_ref: FromPath[str]
) -> Response[Any]:
    """Where the gateway sends the browser back (a GET, or SSLCommerz's POST): confirmed server to server,
    then the result page."""
    chosen = _chosen(provider)
    returned = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    if request.method == "POST":
        returned |= await form_fields(request)
    today = local_today(datetime.now(UTC), operator)
    checkout = await confirm_return(context_of(request), operator, chosen, merchant_ref, returned, today)
    if checkout is None:
        raise NotFoundException()
    return see_other(request, f"/payments/{operator.slug}/result/{merchant_ref}")


@post("/payments/{operator_slug:str}/{provider:str}/notify", opt=FROM_GATEWAY, dependencies=_TENANT, status_code=200)
async def gateway_notice(request: Request[Any, Any, Any], operator: Operator, provider: FromPath[str]) -> Response[str]:
    """A gateway's server-to-server notice (SSLCommerz IPN, Stripe webhook): signature checked, then the checkout
    it names is confirmed at the gateway. 400 for a bad signature (logged), 200 otherwise (also for events
    about nothing of ours, which the gateway must not resend)."""
    chosen = _chosen(provider)
    body = await request.body()
    fields = dict(parse_qsl(body.decode("utf-8", "replace"))) if _is_form(request) else {}
    headers = {k.lower(): v for k, v in request.headers.items()}
    today = local_today(datetime.now(UTC), operator)
    outcome = await receive_notice(context_of(request), operator, chosen, body, headers, fields, today)
    return Response(outcome.text, status_code=outcome.status, media_type="text/plain")


def _is_form(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")


@get("/payments/{operator_slug:str}/result/{merchant_ref:str}", opt=PUBLIC, dependencies=_TENANT)
async def result(request: Request[Any, Any, Any], operator: Operator, merchant_ref: FromPath[str]) -> Template:
    async with request.app.state.runtime.db.tenant(operator) as scope:
        checkout = await queries.by_merchant_ref(scope.connection, merchant_ref)
        status = await queries.customer_status(scope.connection, checkout.customer_id) if checkout else None
    if checkout is None:
        raise NotFoundException()
    context = {
        "operator": operator,
        "checkout": checkout,
        "label": PROVIDER_LABELS[checkout.provider],
        "customer_status": status,
    }
    return Template("payments/online/result.html", context=context)


@get("/panel/payments/online", opt=allow(OPERATORS))
@in_tenant_scope
async def online_payments(db: TenantScope) -> Template:
    """Bills and Payments → Online payments: the newest checkouts, what each gateway last said, and why a
    refused one was refused (never credited: the operator takes it up with the gateway)."""
    context = {
        "nav": PANEL_NAV,
        "active": "/panel/payments/online",
        "checkouts": await queries.recent_checkouts(db.connection),
        "labels": PROVIDER_LABELS,
    }
    return Template("payments/online/checkouts.html", context=context)


class PaymentGatewaysController(Controller):
    """Bills and Payments → Payment Gateways: one form per provider (operator admins change them)."""

    path = "/panel/payments/gateways"

    @get("/", opt=allow(OPERATORS))
    @in_tenant_scope
    async def index(self, db: TenantScope, request: Request[Any, Any, Any]) -> Template:
        found = await accounts(db.connection, db.tenant.id, context_of(request).secret_key)
        forms = [settings_page.form_of(p, found.get(p)) for p in IMPLEMENTED]
        return _gateways_page(forms)

    @post("/{provider:str}", opt=allow(OPERATOR_ADMINS))
    @in_tenant_scope
    async def save(
        self, db: TenantScope, request: Request[Any, Any, Any], provider: FromPath[str]
    ) -> Template | Response[Any]:
        chosen = settings_page.implemented(provider)
        if chosen is None:
            raise NotFoundException()
        key = context_of(request).secret_key
        found = await accounts(db.connection, db.tenant.id, key)
        account, form = settings_page.read_form(chosen, await form_fields(request), found.get(chosen))
        if account is None:
            forms = [form if p is chosen else settings_page.form_of(p, found.get(p)) for p in IMPLEMENTED]
            return _gateways_page(forms, status_code=422)
        await save_account(db.connection, db.tenant.id, key, account)
        principal = principal_of(request)
        assert principal is not None
        await record_activity(
            db,
            principal,
            "payments.gateway_saved",
            object_type="payment_gateway",
            object_id=chosen.value,
            summary=f"Saved the {form.label} gateway ({account.mode}, {'on' if account.enabled else 'off'})",
            ip=client_ip(request),
        )
        flash(request, f"{form.label} saved")
        return see_other(request, "/panel/payments/gateways")


def _gateways_page(forms: list[settings_page.ProviderForm], status_code: int = 200) -> Template:
    context = {
        "nav": PANEL_NAV,
        "active": "/panel/payments/gateways",
        "forms": forms,
        "action_prefix": "/panel/payments/gateways",
    }
    return Template("payments/online/gateways.html", context=context, status_code=status_code)


ROUTES: list[ControllerRouterHandler] = [
    portal_pay,
    suspension_pay,
    gateway_return,
    gateway_notice,
    result,
    online_payments,
    PaymentGatewaysController,
]
