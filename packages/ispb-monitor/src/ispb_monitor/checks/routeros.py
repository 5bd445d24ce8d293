"""RouterOS API login: the router answers on its API port and accepts the credentials (librouteros, through
ispb-netsync's session with its typed errors; the ``network`` extra).

A router that accepts TCP but refuses the login is down (the platform cannot manage it); the message carries
the router's own words. The session reads ``/system/identity`` so the result names the router that answered.
"""

import ssl
from dataclasses import dataclass, field
from time import perf_counter

from ispb_monitor.checks.result import CheckResult, milliseconds_since, within
from ispb_notify import OutboundPolicy, OutboundRefused

__all__ = ("RouterOsCheck", "check_routeros")


@dataclass(frozen=True)
class RouterOsCheck:
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 8728
    tls: bool = False
    timeout: float = 8.0
    slow_ms: float | None = None


async def check_routeros(
    check: RouterOsCheck, *, policy: OutboundPolicy | None = None, ssl_context: ssl.SSLContext | None = None
) -> CheckResult:
    """Up when the router signs the user in; down when it does not answer or refuses."""
    from ispb_netsync.routeros import RouterAddress, RouterError, RouterSession  # the ``network`` extra

    rules = policy if policy is not None else OutboundPolicy()

    async def probe() -> CheckResult:
        try:
            address = (await rules.resolve(check.host, check.port))[0]
        except OutboundRefused as refused:
            return CheckResult.down(str(refused))
        except OSError as error:
            return CheckResult.down(f"cannot find {check.host}: {error.strerror or error}")
        start = perf_counter()
        try:
            router = RouterAddress(address, check.username, check.password, check.port, check.tls, check.timeout)
            async with RouterSession.open(router, ssl_context=ssl_context) as session:
                latency = milliseconds_since(start)
                name = await session.identity()
        except RouterError as error:
            return CheckResult.down(str(error))
        except ValueError as error:
            return CheckResult.down(str(error))
        return CheckResult.up(latency, f"signed in to {name or check.host}").slower_than(check.slow_ms)

    return await within(check.timeout + 0.5, probe, f"{check.host}:{check.port}")
