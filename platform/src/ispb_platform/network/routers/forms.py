"""The router form: what an operator admin types, validated into a `RouterDraft` with per-field errors."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ispb_platform.web.forms import text_errors, whole_number

MODES = {"api": "API-managed (PPP secrets on the router)", "radius": "RADIUS-managed (secrets in ISPB)"}
NEW_ROUTER = {"api_port": "8728", "mode": "api", "coa_port": "3799"}
SECRET_FIELDS = ("password", "radius_secret")
"""Never echoed back into a form page."""


@dataclass(frozen=True)
class RouterDraft:
    name: str
    host: str
    api_port: int
    use_tls: bool
    username: str
    password: str  # empty on edit: keep the stored one
    mode: str
    radius_secret: str  # empty on edit: keep the stored one
    nas_address: str | None
    coa_port: int
    netflow_address: str | None = None
    """The NetFlow source address when it is neither the NAS address nor the API address (docs/netflow.md)."""


def _port(raw: str, default: int, field: str, errors: dict[str, str]) -> int:
    if not raw:
        return default
    port = whole_number(raw, 1, 65535)
    if port is None:
        errors[field] = "Enter a port from 1 to 65535."
        return default
    return port


def validate_router(data: dict[str, str], *, new: bool) -> tuple[RouterDraft | None, dict[str, str]]:
    value = {key: (text or "").strip() for key, text in data.items()}
    errors = text_errors(data, ("name", "host", "username", "nas_address", "netflow_address"))
    name, host = value.get("name", ""), value.get("host", "")
    if not name or len(name) > 60:
        errors["name"] = "Name the router (up to 60 characters), e.g. Mirpur core."
    if not host or len(host) > 253 or " " in host:
        errors["host"] = "Enter the router's address, e.g. 10.0.0.1 or core.example.net."
    use_tls = value.get("use_tls") == "on"
    api_port = _port(value.get("api_port", ""), 8729 if use_tls else 8728, "api_port", errors)
    username = value.get("username", "")
    if not username or len(username) > 64:
        errors["username"] = "Enter the API user name."
    password = data.get("password", "")
    if new and not password:
        errors["password"] = "Enter the API user's password."  # noqa: S105 (a message)
    mode = value.get("mode", "api")
    if mode not in MODES:
        errors["mode"] = "Choose API-managed or RADIUS-managed."
    radius_secret = data.get("radius_secret", "")
    nas_address = value.get("nas_address", "") or None
    if mode == "radius":
        if new and len(radius_secret) < 8:
            errors["radius_secret"] = "Enter the RADIUS shared secret (at least 8 characters)."  # noqa: S105
        if nas_address is None:
            errors["nas_address"] = "Enter the address the router sends RADIUS requests from."
    if nas_address is not None:
        try:
            nas_address = str(ipaddress.ip_address(nas_address))
        except ValueError:
            errors["nas_address"] = "Enter an IP address such as 10.0.0.1."
    coa_port = _port(value.get("coa_port", ""), 3799, "coa_port", errors)
    netflow_address = value.get("netflow_address", "") or None
    if netflow_address is not None:
        try:
            netflow_address = str(ipaddress.ip_address(netflow_address))
        except ValueError:
            errors["netflow_address"] = "Enter an IP address such as 10.0.0.1, or leave it empty."
    if errors:
        return None, errors
    return RouterDraft(
        name, host, api_port, use_tls, username, password, mode, radius_secret, nas_address, coa_port, netflow_address
    ), {}


def form_values(router: Mapping[str, Any]) -> dict[str, str]:
    """A stored router as the edit form shows it (secrets left out: empty keeps them)."""
    values = {k: str(router[k] or "") for k in ("name", "host", "api_port", "username", "mode", "coa_port")}
    values["nas_address"] = str(router["nas_address"] or "")
    values["netflow_address"] = str(router.get("netflow_address") or "")
    values["use_tls"] = "on" if router["use_tls"] else ""
    return values


def without_secrets(data: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in data.items() if key not in SECRET_FIELDS}
