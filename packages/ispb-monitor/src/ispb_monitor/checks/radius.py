"""RADIUS Status-Server (RFC 5997): asks a RADIUS server whether it is alive without a user or a password.

FreeRADIUS answers on its authentication port to known clients (``status_server = yes``, the default) with an
Access-Accept. The exchange (authenticators, Message-Authenticator, retransmission) is ispb-netsync's RADIUS
client, installed with the ``network`` extra.
"""

from dataclasses import dataclass
from time import perf_counter

from ispb_monitor.checks.result import CheckResult, milliseconds_since, within
from ispb_notify import OutboundPolicy, OutboundRefused

__all__ = ("RadiusCheck", "check_radius")


@dataclass(frozen=True)
class RadiusCheck:
    host: str
    secret: str
    port: int = 1812
    timeout: float = 5.0
    slow_ms: float | None = None


async def check_radius(check: RadiusCheck, *, policy: OutboundPolicy | None = None) -> CheckResult:
    """Up on an authentic Access-Accept; down on silence (a wrong secret looks the same: the server drops
    requests it cannot authenticate), on a reject, on a refused address."""
    from ispb_netsync.radius.client import NasUnreachable, send_request  # the ``network`` extra
    from ispb_netsync.radius.packet import Code

    rules = policy if policy is not None else OutboundPolicy()
    attempts = 2

    async def probe() -> CheckResult:
        try:
            address = (await rules.resolve(check.host, check.port))[0]
        except OutboundRefused as refused:
            return CheckResult.down(str(refused))
        except OSError as error:
            return CheckResult.down(f"cannot find {check.host}: {error.strerror or error}")
        start = perf_counter()
        try:
            reply = await send_request(
                address, check.port, check.secret, Code.STATUS_SERVER, [],
                timeout=check.timeout / attempts, retries=attempts - 1,
            )  # fmt: skip
        except NasUnreachable:
            return CheckResult.down(
                f"no answer from {check.host}:{check.port} (is it running, does it know this server as a client"
                " with this secret?)"
            )
        except OSError as error:
            return CheckResult.down(f"cannot reach {check.host}:{check.port}: {error.strerror or error}")
        latency = milliseconds_since(start)
        if reply.code is not Code.ACCESS_ACCEPT:
            return CheckResult.down(f"answered {reply.code.name.replace('_', '-').title()}", latency)
        return CheckResult.up(latency, "answered Status-Server").slower_than(check.slow_ms)

    return await within(check.timeout + 0.5, probe, f"{check.host}:{check.port}")
