"""Service status checks, uptime maths and a Zabbix API client.

- `ispb_monitor.checks`: HTTP(S), TCP, ICMP ping, DNS, RADIUS Status-Server and RouterOS API login checks,
  each async, bounded by a timeout, answering a typed `CheckResult` (up, degraded or down, latency, message),
  every connection under an outbound-address policy.
- `ispb_monitor.uptime`: incidents from consecutive failures (confirm count, recovery), per-day uptime over a
  90-day history, maintenance windows that are not downtime. Pure: no I/O.
- `ispb_monitor.zabbix`: a JSON-RPC client for Zabbix 6.0 LTS and 7.0 with typed errors.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform, so other projects can use it directly.
"""

from importlib.metadata import version as _version

from ispb_monitor.checks import CheckResult, Status, run_check
from ispb_monitor.uptime import DayUptime, Interval, Tracker, advance, daily_uptime, history, overall
from ispb_monitor.zabbix import ZabbixClient, ZabbixError

__version__ = _version("ispb-monitor")

__all__ = (
    "__version__",
    # checks (the kinds are in ispb_monitor.checks)
    "CheckResult",
    "Status",
    "run_check",
    # uptime
    "DayUptime",
    "Interval",
    "Tracker",
    "advance",
    "daily_uptime",
    "history",
    "overall",
    # Zabbix
    "ZabbixClient",
    "ZabbixError",
)
