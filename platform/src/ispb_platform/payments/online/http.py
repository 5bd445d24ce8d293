"""Gateway API calls over the project's hardened HTTP client (``ispb_notify.http_client``): the outbound
address policy, one deadline per call, bounded answers, no redirects. Every failure becomes a `GatewayError`
that says which gateway and call: unavailable (no answer, a timeout, HTTP 5xx, not JSON) or rejected (4xx)."""

from collections.abc import Mapping
from typing import Any

from ispb_notify import OutboundPolicy, OutboundRefused
from ispb_notify.http_client import HttpClient, HttpTimeout, HttpTransportError
from ispb_platform.payments.online.gateway import GatewayRejected, GatewayUnavailable

TIMEOUT_S = 30.0
"""bKash asks for 30 seconds on every API; the others answer well within it."""


async def call_json(
    policy: OutboundPolicy,
    gateway: str,
    method: str,
    url: str,
    *,
    seconds: float | None = None,
    accept_4xx: bool = False,
    **request: Any,
) -> tuple[int, Any]:
    """One call and its JSON answer: ``(status, answer)``. A 4xx raises `GatewayRejected` unless
    ``accept_4xx`` (Stripe answers errors as 4xx JSON the adapter reads)."""
    what = url.split("?", 1)[0]
    try:
        async with HttpClient(policy=policy, max_connections=2) as client:
            response = await client.request(method, url, seconds=seconds or TIMEOUT_S, **request)
    except HttpTimeout as error:
        raise GatewayUnavailable(f"{gateway} did not answer {what} in time ({error})") from error
    except (HttpTransportError, OutboundRefused) as error:
        raise GatewayUnavailable(f"{gateway} could not be reached for {what}: {error}") from error
    if response.status >= 500:
        raise GatewayUnavailable(f"{gateway} answered HTTP {response.status} to {what}")
    try:
        answer = response.json()
    except ValueError as error:
        raise GatewayUnavailable(f"{gateway} answered {what} with something that is not JSON") from error
    if response.status >= 400 and not accept_4xx:
        raise GatewayRejected(f"{gateway} refused {what}: HTTP {response.status} {_short(answer)}")
    return response.status, answer


def fields_of(answer: Any) -> Mapping[str, Any]:
    """The answer as an object (an empty one when it is a list, a number, ...)."""
    return answer if isinstance(answer, dict) else {}


def _short(answer: Any) -> str:
    return str(answer)[:200]
