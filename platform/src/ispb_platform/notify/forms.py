"""The notification forms: message texts checked with their position, reminder rules, the SMS gateway.

A text is checked as it is typed and again when saved (``ispb_notify.check_template`` against the variables its
message offers), so a bad one is refused with its line and column and never reaches the send job. Each form
becomes a typed draft and a dict of per-field errors.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any
from urllib.parse import urlsplit

from ispb_notify import (
    EVENT_VARIABLES,
    Event,
    InvalidPhoneNumber,
    TemplateProblem,
    check_template,
    count_sms,
    normalise_msisdn,
    render,
)
from ispb_platform.web.forms import text_problem, whole_number

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


# Limits of the gateway forms: far above any real gateway's values, and they keep a pasted page (or a NUL,
# which PostgreSQL's jsonb cannot store) out of the stored settings, answered beside the field.
MAX_URL = 2000
MAX_PARAMS = 4000
MAX_SECRET = 500
MAX_PATTERN = 200
MAX_TOKEN = 1000


def _has_control(text: str, allowed: str = "") -> bool:
    return any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text)


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a gateway address, in the operator's words; None when it can."""
    if not url.startswith(("http://", "https://")):
        return "Enter the gateway's address, starting with http:// or https://"
    if len(url) > MAX_URL or _has_control(url) or any(c.isspace() for c in url):
        return f"Enter one address without spaces, up to {MAX_URL:,} characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks the port: a ValueError when out of range)
    except ValueError:
        return "This address cannot be read; check the host name and the port."
    if not parts.hostname:
        return "Put the gateway's host name after http://, e.g. http://sms.example:13013/cgi-bin/sendsms"
    return None


def _pattern_problem(pattern: str) -> str | None:
    if len(pattern) > MAX_PATTERN or _has_control(pattern):
        return f"Use one line of up to {MAX_PATTERN} characters."
    try:
        re.compile(pattern)
    except re.error as error:
        return f"This is not a regular expression the sender can use ({error})."
    return None


def _gateway_params(raw: str, errors: dict[str, str]) -> dict[str, str]:
    params: dict[str, str] = {}
    if len(raw) > MAX_PARAMS or _has_control(raw, "\r\n\t"):
        errors["params"] = f"Write one name=value per line, up to {MAX_PARAMS:,} characters in all."
        return params
    for line in raw.splitlines():
        if line.strip():
            name, sep, value = line.strip().partition("=")
            if not sep or not name:
                shown = line.strip() if len(line.strip()) <= 40 else line.strip()[:40] + "…"
                errors["params"] = f"Write each parameter as name=value ({shown!r})."
            params[name.strip()] = value.strip()
    return params


def sms_gateway_form(data: Mapping[str, str]) -> tuple[GatewayDraft, dict[str, str]]:
    """Every field checked in one round: what the sender would refuse later (a pattern that is no regular
    expression, an address it cannot read) is refused here, beside its field."""
    errors: dict[str, str] = {}
    url = data.get("url", "").strip()
    if problem := _url_problem(url):
        errors["url"] = problem
    params = _gateway_params(data.get("params", ""), errors)
    places = [url, *params.values()]
    if not any("{to}" in v for v in places) or not any("{text}" in v for v in places):
        errors.setdefault("params", "Put {to} and {text} where the gateway expects the number and the message.")
    secret = data.get("secret", "")
    if len(secret) > MAX_SECRET or _has_control(secret):
        errors["secret"] = f"Enter the password or token on one line, up to {MAX_SECRET} characters."
    patterns = {key: data.get(key, "").strip() for key in ("success_pattern", "message_id_pattern")}
    for key, pattern in patterns.items():
        if problem := _pattern_problem(pattern):
            errors[key] = problem
    method = "POST" if data.get("method") == "POST" else "GET"
    config = {"url": url, "method": method, "params" if method == "GET" else "form_body": params, **patterns}
    return GatewayDraft(config, secret, data.get("enabled") == "on"), errors


@dataclass(frozen=True)
class WhatsAppDraft:
    """The WhatsApp Cloud API settings: Meta's phone number id and the access token (empty: keep the stored one)."""

    phone_number_id: str
    access_token: str
    enabled: bool


def whatsapp_form(data: Mapping[str, str], *, has_token: bool) -> tuple[WhatsAppDraft, dict[str, str]]:
    """Checked beside each field: the id goes into the Graph API's URL, so only ASCII digits pass."""
    errors: dict[str, str] = {}
    phone_number_id = data.get("phone_number_id", "").strip()
    if not (phone_number_id.isascii() and phone_number_id.isdigit() and len(phone_number_id) <= 30):
        errors["phone_number_id"] = "Enter the phone number id from Meta's WhatsApp Manager: digits only."
    token = data.get("access_token", "").strip()
    enabled = data.get("enabled") == "on"
    if len(token) > MAX_TOKEN or _has_control(token) or any(c.isspace() for c in token):
        errors["access_token"] = f"Paste the access token as Meta shows it: one word, up to {MAX_TOKEN:,} characters."
    elif enabled and not token and not has_token:
        errors["access_token"] = "Enter the access token: WhatsApp messages cannot be sent without it."  # noqa: S105
    return WhatsAppDraft(phone_number_id, token, enabled), errors


def gateway_test_number(data: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The number a test message goes to, or why it cannot be one (beside the field)."""
    to = data.get("to", "").strip()
    if not to:
        return to, {"to": "Enter the number to send the test message to."}
    problem = {"to": "Enter a mobile number such as 01711-000000, or +44 7911 123456 for one abroad."}
    if len(to) > 40:
        return to, problem
    try:
        normalise_msisdn(to)
    except InvalidPhoneNumber:
        return to, problem
    return to, {}
