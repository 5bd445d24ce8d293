"""The status check form, the status page settings, the Zabbix connection and a maintenance window: what an
operator admin (or the platform admin) types, validated into drafts with per-field errors. No database."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ispb_monitor.checks.dns import RECORD_TYPES
from ispb_platform.monitoring.checks import KINDS, PLATFORM_KINDS
from ispb_platform.monitoring.queries import CheckFields
from ispb_platform.web.forms import text_errors, whole_number

NEW_CHECK = {"kind": "http", "timeout_s": "10", "confirm_count": "2", "certificate_warn_days": "14", "record_type": "A"}
SECRET_FIELDS = ("secret",)
_HOST = re.compile(r"[A-Za-z0-9.:\[\]_-]{1,253}")
_DEFAULT_PORTS = {"radius": 1812, "routeros": 8728}


@dataclass(frozen=True)
class CheckDraft:
    fields: CheckFields
    secret: str
    """The RADIUS secret or RouterOS password typed; empty on edit keeps the stored one."""


def _whole(
    value: dict[str, str], name: str, low: int, high: int, default: int, errors: dict[str, str], what: str
) -> int:
    raw = value.get(name, "")
    if not raw:
        return default
    number = whole_number(raw, low, high)
    if number is None:
        errors[name] = f"Enter {what} from {low} to {high}."
        return default
    return number


def _target(kind: str, target: str, errors: dict[str, str]) -> None:
    if kind == "http":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in target or len(target) > 2000:
            errors["target"] = "Enter the page's address, e.g. https://portal.example.net/health."
    elif not target or not _HOST.fullmatch(target):
        what = "the name to resolve, e.g. portal.example.net" if kind == "dns" else "a host name or address"
        errors["target"] = f"Enter {what}."


def _http_options(value: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    codes = [c for c in re.split(r"[,\s]+", value.get("expect_status", "")) if c]
    if any(whole_number(c, 100, 599) is None for c in codes) or len(codes) > 20:
        errors["expect_status"] = "Enter HTTP status codes such as 200, 301 (or leave empty for any 2xx/3xx)."
    else:
        options["expect_status"] = sorted({int(c) for c in codes})
    if len(value.get("body_contains", "")) > 200:
        errors["body_contains"] = "Up to 200 characters."
    options["body_contains"] = value.get("body_contains", "")
    options["certificate_warn_days"] = _whole(value, "certificate_warn_days", 0, 365, 14, errors, "a number of days")
    return options


def _dns_options(value: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    record = value.get("record_type", "A").upper() or "A"
    if record not in RECORD_TYPES:
        errors["record_type"] = f"Choose one of {', '.join(RECORD_TYPES)}."
    server = value.get("server", "")
    if server and not re.fullmatch(r"[0-9a-fA-F.:]{2,45}", server):
        errors["server"] = "Enter the name server's address (e.g. 10.0.0.53), or leave empty for the system's."
    expect = [e.lower().rstrip(".") for e in re.split(r"[,\s]+", value.get("expect", "")) if e]
    return {"record_type": record, "server": server, "expect": expect[:20]}


def _secret_error(kind: str, secret: str, *, needed: bool) -> str | None:
    if needed and not secret:
        return "Enter the shared secret." if kind == "radius" else "Enter the API password."
    return "Up to 200 characters." if len(secret) > 200 else None


def _router_choice(value: dict[str, str], routers: set[int], errors: dict[str, str]) -> int | None:
    if value.get("kind") != "routeros" or not value.get("router_id"):
        return None
    router_id = whole_number(value["router_id"], 1, 2**31 - 1)
    if router_id is None or router_id not in routers:
        errors["router_id"] = "Choose one of your routers, or none and type the address."
        return None
    return router_id


def validate_check(
    data: dict[str, str], *, new: bool, platform: bool, routers: set[int]
) -> tuple[CheckDraft | None, dict[str, str]]:
    """The form's strings → a `CheckDraft`, or {field: message}. ``routers``: the ids a RouterOS check may use."""
    value = {key: (text or "").strip() for key, text in data.items()}
    errors = text_errors(data, ("name", "public_name", "target", "body_contains", "server", "expect", "username"))
    name, public_name, kind, target = (value.get(k, "") for k in ("name", "public_name", "kind", "target"))
    if not name or len(name) > 100:
        errors["name"] = "Name the check (up to 100 characters), e.g. Customer portal."
    if len(public_name) > 100:
        errors["public_name"] = "Up to 100 characters."
    kinds = PLATFORM_KINDS if platform else tuple(KINDS)
    if kind not in kinds:
        errors["kind"] = "Choose what to check."
    router_id = _router_choice(value, routers, errors)
    if router_id is None and kind in kinds:
        _target(kind, target, errors)
    port: int | None = None
    if kind in ("tcp", "radius", "routeros") and router_id is None:
        port = _whole(value, "port", 1, 65535, _DEFAULT_PORTS.get(kind, 0), errors, "a port")
        if kind == "tcp" and not value.get("port"):
            errors["port"] = "Enter the TCP port to connect to, e.g. 22 or 443."
    options: dict[str, Any] = {}
    if kind == "http":
        options |= _http_options(value, errors)
    if kind == "dns":
        options |= _dns_options(value, errors)
    if kind == "routeros" and router_id is None:
        if not value.get("username"):
            errors["username"] = "Enter the API user (or choose one of your routers)."
        options["username"] = value.get("username", "")[:64]
    secret = data.get("secret", "")
    problem = _secret_error(kind, secret, needed=kind in ("radius", "routeros") and router_id is None and new)
    if problem:
        errors["secret"] = problem
    if value.get("slow_ms"):
        options["slow_ms"] = _whole(value, "slow_ms", 1, 60000, 0, errors, "milliseconds")
    timeout_s = _whole(value, "timeout_s", 1, 30, 10, errors, "seconds")
    confirm = _whole(value, "confirm_count", 1, 10, 2, errors, "a number of failed checks")
    if errors:
        return None, errors
    fields = CheckFields(
        name=name, public_name=public_name, kind=kind, target=target if router_id is None else "",
        port=port, options=options, router_id=router_id, timeout_s=timeout_s, confirm_count=confirm,
    )  # fmt: skip
    if router_id is not None:
        fields = CheckFields(**{**fields.__dict__, "target": f"router {router_id}"})
    return CheckDraft(fields, secret if router_id is None else ""), {}


