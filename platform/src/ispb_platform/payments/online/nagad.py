"""Nagad online payment (check-out API v-0.2.0), as published in Nagad's merchant integration guide.

Initialize: ``POST /api/dfs/check-out/initialize/<merchantId>/<orderId>`` with ``dateTime`` and
``sensitiveData`` (JSON ``merchantId``, ``datetime``, ``orderId``, ``challenge`` encrypted with Nagad's public
key, RSA PKCS#1 v1.5, base64) and ``signature`` (that JSON signed with the merchant's private key,
RSA-SHA256, base64). Nagad answers its own ``sensitiveData`` (encrypted for the merchant's key: the
``paymentReferenceId`` and the ``challenge`` back) and ``signature`` (signed with Nagad's key), both checked.
Complete: ``POST /api/dfs/check-out/complete/<paymentReferenceId>`` with the order's ``amount``,
``currencyCode`` ``050`` (BDT) and the ``challenge``, encrypted and signed the same way, plus
``merchantCallbackURL``; answers ``callBackUrl``, where the customer pays. Nagad then sends the browser to
the callback with ``payment_ref_id`` and ``status``; verify (``GET /api/dfs/verify/payment/<paymentRefId>``)
answers the payment's ``status``, ``amount``, ``merchantId``, ``orderId`` and ``issuerPaymentRefNo``.
Headers on every call: ``X-KM-Api-Version``, ``X-KM-IP-V4``, ``X-KM-Client-Type``.

Keys may be given as PEM or as the single-line base64 Nagad hands out.
"""

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ispb_notify import OutboundPolicy
from ispb_platform.payments.online.gateway import (
    Checkout,
    GatewayRejected,
    Notice,
    NoticeRefused,
    Outcome,
    Pending,
    Provider,
    Started,
    Verdict,
    to_decimal,
)
from ispb_platform.payments.online.http import call_json, fields_of

SANDBOX_URL = "http://sandbox.mynagad.com:10080/remote-payment-gateway-1.0"
LIVE_URL = "https://api.mynagad.com"
DHAKA = ZoneInfo("Asia/Dhaka")
_CLOSED = {"Aborted", "Cancelled", "Failed", "Fraud", "Expired"}


class KeyProblem(ValueError):
    """A key that does not load; ``str(error)`` says which, for the settings page."""


@dataclass(frozen=True)
class NagadAccount:
    base_url: str
    merchant_id: str
    merchant_private_key: str
    nagad_public_key: str
    server_ip: str | None = None
    """The merchant server's public IPv4 address that Nagad whitelisted, sent as ``X-KM-IP-V4`` on every call
    (``ISPB_PUBLIC_IPV4``). None: not configured, and no call is made (a wrong address would be refused by Nagad
    with a message that names neither the setting nor the address)."""


