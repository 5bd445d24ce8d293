"""TCP connect: does something accept connections on a host's port (an SSH daemon, a RouterOS API, a database)?"""

import asyncio
import contextlib
from dataclasses import dataclass
from time import perf_counter

from ispb_monitor.checks.result import CheckResult, milliseconds_since, within
from ispb_notify import OutboundPolicy, OutboundRefused

__all__ = ("TcpCheck", "check_tcp")


@dataclass(frozen=True)
class TcpCheck:
    host: str
    port: int
    timeout: float = 5.0
    slow_ms: float | None = None


async def check_tcp(check: TcpCheck, *, policy: OutboundPolicy | None = None) -> CheckResult:
    """Up when a connection to one of the host's allowed addresses opens (the latency is the connect time)."""
    if not 1 <= check.port <= 65535:
        return CheckResult.down(f"port {check.port} is not a TCP port (1-65535)")
    rules = policy if policy is not None else OutboundPolicy()

    async def probe() -> CheckResult:
        try:
            addresses = await rules.resolve(check.host, check.port)
        except OutboundRefused as refused:
            return CheckResult.down(str(refused))
        except OSError as error:
            return CheckResult.down(f"cannot find {check.host}: {error.strerror or error}")
        failure: OSError | None = None
        for address in addresses:
            start = perf_counter()
            try:
                _, writer = await asyncio.open_connection(address, check.port)
            except OSError as error:
                failure = error
                continue
            latency = milliseconds_since(start)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return CheckResult.up(latency, f"port {check.port} accepts connections").slower_than(check.slow_ms)
        reason = failure.strerror if failure is not None and failure.strerror else str(failure)
        return CheckResult.down(f"{check.host}:{check.port} refused the connection ({reason})")

    return await within(check.timeout, probe, f"{check.host}:{check.port}")
