"""A stored check (a ``status_check`` row) as the ``ispb_monitor`` check it describes.

Secrets are opened here, right before the check runs: the RADIUS secret or RouterOS password of the check
(sealed for the check's row), or the router's own API password for a RouterOS check bound to a router.
"""

import json
from collections.abc import Mapping
from typing import Any

from ispb_monitor.checks import Check, DnsCheck, HttpCheck, PingCheck, RadiusCheck, RouterOsCheck, TcpCheck
from ispb_platform.secrets_box import Binding, Purpose, SealError, reveal

KINDS = {
    "http": "HTTP(S) page",
    "tcp": "TCP port",
    "ping": "Ping (ICMP)",
    "dns": "DNS name",
    "radius": "RADIUS server",
    "routeros": "RouterOS API login",
}
PLATFORM_KINDS = ("http", "tcp", "ping", "dns")
"""Platform-wide checks hold no secrets (the secrets box seals per operator)."""


class CheckUnusable(Exception):
    """The row cannot become a check (a secret that does not open); the message is the check's result."""


def _secret(row: Mapping[str, Any], secret_key: str, tenant_id: int) -> str:
    sealed = row["secret_sealed"]
    if not sealed:
        return ""
    try:
        return reveal(secret_key, sealed, Binding(tenant_id, Purpose.MONITOR_CHECK_SECRET, int(row["id"])))
    except SealError as error:
        raise CheckUnusable(f"the stored secret cannot be opened: {error}") from error


def to_check(row: Mapping[str, Any], secret_key: str, tenant_id: int) -> Check:
    """The check a row describes; raises `CheckUnusable`."""
    raw = row["options"] or {}
    options: Mapping[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    timeout = float(row["timeout_s"])
    slow = float(options["slow_ms"]) if options.get("slow_ms") else None
    kind, target, port = row["kind"], str(row["target"]), row["port"]
    if kind == "http":
        return HttpCheck(
            target,
            expect_status=frozenset(int(s) for s in options.get("expect_status", [])),
            body_contains=str(options.get("body_contains", "")),
            certificate_warn_days=int(options.get("certificate_warn_days", 14)),
            timeout=timeout,
            slow_ms=slow,
        )
    if kind == "tcp":
        return TcpCheck(target, int(port or 0), timeout=timeout, slow_ms=slow)
    if kind == "ping":
        return PingCheck(target, timeout=timeout, slow_ms=slow)
    if kind == "dns":
        return DnsCheck(
            target,
            record_type=str(options.get("record_type", "A")),
            server=str(options.get("server", "")),
            expect=frozenset(str(v).lower() for v in options.get("expect", [])),
            timeout=timeout,
            slow_ms=slow,
        )
    if kind == "radius":
        return RadiusCheck(
            target, _secret(row, secret_key, tenant_id), int(port or 1812), timeout=timeout, slow_ms=slow
        )
    if kind == "routeros":
        if row.get("router_id") is not None and row.get("router_host"):
            try:
                password = reveal(
                    secret_key,
                    str(row["router_password_sealed"]),
                    Binding(tenant_id, Purpose.ROUTER_API_PASSWORD, int(row["router_id"])),
                )
            except SealError as error:
                raise CheckUnusable(f"the router's password cannot be opened: {error}") from error
            return RouterOsCheck(
                str(row["router_host"]), str(row["router_username"]), password, int(row["router_port"]),
                bool(row["router_tls"]), timeout=timeout, slow_ms=slow,
            )  # fmt: skip
        return RouterOsCheck(
            target, str(options.get("username", "")), _secret(row, secret_key, tenant_id), int(port or 8728),
            timeout=timeout, slow_ms=slow,
        )  # fmt: skip
    raise CheckUnusable(f"unknown kind of check {kind!r}")


def usable(row: Mapping[str, Any], secret_key: str, tenant_id: int) -> Check | str:
    """The check, or why the row cannot be one (a bad secret, a stored option of the wrong type): a round
    records that as the check's result rather than stopping."""
    try:
        return to_check(row, secret_key, tenant_id)
    except CheckUnusable as error:
        return str(error)
    except (KeyError, TypeError, ValueError) as error:
        return f"the check's settings cannot be read ({type(error).__name__}: {error}); edit and save it again"
