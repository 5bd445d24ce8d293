"""HTTP(S): the status code, optionally a word the page must contain, and for HTTPS the certificate's days left.

The request goes through ``ispb_notify.HttpClient``: the platform's outbound-address policy is checked on the
addresses the name resolves to and the connection goes to the checked address itself (no DNS rebinding), no
redirects are followed, the answer is bounded. For HTTPS the certificate is read in a TLS handshake of its own
(to the same checked address, with the name as SNI) before the request: ``HttpClient`` verifies certificates
but does not hand them out, and a certificate that expires in three days must show as degraded while the site
still works.
"""

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from time import perf_counter
from urllib.parse import urlsplit

from ispb_monitor.checks.result import CheckResult, milliseconds_since, within
from ispb_notify import HttpClient, HttpTransportError, OutboundPolicy, OutboundRefused

__all__ = ("HttpCheck", "certificate_days_left", "check_http")

_DAY = 86400


@dataclass(frozen=True)
class HttpCheck:
    url: str
    expect_status: frozenset[int] = frozenset()
    """The codes that count as up; empty: any 2xx or 3xx (redirects are not followed)."""
    body_contains: str = ""
    """A text the answer must contain (e.g. "All systems operational"); empty: not checked."""
    certificate_warn_days: int = 14
    """An HTTPS certificate with fewer days left than this makes the check degraded."""
    timeout: float = 10.0
    slow_ms: float | None = None


class _CertificateProblem(Exception):
    pass


async def certificate_days_left(
    host: str, port: int, *, policy: OutboundPolicy, ssl_context: ssl.SSLContext | None = None
) -> int:
    """Whole days until the certificate ``host:port`` presents expires (negative: expired), after verifying it
    like a browser would; raises `OutboundRefused`, ``OSError`` or ``ssl.SSLError``."""
    context = ssl_context or _default_context()
    addresses = await policy.resolve(host, port)
    _, writer = await asyncio.open_connection(addresses[0], port, ssl=context, server_hostname=host)
    try:
        certificate = writer.get_extra_info("peercert") or {}
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    not_after = certificate.get("notAfter")
    if not isinstance(not_after, str):
        raise ssl.SSLError("the server sent no certificate with an expiry date")
    return int((ssl.cert_time_to_seconds(not_after) - time.time()) // _DAY)


_CONTEXT: ssl.SSLContext | None = None


def _default_context() -> ssl.SSLContext:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = ssl.create_default_context()
    return _CONTEXT


async def check_http(
    check: HttpCheck,
    *,
    policy: OutboundPolicy | None = None,
    client: HttpClient | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckResult:
    """GET ``check.url``. Down: no answer, an unexpected code, the text missing, a bad or expired certificate.
    Degraded: the certificate expires within ``certificate_warn_days``, or slower than ``slow_ms``.

    ``client`` lets a round of many checks share one client (its policy then applies); by default each call
    makes its own."""
    parts = urlsplit(check.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return CheckResult.down(f"{check.url!r} is not an http:// or https:// address")
    rules = policy if policy is not None else (client.policy if client is not None else OutboundPolicy())

    async def probe() -> CheckResult:
        days_left: int | None = None
        if parts.scheme == "https":
            try:
                days_left = await certificate_days_left(
                    str(parts.hostname), parts.port or 443, policy=rules, ssl_context=ssl_context
                )
            except OutboundRefused as refused:
                return CheckResult.down(str(refused))
            except ssl.SSLError as error:
                return CheckResult.down(f"TLS failed: {error.reason or error}")
            except OSError as error:
                return CheckResult.down(f"cannot connect: {error.strerror or error}")
        own = client is None
        http = client if client is not None else HttpClient(max_connections=1, ssl_context=ssl_context, policy=rules)
        start = perf_counter()
        try:
            response = await http.request("GET", check.url, seconds=check.timeout)
        except OutboundRefused as refused:
            return CheckResult.down(str(refused))
        except HttpTransportError as error:
            return CheckResult.down(str(error))
        except ValueError as error:
            return CheckResult.down(str(error))
        finally:
            if own:
                await http.aclose()
        latency = milliseconds_since(start)
        expected = response.status in check.expect_status if check.expect_status else 200 <= response.status < 400
        if not expected:
            return CheckResult.down(f"answered {response.status} {response.reason}".rstrip(), latency)
        if check.body_contains and check.body_contains not in response.text:
            return CheckResult.down(f"the page does not contain {check.body_contains!r}", latency)
        message = f"answered {response.status}"
        if days_left is not None:
            message += f"; certificate valid {days_left} more day{'' if days_left == 1 else 's'}"
            if days_left < check.certificate_warn_days:
                return CheckResult.degraded(latency, message)
        return CheckResult.up(latency, message).slower_than(check.slow_ms)

    return await within(check.timeout, probe, check.url)
