"""A Nagad check-out peer for tests: initialize, complete and verify in the published shapes, with the RSA
scheme both ways (requests encrypted for the peer's key and signed by the merchant's; answers encrypted for the
merchant's key and signed by the peer's). Nothing imported from ISPB; ``cryptography`` for RSA.

``NagadPeer.keys()`` makes a fresh pair of key pairs (the peer's and a merchant's) as base64 DER, the form
Nagad hands out. ``pay(ref)`` is the customer paying (returns the callback address with ``payment_ref_id``
and ``status``); ``bad_signature`` signs the peer's sealed answers with a key that is not Nagad's;
``tamper`` changes fields of verify answers. Faults from `GatewayPeer`.
"""

import base64
import itertools
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from peers.payment_gateway import GatewayPeer, Reply, Request

__all__ = ("NagadKeys", "NagadPeer")


@dataclass(frozen=True)
class NagadKeys:
    nagad_private: str
    nagad_public: str
    merchant_private: str
    merchant_public: str


@dataclass
class PeerOrder:
    reference: str
    order_id: str
    challenge: str
    amount: str = ""
    callback: str = ""
    status: str = "Initiated"  # → Ready (completed by the merchant) → Success (paid) or Aborted
    issuer_ref: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


class NagadPeer(GatewayPeer):
    api_prefixes = ("/api/dfs",)
    name = "Nagad"

    @staticmethod
    def keys() -> NagadKeys:
        return NagadKeys(*_pair(), *_pair())

    WHITELISTED_IP = "198.51.100.7"
    """The merchant server's address this Nagad whitelisted; calls naming another in ``X-KM-IP-V4`` are refused."""

    def __init__(self, keys: NagadKeys, merchant_id: str = "683002007104225") -> None:
        super().__init__()
        self.merchant_id = merchant_id
        self._own = serialization.load_der_private_key(base64.b64decode(keys.nagad_private), None)
        self._merchant = serialization.load_der_public_key(base64.b64decode(keys.merchant_public))
        self._impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.orders: dict[str, PeerOrder] = {}
        self.bad_signature = False
        self.tamper: dict[str, Any] = {}
        self._numbers = itertools.count(1)

    def pay(self, reference: str) -> str:
        order = self.orders[reference]
        if order.status == "Ready":
            order.status, order.issuer_ref = "Success", f"{next(self._numbers):04d}{secrets.token_hex(4).upper()}"
        return self._callback(order, "Success" if order.status == "Success" else "Aborted")

    def cancel(self, reference: str) -> str:
        order = self.orders[reference]
        if order.status in ("Initiated", "Ready"):
            order.status = "Aborted"
        return self._callback(order, "Aborted")

    def page_action(self, payment_id: str, action: str) -> str | None:
        if payment_id not in self.orders:
            return None
        return self.pay(payment_id) if action == "pay" else self.cancel(payment_id)

    def page_amount(self, payment_id: str) -> str | None:
        order = self.orders.get(payment_id)
        return None if order is None else f"{order.amount} BDT"

    def api(self, request: Request) -> Reply:
        headers = request.headers
        if not headers.get("x-km-api-version") or not headers.get("x-km-ip-v4") or not headers.get("x-km-client-type"):
            return _json({"reason": "EE_MISSING_HEADER", "message": "Missing X-KM headers"}, 400)
        if headers["x-km-ip-v4"] != self.WHITELISTED_IP:
            return _json({"reason": "EE_IP_NOT_WHITELISTED", "message": "IP is not whitelisted"}, 403)
        parts = request.path.removeprefix("/api/dfs/").split("/")
        if request.method == "POST" and parts[:2] == ["check-out", "initialize"] and len(parts) == 4:
            return self._initialize(parts[2], parts[3], request.json() or {})
        if request.method == "POST" and parts[:2] == ["check-out", "complete"] and len(parts) == 3:
            return self._complete(parts[2], request.json() or {})
        if request.method == "GET" and parts[:2] == ["verify", "payment"] and len(parts) == 3:
            return self._verify(parts[2])
        return _json({"reason": "NOT_FOUND", "message": "Not Found"}, 404)

    def _opened(self, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            plain = self._own.decrypt(base64.b64decode(body["sensitiveData"]), padding.PKCS1v15())
            self._merchant.verify(base64.b64decode(body["signature"]), plain, padding.PKCS1v15(), hashes.SHA256())
        except (KeyError, ValueError, InvalidSignature):
            return None
        return json.loads(plain)

    def _sealed(self, data: dict[str, Any]) -> dict[str, str]:
        plain = json.dumps(data).encode()
        signer = self._impostor if self.bad_signature else self._own
        return {
            "sensitiveData": base64.b64encode(self._merchant.encrypt(plain, padding.PKCS1v15())).decode(),
            "signature": base64.b64encode(signer.sign(plain, padding.PKCS1v15(), hashes.SHA256())).decode(),
        }

    def _initialize(self, merchant_id: str, order_id: str, body: dict[str, Any]) -> Reply:
        sent = self._opened(body)
        if sent is None or sent.get("merchantId") != merchant_id or sent.get("orderId") != order_id:
            return _json({"reason": "EE_INVALID_SIGNATURE", "message": "Invalid Sensitive Data or Signature"}, 400)
        if merchant_id != self.merchant_id:
            return _json({"reason": "EE_INVALID_MERCHANT", "message": "Merchant not found"}, 400)
        reference = f"MDTXN{secrets.token_hex(8).upper()}{next(self._numbers)}"
        order = PeerOrder(reference, order_id, secrets.token_hex(20))
        self.orders[reference] = order
        answer = {"paymentReferenceId": reference, "challenge": order.challenge, "acceptDateTime": sent["datetime"]}
        return _json(self._sealed(answer))

    def _complete(self, reference: str, body: dict[str, Any]) -> Reply:
        order = self.orders.get(reference)
        sent = self._opened(body)
        if order is None or sent is None or sent.get("challenge") != order.challenge:
            return _json({"reason": "EE_INVALID_SIGNATURE", "message": "Invalid Sensitive Data or Signature"}, 400)
        if sent.get("currencyCode") != "050" or not sent.get("amount") or not body.get("merchantCallbackURL"):
            return _json({"reason": "EE_INVALID_REQUEST", "message": "Invalid order"}, 400)
        order.amount, order.callback, order.status = str(sent["amount"]), body["merchantCallbackURL"], "Ready"
        order.extra = body.get("additionalMerchantInfo") or {}
        return _json({"status": "Success", "callBackUrl": f"{self.base_url}/checkout/{reference}"})

    def _verify(self, reference: str) -> Reply:
        order = self.orders.get(reference)
        if order is None:
            return _json({"reason": "NOT_FOUND", "message": "Payment not found"}, 400)
        answer = {
            "merchantId": self.merchant_id,
            "orderId": order.order_id,
            "paymentRefId": order.reference,
            "amount": order.amount,
            "clientMobileNo": "017****1111",
            "merchantMobileNo": "01711428036",
            "orderDateTime": "2026-12-03 10:00:00.0",
            "issuerPaymentDateTime": "2026-12-03 10:01:00.0" if order.issuer_ref else None,
            "issuerPaymentRefNo": order.issuer_ref or None,
            "additionalMerchantInfo": order.extra,
            "status": order.status,
            "statusCode": "000" if order.status == "Success" else "001",
        }
        return _json(answer | self.tamper)

    def _callback(self, order: PeerOrder, status: str) -> str:
        query = {
            "merchant": self.merchant_id,
            "order_id": order.order_id,
            "payment_ref_id": order.reference,
            "status": status,
            "status_code": "00_0000_000" if status == "Success" else "01_0000_000",
            "message": "Successful Transaction" if status == "Success" else "Aborted",
        }
        separator = "&" if "?" in order.callback else "?"
        return f"{order.callback}{separator}{urlencode(query)}"


def _json(answer: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, json.dumps(answer).encode())
