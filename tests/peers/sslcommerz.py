"""An SSLCommerz (v4) peer for tests: session API, the hosted checkout page, signed IPNs, the validation API
and the transaction query API, in the published shapes (nothing imported from ISPB).

``pay(sessionkey)`` is the customer paying: it returns the browser's return (``success_url`` and the posted
fields); ``ipn(sessionkey)`` the signed IPN fields SSLCommerz would post to ``ipn_url`` (``bad_signature=True``
signs them with the wrong password). ``tamper`` changes fields of the validation answers (``currency_amount``,
``currency_type``, ``tran_id``...). Faults from `GatewayPeer`.
"""

import hashlib
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from peers.payment_gateway import GatewayPeer, Reply, Request

__all__ = ("SslcommerzPeer",)


@dataclass
class Session:
    key: str
    tran_id: str
    amount: str
    currency: str
    urls: dict[str, str]
    status: str = "PENDING"  # PENDING → VALID (paid) → VALIDATED (validated once); or CANCELLED
    val_id: str = ""
    bank_tran_id: str = ""


class SslcommerzPeer(GatewayPeer):
    api_prefixes = ("/gwprocess/v4", "/validator/api")
    name = "SSLCommerz"

    def __init__(self, store_id: str = "peerstore01", store_password: str = "peerstore01@ssl") -> None:
        super().__init__()
        self.store_id, self.store_password = store_id, store_password
        self.sessions: dict[str, Session] = {}
        self.tamper: dict[str, str] = {}
        self._numbers = itertools.count(1)

    def pay(self, key: str) -> tuple[str, dict[str, str]]:
        session = self.sessions[key]
        if session.status == "PENDING":
            number = next(self._numbers)
            session.status, session.val_id = "VALID", f"{number:04d}{secrets.token_hex(6)}"
            session.bank_tran_id = f"BANK{number:06d}"
        return session.urls["success_url"], self._posted(session)

    def cancel(self, key: str) -> str:
        session = self.sessions[key]
        if session.status == "PENDING":
            session.status = "CANCELLED"
        return session.urls["cancel_url"]

    def ipn(self, key: str, *, bad_signature: bool = False) -> tuple[str, dict[str, str]]:
        """The IPN's address and signed form fields (as SSLCommerz posts them)."""
        session = self.sessions[key]
        fields = self._posted(session)
        password = "not-the-password" if bad_signature else self.store_password
        keys = sorted(fields)
        signed = {k: fields[k] for k in keys} | {"store_passwd": hashlib.md5(password.encode()).hexdigest()}
        text = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
        fields |= {"verify_key": ",".join(keys), "verify_sign": hashlib.md5(text.encode()).hexdigest()}
        return session.urls["ipn_url"], fields

    def page_action(self, payment_id: str, action: str) -> str | None:
        if payment_id not in self.sessions:
            return None
        return self.pay(payment_id)[0] if action == "pay" else self.cancel(payment_id)

    def page_amount(self, payment_id: str) -> str | None:
        session = self.sessions.get(payment_id)
        return None if session is None else f"{session.amount} {session.currency}"

    def api(self, request: Request) -> Reply:
        if request.path == "/gwprocess/v4/api.php":
            return self._session(dict(parse_qsl(request.body.decode())))
        query = request.query
        if (query.get("store_id"), query.get("store_passwd")) != (self.store_id, self.store_password):
            return _json({"status": "INVALID_REQUEST", "error": "Invalid store id or password"})
        if request.path == "/validator/api/validationserverAPI.php":
            found = [s for s in self.sessions.values() if s.val_id and s.val_id == query.get("val_id")]
            if not found:
                return _json({"status": "INVALID_TRANSACTION"})
            answer = self._validation(found[0])
            if found[0].status == "VALID":
                found[0].status = "VALIDATED"
            return _json(answer)
        if request.path == "/validator/api/merchantTransIDvalidationAPI.php":
            found = [s for s in self.sessions.values() if s.tran_id == query.get("tran_id")]
            elements = [self._validation(s) for s in found if s.status != "PENDING"]
            return _json({"APIConnect": "DONE", "no_of_trans_found": len(elements), "element": elements})
        return Reply(404, b'{"status":"FAILED"}')

    def _session(self, form: dict[str, str]) -> Reply:
        if (form.get("store_id"), form.get("store_passwd")) != (self.store_id, self.store_password):
            return _json({"status": "FAILED", "failedreason": "Store Credential Error Or Store is De-active"})
        names = ("total_amount", "currency", "tran_id", "success_url", "fail_url", "cancel_url", "cus_name")
        if any(not form.get(name) for name in names):
            return _json({"status": "FAILED", "failedreason": "Invalid Information! A mandatory field is missing"})
        key = secrets.token_hex(16).upper()
        urls = {name: form[name] for name in ("success_url", "fail_url", "cancel_url")}
        urls["ipn_url"] = form.get("ipn_url", "")
        self.sessions[key] = Session(key, form["tran_id"], form["total_amount"], form["currency"], urls)
        return _json(
            {
                "status": "SUCCESS",
                "failedreason": "",
                "sessionkey": key,
                "GatewayPageURL": f"{self.base_url}/checkout/{key}",
                "redirectGatewayURL": f"{self.base_url}/checkout/{key}",
            }
        )

    def _posted(self, session: Session) -> dict[str, str]:
        return {
            "tran_id": session.tran_id,
            "val_id": session.val_id,
            "amount": session.amount,
            "card_type": "BKASH-BKash",
            "store_amount": session.amount,
            "bank_tran_id": session.bank_tran_id,
            "status": "VALID" if session.status in ("VALID", "VALIDATED") else "FAILED",
            "currency": session.currency,
        }

    def _validation(self, session: Session) -> dict[str, Any]:
        status = {"CANCELLED": "CANCELLED"}.get(session.status, session.status)
        return {
            "status": status,
            "tran_date": "2026-12-03 10:00:00",
            "tran_id": session.tran_id,
            "val_id": session.val_id,
            "amount": session.amount,
            "store_amount": session.amount,
            "currency": "BDT",
            "bank_tran_id": session.bank_tran_id,
            "card_type": "BKASH-BKash",
            "currency_type": session.currency,
            "currency_amount": session.amount,
            "risk_level": "0",
        } | self.tamper


def _json(answer: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(answer).encode())
