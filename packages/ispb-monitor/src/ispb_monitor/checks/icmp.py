"""ICMP echo (ping): packet loss and round-trip time, through icmplib.

Unprivileged where the OS allows: Linux lets ordinary users send echo requests over a datagram socket when
their group is inside ``net.ipv4.ping_group_range`` (``sysctl -w net.ipv4.ping_group_range="0 2147483647"``).
Otherwise a raw socket is tried, which needs root or ``CAP_NET_RAW``; when neither is possible the result says
so, naming the setting, instead of reporting the host as down for a reason that is the server's own.
"""

from dataclasses import dataclass
from pathlib import Path

import icmplib

from ispb_monitor.checks.result import CheckResult, within
from ispb_notify import OutboundPolicy, OutboundRefused

__all__ = ("PingCheck", "check_ping", "unprivileged_ping_allowed")


@dataclass(frozen=True)
class PingCheck:
    host: str
    count: int = 3
    interval: float = 0.2
    timeout: float = 5.0
    degraded_loss: float = 0.0
    """Loss above this fraction (and below 100 %) makes the check degraded; all lost is down."""
    slow_ms: float | None = None


def unprivileged_ping_allowed(gid: int, ranges: Path = Path("/proc/sys/net/ipv4/ping_group_range")) -> bool:
    """Whether group ``gid`` may ping over a datagram socket (Linux's ``ping_group_range``)."""
    try:
        low, high = (int(part) for part in ranges.read_text().split())
    except (OSError, ValueError):
        return False
    return low <= gid <= high


async def _ping(address: str, check: PingCheck, privileged: bool) -> icmplib.Host:
    per_reply = max(0.2, min(2.0, check.timeout - check.count * check.interval))
    return await icmplib.async_ping(
        address, count=check.count, interval=check.interval, timeout=per_reply, privileged=privileged
    )


async def check_ping(check: PingCheck, *, policy: OutboundPolicy | None = None) -> CheckResult:
    """Send ``count`` echo requests; up when all come back, degraded when some do, down when none do."""
    rules = policy if policy is not None else OutboundPolicy()
    if not 1 <= check.count <= 20:
        return CheckResult.down("a ping check sends 1 to 20 echo requests")

    async def probe() -> CheckResult:
        try:
            address = (await rules.resolve(check.host, 0))[0]
        except OutboundRefused as refused:
            return CheckResult.down(str(refused))
        except OSError as error:
            return CheckResult.down(f"cannot find {check.host}: {error.strerror or error}")
        try:
            try:
                host = await _ping(address, check, privileged=False)
            except icmplib.SocketPermissionError:
                host = await _ping(address, check, privileged=True)
        except icmplib.SocketPermissionError:
            return CheckResult.down(
                "this server may not send pings: allow it with net.ipv4.ping_group_range or CAP_NET_RAW"
            )
        except icmplib.ICMPLibError as error:
            return CheckResult.down(f"ping failed: {error}")
        loss = host.packet_loss
        if host.packets_received == 0:
            return CheckResult.down(f"no reply to {host.packets_sent} pings")
        latency = round(float(host.avg_rtt), 1)
        message = f"{host.packets_received}/{host.packets_sent} replies, {latency:g} ms average"
        if loss > check.degraded_loss:
            return CheckResult.degraded(latency, f"{message} ({loss:.0%} lost)")
        return CheckResult.up(latency, message).slower_than(check.slow_ms)

    return await within(check.timeout, probe, check.host)
