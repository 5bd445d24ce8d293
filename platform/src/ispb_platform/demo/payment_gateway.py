"""The demo's payment gateway: bKash Tokenized Checkout's API inside the demo process.

``ispb demo`` has no bKash merchant account, so every demo operator's bKash gateway (and the platform's, for
SMS credit) points here, and online payments go through the real adapter, HTTP client, confirmation and
recheck: grant token, create, execute, query, in bKash's shapes. The checkout page has three buttons: pay
(the browser goes back to the operator's callback), cancel, and pay with the callback lost (the money is
"taken" but the merchant is never told: ``payments.recheck_pending`` finds it).

State is in memory; a payment id of the form ``DEMOLOST-<invoice>-<amount>`` stands for a payment the customer
made before this start whose callback never arrived (``setup.py`` leaves one pending): the gateway answers it
as paid, so the recheck captures it. Only ``ispb demo`` registers these routes.
"""

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.types import ControllerRouterHandler

from ispb_notify import OutboundPolicy
from ispb_platform.auth.access import PUBLIC

PATH = "/demo/bkash"
API = f"{PATH}/v1.2.0-beta"
APP_KEY, APP_SECRET, USERNAME, PASSWORD = "demo-app-key", "demo-app-secret", "demo-merchant", "demo-merchant-pass"
_LOST = re.compile(r"DEMOLOST-([0-9a-f]{20})-(\d+\.\d\d)")
_OPEN = {**PUBLIC, "exclude_from_csrf": True}


@dataclass
class DemoPayment:
    payment_id: str
    amount: str
    currency: str
    invoice: str
    callback: str
    status: str = "Initiated"  # → Authorized (paid at the page) → Completed (executed); or Cancelled
    trx_id: str = ""


def gateway_url(host: str, port: int) -> str:
    """The base URL the demo operators' bKash accounts use."""
    return f"http://{host}:{port}{API}"


def credentials() -> dict[str, str]:
    return {"app_secret": APP_SECRET, "username": USERNAME, "password": PASSWORD}


def lost_payment_id(invoice: str, amount: str) -> str:
    return f"DEMOLOST-{invoice}-{amount}"


def allow_gateway(policy: OutboundPolicy, host: str, port: int) -> OutboundPolicy:
    """The same one origin as the SMS sink: the demo's own address and port."""
    return policy.allowing(host, port)


def _payments(request: Request[Any, Any, Any]) -> dict[str, DemoPayment]:
    state: dict[str, DemoPayment] | None = getattr(request.app.state, "demo_bkash", None)
    if state is None:
        state = request.app.state.demo_bkash = {}
    return state


def _find(request: Request[Any, Any, Any], payment_id: str) -> DemoPayment | None:
    payments = _payments(request)
    if payment_id not in payments and (lost := _LOST.fullmatch(payment_id)):
        payments[payment_id] = DemoPayment(payment_id, lost.group(2), "BDT", lost.group(1), "", "Authorized")
    return payments.get(payment_id)


def _shape(payment: DemoPayment) -> dict[str, Any]:
    answer = {
        "statusCode": "0000",
        "statusMessage": "Successful",
        "paymentID": payment.payment_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "intent": "sale",
        "merchantInvoiceNumber": payment.invoice,
        "transactionStatus": "Initiated" if payment.status == "Authorized" else payment.status,
    }
    return answer | ({"trxID": payment.trx_id} if payment.trx_id else {})


