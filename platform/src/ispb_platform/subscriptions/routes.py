"""The operator's side of subscriptions: Settings → Subscription, the locked page, a bill's PDF, paying online
through the platform's gateway account, and the gateway's way back.

While the operator's panel is locked for an unpaid bill, every panel route answers the locked page
(``auth/access.py``); the routes here that a locked operator needs declare ``OPEN_WHEN_LOCKED``."""

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl

from litestar import HttpMethod, Request, Response, get, post, route
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from ispb_platform.auth.access import OPEN_WHEN_LOCKED, PUBLIC, allow, principal_of
from ispb_platform.auth.roles import OPERATORS, Principal
from ispb_platform.payments.online.gateway import PROVIDER_LABELS, Provider
from ispb_platform.payments.online.routes import FROM_GATEWAY, context_of
from ispb_platform.payments.online.service import CheckoutRefused
from ispb_platform.subscriptions import checkout, service
from ispb_platform.subscriptions.document import bill_pdf
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.navigation import PANEL_NAV
from ispb_platform.web.requests import site_url

LOCKED_OPEN = {**allow(OPERATORS), OPEN_WHEN_LOCKED: True}
PAGE = "/panel/subscription"


def _operator(request: Request[Any, Any, Any]) -> Principal:
    principal = principal_of(request)
    if principal is None or principal.tenant is None:
        raise NotFoundException()
    return principal


def _today() -> date:
    return datetime.now(UTC).date()  # bills fall due and lock by the platform's (UTC) calendar, as its jobs run


@get(PAGE, opt=allow(OPERATORS))
async def subscription_page(request: Request[Any, Any, Any]) -> Template:
    """Settings → Subscription: the plan and its tiers, the latest customer count, SMS this month, the bills."""
    principal = _operator(request)
    view = await service.operator_view(request.app.state.runtime.db, principal.require_tenant().id, _today())
    context = {"nav": PANEL_NAV, "active": PAGE, "view": view, "labels": PROVIDER_LABELS}
    return Template("subscriptions/page.html", context=context)


@get("/panel/locked", opt=LOCKED_OPEN)
async def locked_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    """What a locked operator's staff see instead of every panel page: the unpaid bills, the way to pay, whom to
    call. Once paid the panel is open again and this page sends them on."""
    principal = _operator(request)
    if not principal.locked:
        return Redirect(PAGE, status_code=303)
    view = await service.operator_view(request.app.state.runtime.db, principal.require_tenant().id, _today())
    return Template("subscriptions/locked.html", context={"view": view, "labels": PROVIDER_LABELS})


@get("/panel/subscription/bills/{subscription_bill_id:int}/pdf", opt=LOCKED_OPEN)
async def bill_pdf_download(request: Request[Any, Any, Any], subscription_bill_id: FromPath[int]) -> Response[Any]:
    principal = _operator(request)
    answer = await bill_pdf(request.app, subscription_bill_id, tenant_id=principal.require_tenant().id)
    if answer is None:
        raise NotFoundException()
    return answer


@post("/panel/subscription/bills/{subscription_bill_id:int}/pay", opt=LOCKED_OPEN)
async def pay_bill(request: Request[Any, Any, Any], subscription_bill_id: FromPath[int]) -> Template:
    """Pay what is due on a bill at the platform's gateway: a page that sends the browser on (CSP form-action)."""
    principal = _operator(request)
    tenant = principal.require_tenant()
    if not await service.is_operators_bill(request.app.state.runtime.db, tenant.id, subscription_bill_id):
        raise NotFoundException()
    fields = await form_fields(request)
    back = "/panel/locked" if principal.locked else PAGE
    error = "Choose how to pay."
    try:
        provider: Provider | None = Provider(fields.get("provider", ""))
    except ValueError:
        provider = None
    if provider is not None:
        try:
            url = await checkout.start(
                context_of(request),
                tenant.id,
                tenant.slug,
                subscription_bill_id,
                provider,
                started_by=f"{principal.name} <{principal.login}>",
                site_url=site_url(request),
            )
        except CheckoutRefused as refused:
            error = str(refused)
        else:
            context = {"operator": tenant, "url": url, "label": PROVIDER_LABELS[provider]}
            return Template("payments/online/redirect.html", context=context)
    context = {"operator": tenant, "error": error, "back": back}
    return Template("payments/online/refused.html", context=context, status_code=400)


def _provider(provider: str) -> Provider:
    try:
        return Provider(provider)
    except ValueError:
        raise NotFoundException() from None


@route(
    "/subscription-pay/{provider:str}/return/{merchant_ref:str}",
    http_method=[HttpMethod.GET, HttpMethod.POST],
    opt=FROM_GATEWAY,
)
async def checkout_return(
    request: Request[Any, Any, Any], provider: FromPath[str], merchant_ref: FromPath[str]
) -> Response[Any]:
    returned = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    if request.method == "POST":
        returned |= await form_fields(request)
    paying = await checkout.confirm(context_of(request), _provider(provider), merchant_ref, returned)
    if paying is None:
        raise NotFoundException()
    return see_other(request, f"/subscription-pay/result/{merchant_ref}")


@post("/subscription-pay/{provider:str}/notify", opt=FROM_GATEWAY, status_code=200)
async def checkout_notice(request: Request[Any, Any, Any], provider: FromPath[str]) -> Response[str]:
    body = await request.body()
    kind = request.headers.get("content-type", "")
    fields = dict(parse_qsl(body.decode("utf-8", "replace"))) if kind.startswith("application/x-www-form") else {}
    headers = {k.lower(): v for k, v in request.headers.items()}
    outcome = await checkout.receive_notice(context_of(request), _provider(provider), body, headers, fields)
    return Response(outcome.text, status_code=outcome.status, media_type="text/plain")


@get("/subscription-pay/result/{merchant_ref:str}", opt=PUBLIC)
async def checkout_result(request: Request[Any, Any, Any], merchant_ref: FromPath[str]) -> Template:
    async with request.app.state.runtime.db.platform() as connection:
        paying = await checkout.by_ref(connection, merchant_ref)
    if paying is None:
        raise NotFoundException()
    context = {"paying": paying, "label": PROVIDER_LABELS[paying.provider]}
    return Template("subscriptions/pay_result.html", context=context)


ROUTES: list[ControllerRouterHandler] = [
    subscription_page,
    locked_page,
    bill_pdf_download,
    pay_bill,
    checkout_return,
    checkout_notice,
    checkout_result,
]
