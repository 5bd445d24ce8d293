"""The notification forms: message texts checked with their position, reminder rules, the SMS gateway.

A text is checked as it is typed and again when saved (``ispb_notify.check_template`` against the variables its
message offers), so a bad one is refused with its line and column and never reaches the send job. Each form
becomes a typed draft and a dict of per-field errors.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from ispb_notify import EVENT_VARIABLES, Event, TemplateProblem, check_template, count_sms, render
from ispb_platform.web.forms import text_errors, text_problem, whole_number

SAMPLE = {
    "customer_name": "Rahima Akter",
    "customer_id": "C000123",
    "package": "Fiber 20",
    "amount_due": "840.00 BDT",
    "due_date": "2026-12-08",
    "expiry_date": "2026-12-31",
    "balance": "0.00 BDT",
    "payment_amount": "840.00 BDT",
    "otp": "482913",
    "operator_name": "Dhaka Fiber Net",
    "operator_phone": "09610-100200",
    "portal_link": "/portal/dhaka-fiber/",
    "reason": "bill INV-2026-000123 overdue",
    "old_package": "Fiber 20",
    "new_package": "Fiber 40",
    "username": "rahima",
    "password": "••••••",
}
"""The values a preview renders with."""
_COMMON = frozenset(
    {
        "customer_name",
        "customer_id",
        "package",
        "balance",
        "amount_due",
        "operator_name",
        "operator_phone",
        "portal_link",
        "username",
    }
)
_NO_TEXT = "Write the message text."
MAX_TEXT = 1_000
"""Characters of a message text: the database's CHECK on ``notify_template.body`` (tenant migration 0006)."""
CHANNELS = ("sms", "whatsapp")


def allowed_variables(key: str) -> frozenset[str]:
    """The variables the message ``key`` (``due_date``, ``expiration`` or an event name) may use."""
    if key == "due_date":
        return _COMMON | {"due_date"}
    if key == "expiration":
        return _COMMON | {"expiry_date"}
    try:
        return _COMMON | EVENT_VARIABLES[Event(key)]
    except ValueError:
        return _COMMON


def preview(body: str, key: str) -> dict[str, Any]:
    """Rendered sample text and SMS size, or the problem with its position; an empty text is a problem too."""
    if not body:
        return {"ok": False, "problem": _NO_TEXT}
    if unusable := text_problem(body):
        return {"ok": False, "problem": unusable}
    if len(body) > MAX_TEXT:
        return {"ok": False, "problem": f"Keep the text to {MAX_TEXT:,} characters; it has {len(body):,}."}
    try:
        check_template(body, allowed_variables(key))
        text = render(body, SAMPLE)
    except TemplateProblem as problem:
        return {"ok": False, "problem": str(problem), "line": problem.line, "column": problem.column}
    count = count_sms(text)
    return {
        "ok": True,
        "text": text,
        "segments": count.segments,
        "encoding": count.encoding,
        "characters": count.characters,
    }


def channel_of(data: Mapping[str, str]) -> str:
    channel = data.get("channel", "sms")
    return channel if channel in CHANNELS else "sms"


def lead_text(days: int, hours: int) -> str:
    """An expiration lead as the form writes it: ``3d`` or ``6h``."""
    return f"{days}d" if days else f"{hours}h"


def offsets_text(offsets: list[int]) -> str:
    """Due-date offsets as the form writes them: ``-3, 0, +2``."""
    return ", ".join(f"{offset:+d}" if offset else "0" for offset in offsets)


@dataclass(frozen=True)
class DueDateDraft:
    offsets: list[int]
    """Distinct, in order."""
    send_time: time
    body: str


def due_date_form(data: Mapping[str, str]) -> tuple[DueDateDraft, dict[str, str]]:
    errors: dict[str, str] = {}
    offsets: list[int] = []
    for part in data.get("offsets", "").replace(" ", "").split(","):
        if not part:
            continue
        try:
            offsets.append(int(part))
        except ValueError:
            errors["offsets"] = f"{part[:20]!r} is not a whole number of days (e.g. -3, 0, 2)."
    if any(not -60 <= offset <= 60 for offset in offsets):
        errors["offsets"] = "Use days from -60 to 60."
    try:
        hour, minute = (int(x) for x in data.get("send_time", "10:00").split(":")[:2])
        send_time = time(hour, minute)
    except ValueError:
        errors["send_time"] = "Enter a time such as 10:00."
        send_time = time(10)
    body = data.get("body", "").strip()
    found = preview(body, "due_date")
    if not found["ok"]:
        errors["body"] = str(found["problem"])
    return DueDateDraft(sorted(set(offsets)), send_time, body), errors


@dataclass(frozen=True)
class ExpirationDraft:
    leads: list[tuple[int, int]]
    """Distinct (days, hours) leads, in order."""
    body: str


def expiration_form(data: Mapping[str, str]) -> tuple[ExpirationDraft, dict[str, str]]:
    errors: dict[str, str] = {}
    leads: list[tuple[int, int]] = []
    for part in data.get("leads", "").replace(" ", "").lower().split(","):
        if not part:
            continue
        unit, number = part[-1:], whole_number(part[:-1], 0, 10**6)
        if unit not in ("d", "h") or number is None:
            errors["leads"] = f"{part[:20]!r}: write days as 3d and hours as 6h."
            continue
        days, hours = (number, 0) if unit == "d" else (0, number)
        if days > 60 or hours > 720:
            errors["leads"] = "Use at most 60 days or 720 hours."
        leads.append((days, hours))
    body = data.get("body", "").strip()
    found = preview(body, "expiration")
    if not found["ok"]:
        errors["body"] = str(found["problem"])
    return ExpirationDraft(sorted(set(leads)), body), errors


@dataclass(frozen=True)
class GatewayDraft:
    """An HTTP SMS gateway's settings, stored as ``ispb_notify.HttpSmsConfig`` fields."""

    config: dict[str, Any]
    secret: str
    """Empty: keep the stored one."""
    enabled: bool

    @property
    def url(self) -> str:
        return str(self.config["url"])

    @property
    def summary(self) -> str:
        return f"SMS gateway set to {self.url.split('?')[0]}"


def sms_gateway_form(data: Mapping[str, str]) -> tuple[GatewayDraft, dict[str, str]]:
    errors = text_errors(data, ("url", "params", "success_pattern", "message_id_pattern"))
    url = data.get("url", "").strip()
    if not url.startswith(("http://", "https://")):
        errors["url"] = "Enter the gateway's address, starting with http:// or https://"
    params: dict[str, str] = {}
    for line in data.get("params", "").splitlines():
        if line.strip():
            name, sep, value = line.strip().partition("=")
            if not sep or not name:
                errors["params"] = f"Write each parameter as name=value ({line.strip()!r})."
            params[name.strip()] = value.strip()
    places = [url, *params.values()]
    if not any("{to}" in v for v in places) or not any("{text}" in v for v in places):
        errors.setdefault("params", "Put {to} and {text} where the gateway expects the number and the message.")
    method = "POST" if data.get("method") == "POST" else "GET"
    config = {
        "url": url,
        "method": method,
        "params" if method == "GET" else "form_body": params,
        "success_pattern": data.get("success_pattern", "").strip(),
        "message_id_pattern": data.get("message_id_pattern", "").strip(),
    }
    return GatewayDraft(config, data.get("secret", ""), data.get("enabled") == "on"), errors