def private_key(text: str) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(_der(text, "private"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyProblem("the merchant private key is not an RSA key")
    return key


def public_key(text: str) -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(_der(text, "public"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyProblem("the Nagad public key is not an RSA key")
    return key


def _der(text: str, kind: str) -> bytes:
    body = "".join(line for line in text.strip().splitlines() if not line.startswith("-----"))
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyProblem(f"the {kind} key is not base64 or PEM") from error


class Nagad:
    provider = Provider.NAGAD

    def __init__(self, account: NagadAccount, policy: OutboundPolicy) -> None:
        self.account = account
        self.merchant_id = account.merchant_id
        self._policy = policy
        try:
            self._ours = private_key(account.merchant_private_key)
            self._theirs = public_key(account.nagad_public_key)
        except ValueError as error:
            raise GatewayRejected(f"Nagad keys do not load: {error}") from error

    async def start(self, checkout: Checkout) -> Started:
        if checkout.amount.currency != "BDT":
            raise GatewayRejected("Nagad takes payments in BDT only")
        now = datetime.now(DHAKA).strftime("%Y%m%d%H%M%S")
        order = checkout.merchant_ref
        sent = {"merchantId": self.merchant_id, "datetime": now, "orderId": order, "challenge": secrets.token_hex(20)}
        path = f"/api/dfs/check-out/initialize/{quote(self.merchant_id, safe='')}/{quote(order, safe='')}"
        answer = await self._post(path, {"dateTime": now, **self._sealed(sent)})
        opened = self._opened(answer, "initialize")
        reference = str(opened.get("paymentReferenceId", ""))
        if not reference or not opened.get("challenge"):
            raise GatewayRejected("Nagad's initialize answer names no payment reference")
        order_data = {
            "merchantId": self.merchant_id,
            "orderId": order,
            "currencyCode": "050",
            "amount": to_decimal(checkout.amount),
            "challenge": str(opened["challenge"]),
        }
        completed = await self._post(
            f"/api/dfs/check-out/complete/{quote(reference, safe='')}",
            {
                **self._sealed(order_data),
                "merchantCallbackURL": checkout.callback_url,
                "additionalMerchantInfo": {"customer": checkout.customer_code},
            },
        )
        if completed.get("status") != "Success" or not completed.get("callBackUrl"):
            raise GatewayRejected(f"Nagad did not open the checkout: {_words(completed)}")
        return Started(reference, str(completed["callBackUrl"]))

    async def confirm(self, pending: Pending, returned: dict[str, str]) -> Verdict:
        """Whatever the browser brought (``status``, ``payment_ref_id``): the payment as Nagad verifies it."""
        return await self.recheck(pending)

    async def recheck(self, pending: Pending) -> Verdict:
        url = self._url(f"/api/dfs/verify/payment/{quote(pending.gateway_ref, safe='')}")
        _, answer = await call_json(self._policy, "Nagad", "GET", url, headers=self._headers())
        answer = fields_of(answer)
        status = str(answer.get("status", ""))
        words = f"verify: {status or '(none)'} {answer.get('statusCode', '')}".strip()
        if status in _CLOSED:
            return Verdict(Outcome.FAILED, words)
        if status != "Success":
            return Verdict(Outcome.PENDING, words)
        return Verdict(
            Outcome.COMPLETED,
            words,
            gateway_ref=str(answer.get("paymentRefId", "")),
            transaction_id=str(answer.get("issuerPaymentRefNo", "")),
            amount=str(answer.get("amount", "")),
            currency="BDT",  # Nagad's API has one currency, 050 (BDT), which start() asked for
            merchant_ref=str(answer.get("orderId", "")),
            merchant_id=str(answer.get("merchantId", "")),
        )

    def notice(self, body: bytes, headers: Mapping[str, str], fields: Mapping[str, str], now: float) -> Notice | None:
        """Nagad sends no server-to-server notices: the browser's return and verify are all."""
        raise NoticeRefused("Nagad sends no notices")

    def _sealed(self, data: dict[str, str]) -> dict[str, str]:
        plain = json.dumps(data, separators=(",", ":")).encode()
        encrypted = self._theirs.encrypt(plain, padding.PKCS1v15())
        signature = self._ours.sign(plain, padding.PKCS1v15(), hashes.SHA256())
        return {
            "sensitiveData": base64.b64encode(encrypted).decode(),
            "signature": base64.b64encode(signature).decode(),
        }

    def _opened(self, answer: Mapping[str, Any], what: str) -> Mapping[str, Any]:
        """Nagad's sealed answer, decrypted, after its signature checks out with Nagad's public key."""
        if not answer.get("sensitiveData") or not answer.get("signature"):
            raise GatewayRejected(f"Nagad refused to {what}: {_words(answer)}")
        try:
            plain = self._ours.decrypt(base64.b64decode(str(answer["sensitiveData"])), padding.PKCS1v15())
            signature = base64.b64decode(str(answer["signature"]))
            self._theirs.verify(signature, plain, padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, binascii.Error) as error:
            raise GatewayRejected(f"Nagad's {what} answer does not decrypt with our key") from error
        except InvalidSignature as error:
            raise GatewayRejected(f"Nagad's {what} answer is not signed by Nagad's key") from error
        return fields_of(json.loads(plain))

    async def _post(self, path: str, body: dict[str, Any]) -> Mapping[str, Any]:
        _, answer = await call_json(
            self._policy, "Nagad", "POST", self._url(path), json_body=body, headers=self._headers(), accept_4xx=True
        )
        return fields_of(answer)

    def _headers(self) -> dict[str, str]:
        if not self.account.server_ip:
            raise GatewayRejected(
                "Nagad needs this server's public IPv4 address (the one Nagad whitelisted): the platform"
                " administrator sets ISPB_PUBLIC_IPV4"
            )
        return {"x-km-api-version": "v-0.2.0", "x-km-ip-v4": self.account.server_ip, "x-km-client-type": "PC_WEB"}

    def _url(self, path: str) -> str:
        return self.account.base_url.rstrip("/") + path


def _words(answer: Mapping[str, Any]) -> str:
    return f"{answer.get('reason') or answer.get('status') or '?'} {answer.get('message', '')}".strip()[:200]