def form_values(check: dict[str, Any]) -> dict[str, str]:
    """A stored check as the form shows it (never its secret)."""
    options = check.get("options") or {}
    return {
        "name": check["name"],
        "public_name": check["public_name"],
        "kind": check["kind"],
        "target": "" if check.get("router_id") else check["target"],
        "port": str(check["port"] or ""),
        "router_id": str(check.get("router_id") or ""),
        "timeout_s": str(check["timeout_s"]),
        "confirm_count": str(check["confirm_count"]),
        "expect_status": ", ".join(str(c) for c in options.get("expect_status", [])),
        "body_contains": str(options.get("body_contains", "")),
        "certificate_warn_days": str(options.get("certificate_warn_days", 14)),
        "record_type": str(options.get("record_type", "A")),
        "server": str(options.get("server", "")),
        "expect": ", ".join(options.get("expect", [])),
        "username": str(options.get("username", "")),
        "slow_ms": str(options.get("slow_ms", "") or ""),
    }


def without_secrets(data: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in data.items() if k not in SECRET_FIELDS}


def validate_page(data: dict[str, str]) -> tuple[tuple[bool, str] | None, dict[str, str]]:
    errors = text_errors(data, ("page_title",))
    title = (data.get("page_title") or "").strip()
    if len(title) > 100:
        errors["page_title"] = "Up to 100 characters."
    return (None, errors) if errors else ((data.get("page_enabled") == "on", title), {})


def validate_zabbix(data: dict[str, str], *, has_token: bool) -> tuple[tuple[str, str] | None, dict[str, str]]:
    """(url, token) — an empty URL switches Zabbix off; an empty token keeps the stored one."""
    errors = text_errors(data, ("zabbix_url",))
    url = (data.get("zabbix_url") or "").strip()
    token = (data.get("zabbix_token") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in url or len(url) > 2000:
            errors["zabbix_url"] = "Enter your Zabbix address, e.g. https://zabbix.example.net/."
        if not token and not has_token:
            errors["zabbix_token"] = "Enter an API token (Zabbix: Users → API tokens)."  # noqa: S105 (a message)
        if len(token) > 500 or any(c in token for c in "\r\n\0 "):
            errors["zabbix_token"] = "Paste the token as Zabbix shows it (one line, no spaces)."  # noqa: S105
    return (None, errors) if errors else ((url, token), {})


@dataclass(frozen=True)
class MaintenanceDraft:
    check_id: int | None
    starts_at: datetime
    ends_at: datetime
    note: str


def _local(text: str, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:
        return None


def validate_maintenance(
    data: dict[str, str], *, zone: ZoneInfo, checks: set[int]
) -> tuple[MaintenanceDraft | None, dict[str, str]]:
    errors = text_errors(data, ("note", "starts_at", "ends_at"))
    value = {key: (text or "").strip() for key, text in data.items()}
    check_id = None
    if value.get("check_id"):
        check_id = whole_number(value["check_id"], 1, 2**31 - 1)
        if check_id is None or check_id not in checks:
            errors["check_id"] = "Choose one of the checks, or all."
    starts = _local(value.get("starts_at", ""), zone)
    ends = _local(value.get("ends_at", ""), zone)
    if starts is None:
        errors["starts_at"] = "Enter when the work starts."
    if ends is None:
        errors["ends_at"] = "Enter when the work ends."
    elif starts is not None and not starts < ends <= starts + timedelta(days=31):
        errors["ends_at"] = "The end comes after the start, within 31 days."
    if len(value.get("note", "")) > 500:
        errors["note"] = "Up to 500 characters."
    if errors or starts is None or ends is None:
        return None, errors
    return MaintenanceDraft(check_id, starts, ends, value.get("note", "")), {}
