"""WhatsApp through Meta's Cloud API: text messages and approved template messages.

A business may only start a conversation with an approved template (``OutgoingMessage.template_name`` with
its ``template_params`` as the body's ``{{1}}``, ``{{2}}``...); free text is allowed within 24 hours of the
customer's last message. Errors come as Graph API JSON (``{"error": {"code": 131056, "message": ...}}``) and
are mapped by code first, because Meta answers some rate limits with HTTP 400:

- 4, 80007, 130429, 131048, 131056 (throughput, spam and pair rate limits) and HTTP 429: `GatewayRateLimited`
- 1, 2, 131000, 133004 (unknown or temporary service errors) and HTTP 5xx: `GatewayUnavailable`
- anything else in 4xx (bad number, expired token 190, template missing 132001): `GatewayRejected`
"""

import json
from dataclasses import dataclass
from typing import Any

from ispb_notify import _http
from ispb_notify.gateways import (
    GatewayError,
    OutgoingMessage,
    SendResult,
)
from ispb_notify.http_client import HttpClient, HttpResponse
from ispb_notify.outbound import OutboundPolicy

__all__ = ("RATE_LIMIT_CODES", "TEMPORARY_CODES", "WhatsAppCloudGateway", "WhatsAppConfig")

RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048, 131056})
TEMPORARY_CODES = frozenset({1, 2, 131000, 133004})


@dataclass(frozen=True)
class WhatsAppConfig:
    """The business phone number's id and a (system user) access token from Meta's WhatsApp settings."""

    phone_number_id: str
    access_token: str
    base_url: str = "https://graph.facebook.com/v20.0"
    timeout: float = 10.0

    def __repr__(self) -> str:  # the token must not end up in logs or run records
        return f"WhatsAppConfig(phone_number_id={self.phone_number_id!r}, base_url={self.base_url!r}, ...)"


class WhatsAppCloudGateway(_http.UsesHttpClient):
    """Sends `OutgoingMessage` to WhatsApp; a `Gateway`. Client ownership as in `HttpSmsGateway`."""

    def __init__(
        self, config: WhatsAppConfig, client: HttpClient | None = None, *, policy: OutboundPolicy | None = None
    ) -> None:
        super().__init__(client, policy)
        self.config = config

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send a template message when ``template_name`` is set, else a text message."""
        to = _http.recipient(message)
        response = await _http.request(
            self._client,
            "WhatsApp",
            self.config.timeout,
            method="POST",
            url=f"{self.config.base_url.rstrip('/')}/{self.config.phone_number_id}/messages",
            json_body=message_body(message, to),
            headers={"Authorization": f"Bearer {self.config.access_token}"},
        )
        raw = _http.raw_text(response)
        if 200 <= response.status < 300:
            return SendResult(_message_id(response), raw)
        raise _error(response)


def message_body(message: OutgoingMessage, to: str) -> dict[str, Any]:
    """The Cloud API request body for ``message`` to the international number ``to``.

    >>> message_body(OutgoingMessage("01711000000", "hi"), "8801711000000")["text"]
    {'body': 'hi'}
    """
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    if message.template_name is None:
        return body | {"type": "text", "text": {"body": message.text}}
    template: dict[str, Any] = {"name": message.template_name, "language": {"code": message.template_language}}
    if message.template_params:
        parameters = [{"type": "text", "text": value} for value in message.template_params]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return body | {"type": "template", "template": template}


def _message_id(response: HttpResponse) -> str | None:
    try:
        identifier = response.json()["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return identifier if isinstance(identifier, str) else None


def _error(response: HttpResponse) -> GatewayError:
    """The typed error for a failed answer, with Meta's own words (and details) for the operator; Meta's
    error codes say "rate limited" or "temporary" where its HTTP status does not."""
    code, text = _graph_error(response)
    return _http.status_error(
        response,
        f"WhatsApp refused the message (HTTP {response.status}, code {code}): {text}",
        rate_limited=code in RATE_LIMIT_CODES,
        temporary=code in TEMPORARY_CODES,
    )


def _graph_error(response: HttpResponse) -> tuple[int | None, str]:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None, _http.raw_text(response)[:200] or response.reason
    if not isinstance(error, dict):
        return None, json.dumps(error)[:200]
    code = error.get("code")
    text = str(error.get("message", ""))
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    if details:
        text = f"{text} ({details})"
    return (code if isinstance(code, int) else None), text
