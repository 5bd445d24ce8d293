"""A Stripe Checkout peer for tests: ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/<id>``, the
hosted checkout page and signed webhooks, in the published shapes (nothing imported from ISPB).

``pay(session_id)`` is the customer paying (returns the ``success_url`` with the session id filled in);
``webhook(session_id, ...)`` the raw body and headers Stripe would post (``bad_signature=True`` signs with
another secret, ``age_s`` back-dates the signature). ``tamper`` changes fields of retrieved sessions
(``amount_total``, ``currency``, ...). Faults from `GatewayPeer`.
"""

import hashlib
import hmac
import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from peers.payment_gateway import GatewayPeer, Reply, Request

__all__ = ("StripePeer",)


class StripePeer(GatewayPeer):
    api_prefixes = ("/v1",)
    name = "Stripe"

    def __init__(self, secret_key: str = "sk_test_peer", webhook_secret: str = "whsec_peer") -> None:
        super().__init__()
        self.secret_key, self.webhook_secret = secret_key, webhook_secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.tamper: dict[str, Any] = {}
        self._numbers = itertools.count(1)

    def pay(self, session_id: str) -> str:
        session = self.sessions[session_id]
        if session["status"] == "open":
            session |= {"status": "complete", "payment_status": "paid", "payment_intent": f"pi_{secrets.token_hex(8)}"}
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)

    def expire(self, session_id: str) -> None:
        if self.sessions[session_id]["status"] == "open":
            self.sessions[session_id]["status"] = "expired"

    def webhook(
        self, session_id: str, event: str = "checkout.session.completed", *, bad_signature: bool = False, age_s: int = 0
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "id": f"evt_{secrets.token_hex(8)}",
                "object": "event",
                "type": event,
                "data": {"object": self.sessions[session_id]},
            }
        ).encode()
        stamp = int(time.time()) - age_s
        secret = "whsec_wrong" if bad_signature else self.webhook_secret
        signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return body, {"stripe-signature": f"t={stamp},v1={signature}", "content-type": "application/json"}

    def page_action(self, payment_id: str, action: str) -> str | None:
        session = self.sessions.get(payment_id)
        if session is None:
            return None
        return self.pay(payment_id) if action == "pay" else str(session["cancel_url"])

    def page_amount(self, payment_id: str) -> str | None:
        session = self.sessions.get(payment_id)
        return None if session is None else f"{session['amount_total']} {session['currency']} (minor units)"

    def api(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            return _error(401, "Invalid API Key provided")
        if request.method == "POST" and request.path == "/v1/checkout/sessions":
            return self._create(dict(parse_qsl(request.body.decode())))
        if request.method == "GET" and request.path.startswith("/v1/checkout/sessions/"):
            session = self.sessions.get(request.path.rsplit("/", 1)[1])
            if session is None:
                return _error(404, "No such checkout.session")
            return Reply(200, json.dumps(session | self.tamper).encode())
        return _error(404, "Unrecognized request URL")

    def _create(self, form: dict[str, str]) -> Reply:
        needed = (
            "mode",
            "success_url",
            "line_items[0][price_data][currency]",
            "line_items[0][price_data][unit_amount]",
        )
        if any(not form.get(name) for name in needed):
            return _error(400, "Missing required param")
        session_id = f"cs_test_{secrets.token_hex(12)}{next(self._numbers)}"
        quantity = int(form.get("line_items[0][quantity]", "1"))
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form["mode"],
            "url": f"{self.base_url}/checkout/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(form["line_items[0][price_data][unit_amount]"]) * quantity,
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form.get("client_reference_id"),
            "success_url": form["success_url"],
            "cancel_url": form.get("cancel_url", ""),
            "payment_intent": None,
        }
        self.sessions[session_id] = session
        return Reply(200, json.dumps(session).encode())


def _error(status: int, message: str) -> Reply:
    return Reply(status, json.dumps({"error": {"type": "invalid_request_error", "message": message}}).encode())
