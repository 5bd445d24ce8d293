"""Status checks: each is async, bounded by its timeout, and answers a typed `CheckResult` (up, degraded or
down, the latency, a sentence for the operator). Every check that opens a connection obeys an
``ispb_notify.OutboundPolicy`` (public addresses only unless the administrator allows more).

    >>> import asyncio
    >>> result = asyncio.run(check_tcp(TcpCheck("127.0.0.1", 1, timeout=1)))
    >>> result.status.value
    'down'
    >>> result.message.split(";")[0]
    '127.0.0.1 is a loopback address (this server itself)'

RADIUS and RouterOS checks need the ``network`` extra (``pip install ispb-monitor[network]``).
"""

from ispb_monitor.checks.dns import DnsCheck, check_dns
from ispb_monitor.checks.http import HttpCheck, certificate_days_left, check_http
from ispb_monitor.checks.icmp import PingCheck, check_ping, unprivileged_ping_allowed
from ispb_monitor.checks.radius import RadiusCheck, check_radius
from ispb_monitor.checks.result import CheckResult, Status
from ispb_monitor.checks.routeros import RouterOsCheck, check_routeros
from ispb_monitor.checks.run import Check, run_check
from ispb_monitor.checks.tcp import TcpCheck, check_tcp

__all__ = (
    "Check",
    "CheckResult",
    "DnsCheck",
    "HttpCheck",
    "PingCheck",
    "RadiusCheck",
    "RouterOsCheck",
    "Status",
    "TcpCheck",
    "certificate_days_left",
    "check_dns",
    "check_http",
    "check_ping",
    "check_radius",
    "check_routeros",
    "check_tcp",
    "run_check",
    "unprivileged_ping_allowed",
)
