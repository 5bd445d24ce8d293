"""What both HTTP gateways share: one request with transport failures mapped to typed errors, Retry-After."""

import email.utils
from datetime import UTC, datetime
from typing import Any

import httpx

from ispb_notify.gateways import GatewayUnavailable

# The gateway's answer is kept on outbox rows and in errors: enough to diagnose, never a whole HTML page.
MAX_RAW = 2_000


async def request(client: httpx.AsyncClient, name: str, seconds: float, **arguments: Any) -> httpx.Response:
    """Send one request; a timeout or connection failure is `GatewayUnavailable`, so the sender retries it."""
    try:
        return await client.request(timeout=seconds, **arguments)
    except httpx.TimeoutException as error:
        raise GatewayUnavailable(f"{name} did not answer within {seconds:g} s", raw=repr(error)) from error
    except httpx.TransportError as error:
        raise GatewayUnavailable(f"{name} is unreachable: {error or type(error).__name__}", raw=repr(error)) from error


def raw_text(response: httpx.Response) -> str:
    return response.text[:MAX_RAW]


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
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
