"""One entry point for any check: `run_check` picks the function by the check's type, and never raises.

A round of thousands of checks gathers `run_check` calls; an unexpected exception in one check (a library
bug, a malformed answer nobody foresaw) becomes that check's down result instead of ending the round.
"""

import ssl

from ispb_monitor.checks.dns import DnsCheck, check_dns
from ispb_monitor.checks.http import HttpCheck, check_http
from ispb_monitor.checks.icmp import PingCheck, check_ping
from ispb_monitor.checks.radius import RadiusCheck, check_radius
from ispb_monitor.checks.result import CheckResult
from ispb_monitor.checks.routeros import RouterOsCheck, check_routeros
from ispb_monitor.checks.tcp import TcpCheck, check_tcp
from ispb_notify import HttpClient, OutboundPolicy

__all__ = ("Check", "run_check")

Check = HttpCheck | TcpCheck | PingCheck | DnsCheck | RadiusCheck | RouterOsCheck


async def run_check(
    check: Check,
    *,
    policy: OutboundPolicy | None = None,
    http: HttpClient | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckResult:
    """Run ``check``; an error no check foresaw is a down result carrying the error's type and text."""
    try:
        match check:
            case HttpCheck():
                return await check_http(check, policy=policy, client=http, ssl_context=ssl_context)
            case TcpCheck():
                return await check_tcp(check, policy=policy)
            case PingCheck():
                return await check_ping(check, policy=policy)
            case DnsCheck():
                return await check_dns(check, policy=policy)
            case RadiusCheck():
                return await check_radius(check, policy=policy)
            case RouterOsCheck():
                return await check_routeros(check, policy=policy, ssl_context=ssl_context)
    except Exception as error:
        return CheckResult.down(f"the check failed: {type(error).__name__}: {error}")
    raise TypeError(f"not a check: {check!r}")