@post(f"{API}/tokenized/checkout/{{call:path}}", opt=_OPEN, status_code=200)
async def api(request: Request[Any, Any, Any], call: str) -> dict[str, Any]:
    body = await request.json() if await request.body() else {}
    if call == "/token/grant":
        granted = (request.headers.get("username"), request.headers.get("password")) == (USERNAME, PASSWORD)
        if not granted or body.get("app_key") != APP_KEY or body.get("app_secret") != APP_SECRET:
            return {"statusCode": "2001", "statusMessage": "Invalid App Key"}
        return {"statusCode": "0000", "id_token": f"demo-{secrets.token_hex(8)}", "expires_in": 3600}
    if request.headers.get("x-app-key") != APP_KEY or not request.headers.get("authorization", "").startswith("demo-"):
        return {"statusCode": "2079", "statusMessage": "Invalid Permission"}
    if call == "/create":
        payment_id = f"TR0011DEMO{secrets.token_hex(6).upper()}"
        created = DemoPayment(
            payment_id, str(body["amount"]), str(body["currency"]), str(body["merchantInvoiceNumber"]),
            str(body["callbackURL"]),
        )  # fmt: skip
        _payments(request)[payment_id] = created
        return _shape(created) | {"bkashURL": f"{str(request.base_url).rstrip('/')}{PATH}/checkout/{payment_id}"}
    payment = _find(request, str(body.get("paymentID", "")))
    if payment is None:
        return {"statusCode": "2117", "statusMessage": "Payment not found"}
    if call == "/execute":
        if payment.status == "Completed":
            return {"statusCode": "2062", "statusMessage": "The payment has already been completed"}
        if payment.status != "Authorized":
            return {"statusCode": "2056", "statusMessage": "Invalid Payment State"}
        payment.status, payment.trx_id = "Completed", f"DEMO{secrets.token_hex(4).upper()}"
    return _shape(payment)


@get(f"{PATH}/checkout/{{payment_id:str}}", opt=PUBLIC)
async def checkout_page(request: Request[Any, Any, Any], payment_id: str) -> Response[str]:
    payment = _find(request, payment_id)
    if payment is None:
        return Response("No such payment", status_code=404, media_type="text/plain")
    name = html.escape(payment.payment_id)
    buttons = "".join(
        f'<form method="post" action="{PATH}/checkout/{name}/{action}"><button type="submit"'
        f' id="demo-bkash-{action}">{label}</button></form>'
        for action, label in (("pay", "Confirm payment"), ("lose", "Pay, lose the callback"), ("cancel", "Cancel"))
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport"'
        ' content="width=device-width, initial-scale=1"><title>bKash (demo gateway)</title></head><body><main>'
        f"<h1>bKash (demo gateway)</h1><p>Pay {html.escape(payment.amount)} {html.escape(payment.currency)}"
        f" for invoice {html.escape(payment.invoice)}</p>{buttons}</main></body></html>"
    )
    return Response(page, media_type="text/html")


@post(f"{PATH}/checkout/{{payment_id:str}}/{{action:str}}", opt=_OPEN)
async def checkout_action(request: Request[Any, Any, Any], payment_id: str, action: str) -> Response[str]:
    payment = _find(request, payment_id)
    if payment is None or action not in ("pay", "lose", "cancel"):
        return Response("No such payment", status_code=404, media_type="text/plain")
    if action == "cancel":
        payment.status = "Cancelled" if payment.status != "Completed" else payment.status
        return _back(payment, "cancel")
    if payment.status == "Initiated":
        payment.status = "Authorized"
    if action == "lose":
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bKash (demo gateway)</title></head>'
            "<body><main><h1>Paid, callback lost</h1><p>bKash took the money but the merchant was never told."
            " The operator's <code>payments.recheck_pending</code> job (every 30 minutes, or Run now under"
            " Automation once the payment is 5 minutes old) finds and records it.</p></main></body></html>"
        )
        return Response(page, media_type="text/html")
    return _back(payment, "success")


def _back(payment: DemoPayment, status: str) -> Response[str]:
    """The browser back to the merchant's callback, as bKash sends it."""
    location = f"{payment.callback}?paymentID={payment.payment_id}&status={status}"
    return Response("", status_code=303, headers={"Location": location})


ROUTES: list[ControllerRouterHandler] = [api, checkout_page, checkout_action]
