"""SMS credit bought online: the operator's "Buy SMS credit" form (SMS Gateway Setup), the gateway's way back
and notices, the result page, and Platform payment gateways for the platform admin."""

from typing import Any
from urllib.parse import parse_qsl

from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_platform.auth.access import PUBLIC, allow, principal_of
from ispb_platform.auth.roles import OPERATOR_ADMINS, Role
from ispb_platform.payments.online import settings_page, sms_credit
from ispb_platform.payments.online.accounts import IMPLEMENTED, PLATFORM_ACCOUNTS, accounts, save_account
from ispb_platform.payments.online.gateway import PROVIDER_LABELS, Provider
from ispb_platform.payments.online.routes import FROM_GATEWAY, context_of
from ispb_platform.payments.online.service import CheckoutRefused
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import form_fields, see_other
from ispb_platform.web.requests import site_url

PLATFORM_ADMIN = frozenset({Role.PLATFORM_ADMIN})


def _chosen(provider: str) -> Provider:
    try:
        return Provider(provider)
    except ValueError:
        raise NotFoundException() from None


@post("/panel/notifications/sms-credit", opt=allow(OPERATOR_ADMINS))
async def buy_sms_credit(request: Request[Any, Any, Any]) -> Template:
    """An operator admin buys a pack: a checkout at the platform's gateway."""
    principal = principal_of(request)
    if principal is None or principal.tenant is None:
        raise NotFoundException()
    fields = await form_fields(request)
    back = "/panel/notifications/gateway#sms-credit"
    error = "Choose a pack and how to pay."
    try:
        provider, pack_id = Provider(fields.get("provider", "")), int(fields.get("pack", ""))
    except ValueError:
        provider = None
    if provider is not None:
        try:
            url = await sms_credit.start_purchase(
                context_of(request),
                principal.tenant,
                pack_id,
                provider,
                bought_by=f"{principal.name} <{principal.login}>",
                site_url=site_url(request),
            )
        except CheckoutRefused as refused:
            error = str(refused)
        else:
            context = {"operator": principal.tenant, "url": url, "label": PROVIDER_LABELS[provider]}
            return Template("payments/online/redirect.html", context=context)
    context = {"operator": principal.tenant, "error": error, "back": back}
    return Template("payments/online/refused.html", context=context, status_code=400)


@route(
    "/sms-credit/{provider:str}/return/{merchant_ref:str}",
    http_method=[HttpMethod.GET, HttpMethod.POST],
    opt=FROM_GATEWAY,
)
async def sms_credit_return(
    request: Request[Any, Any, Any], provider: FromPath[str], merchant_ref: FromPath[str]
) -> Response[Any]:
    returned = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    if request.method == "POST":
        returned |= await form_fields(request)
    purchase = await sms_credit.confirm_purchase(context_of(request), _chosen(provider), merchant_ref, returned)
    if purchase is None:
        raise NotFoundException()
    return see_other(request, f"/sms-credit/result/{merchant_ref}")


@post("/sms-credit/{provider:str}/notify", opt=FROM_GATEWAY, status_code=200)
async def sms_credit_notice(request: Request[Any, Any, Any], provider: FromPath[str]) -> Response[str]:
    body = await request.body()
    kind = request.headers.get("content-type", "")
    fields = dict(parse_qsl(body.decode("utf-8", "replace"))) if kind.startswith("application/x-www-form") else {}
    headers = {k.lower(): v for k, v in request.headers.items()}
    outcome = await sms_credit.receive_purchase_notice(context_of(request), _chosen(provider), body, headers, fields)
    return Response(outcome.text, status_code=outcome.status, media_type="text/plain")


@get("/sms-credit/result/{merchant_ref:str}", opt=PUBLIC)
async def sms_credit_result(request: Request[Any, Any, Any], merchant_ref: FromPath[str]) -> Template:
    async with request.app.state.runtime.db.platform() as connection:
        purchase = await sms_credit.by_ref(connection, merchant_ref)
    if purchase is None:
        raise NotFoundException()
    context = {"purchase": purchase, "label": PROVIDER_LABELS[purchase.provider]}
    return Template("payments/online/sms_result.html", context=context)


class PlatformGatewaysController(Controller):
    """Platform payment gateways (operators pay for SMS credit through them): the platform admin's."""

    path = "/admin/payments/gateways"
    opt = allow(PLATFORM_ADMIN)

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        async with request.app.state.runtime.db.platform() as connection:
            found = await accounts(connection, PLATFORM_ACCOUNTS, context_of(request).secret_key)
        return _page([settings_page.form_of(p, found.get(p)) for p in IMPLEMENTED])

    @post("/{provider:str}")
    async def save(self, request: Request[Any, Any, Any], provider: FromPath[str]) -> Template | Response[Any]:
        chosen = settings_page.implemented(provider)
        if chosen is None:
            raise NotFoundException()
        key = context_of(request).secret_key
        fields = await form_fields(request)
        async with request.app.state.runtime.db.platform() as connection:
            found = await accounts(connection, PLATFORM_ACCOUNTS, key)
            account, form = settings_page.read_form(chosen, fields, found.get(chosen))
            if account is None:
                forms = [form if p is chosen else settings_page.form_of(p, found.get(p)) for p in IMPLEMENTED]
                return _page(forms, status_code=422)
            await save_account(connection, PLATFORM_ACCOUNTS, key, account)
        flash(request, f"{form.label} saved")
        return see_other(request, "/admin/payments/gateways")


def _page(forms: list[settings_page.ProviderForm], status_code: int = 200) -> Template:
    context = {"forms": forms, "action_prefix": "/admin/payments/gateways"}
    return Template("payments/online/platform_gateways.html", context=context, status_code=status_code)


ROUTES: list[ControllerRouterHandler] = [
    buy_sms_credit,
    sms_credit_return,
    sms_credit_notice,
    sms_credit_result,
    PlatformGatewaysController,
]
