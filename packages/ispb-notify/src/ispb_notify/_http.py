"""What both HTTP gateways share: one request with transport failures mapped to typed errors, Retry-After."""

import email.utils
from datetime import UTC, datetime
from typing import Any

from ispb_notify.gateways import (
    GatewayError,
    GatewayRateLimited,
    GatewayRejected,
    GatewayUnavailable,
    InvalidPhoneNumber,
    OutgoingMessage,
    normalise_msisdn,
)
from ispb_notify.http_client import (
    Closing,
    HttpClient,
    HttpProtocolError,
    HttpResponse,
    HttpTimeout,
    HttpTransportError,
)
from ispb_notify.outbound import OutboundPolicy, OutboundRefused


class UsesHttpClient(Closing):
    """A gateway's HTTP client: the given `HttpClient` (its owner closes it) or its own, closed with the gateway,
    which connects where ``policy`` allows (public addresses when None)."""

    def __init__(self, client: HttpClient | None, policy: OutboundPolicy | None = None) -> None:
        if client is not None and policy is not None:
            raise ValueError("give a client or a policy for the gateway's own client, not both")
        self._owns_client = client is None
        self._client = client if client is not None else HttpClient(policy=policy)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


# The gateway's answer is kept on outbox rows and in errors: enough to diagnose, never a whole HTML page.
MAX_RAW = 2_000


async def request(
    client: HttpClient, name: str, seconds: float, method: str, url: str, **arguments: Any
) -> HttpResponse:
    """Send one request; a timeout, connection failure or garbled answer is `GatewayUnavailable`, so the sender
    retries it (with the same reference). An address the client's policy refuses is `GatewayRejected`: sending
    again cannot help until the settings change."""
    try:
        return await client.request(method, url, seconds=seconds, **arguments)
    except OutboundRefused as error:
        raise GatewayRejected(f"{name}'s address is not allowed: {error}", raw=repr(error)) from error
    except HttpTimeout as error:
        raise GatewayUnavailable(f"{name} did not answer within {seconds:g} s", raw=repr(error)) from error
    except HttpProtocolError as error:
        raise GatewayUnavailable(f"{name} answered something unreadable: {error}", raw=repr(error)) from error
    except HttpTransportError as error:
        raise GatewayUnavailable(f"{name} is unreachable: {error}", raw=repr(error)) from error


def recipient(message: OutgoingMessage) -> str:
    """The number as international digits; a number that is not one is refused before any request."""
    try:
        return normalise_msisdn(message.to)
    except InvalidPhoneNumber as error:
        raise GatewayRejected(str(error)) from error


def status_error(
    response: HttpResponse, message: str, *, rate_limited: bool = False, temporary: bool = False
) -> GatewayError:
    """The typed error of a failed answer, the same for every gateway: HTTP 429 (or ``rate_limited``) is
    `GatewayRateLimited` with the Retry-After wait, 408 and 5xx (or ``temporary``) `GatewayUnavailable`, any
    other status `GatewayRejected`. ``message`` is what the operator reads."""
    raw, status = raw_text(response), response.status
    if status == 429 or rate_limited:
        return GatewayRateLimited(message, raw=raw, retry_after=retry_after(response))
    if status == 408 or status >= 500 or temporary:
        return GatewayUnavailable(message, raw=raw)
    return GatewayRejected(message, raw=raw)


def raw_text(response: HttpResponse) -> str:
    return response.text[:MAX_RAW]


def retry_after(response: HttpResponse, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC without saying so
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
