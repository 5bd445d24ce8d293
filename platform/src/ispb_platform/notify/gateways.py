"""The operator's gateways, built from ``notify_gateway`` rows (secrets opened with ``ISPB_SECRET_KEY``).

An HTTP SMS gateway's settings are stored as the library's ``HttpSmsConfig`` fields; the secret (a password or
token) replaces ``{secret}`` wherever it appears in the URL, parameters, body or headers, so it is never
stored in the clear. The sender puts the outbox key in each message's ``reference`` (the ``{ref}``
placeholder): gateways that de-duplicate by a client reference (e.g. ``csms_id``) then never deliver one
message twice, even if a sender died mid-send. The gateways of one sender run share one `HttpClient`.
"""

from collections.abc import Mapping
from typing import Any

from ispb_notify import (
    Channel,
    Gateway,
    HttpClient,
    HttpSmsConfig,
    HttpSmsGateway,
    WhatsAppCloudGateway,
    WhatsAppConfig,
)
from ispb_platform.notify import queries
from ispb_platform.secrets_box import Binding, Purpose, reveal


def _fill(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace("{secret}", secret)
    if isinstance(value, Mapping):
        return {k: _fill(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, secret) for v in value)
    return value


def http_sms_config(config: Mapping[str, Any], secret: str) -> HttpSmsConfig:
    filled = _fill(dict(config), secret)
    basic = filled.get("basic_auth")
    return HttpSmsConfig(
        url=filled["url"],
        method=filled.get("method", "GET"),
        params=filled.get("params") or {},
        json_body=filled.get("json_body"),
        form_body=filled.get("form_body"),
        headers=filled.get("headers") or {},
        basic_auth=(basic[0], basic[1]) if basic else None,
        success_pattern=filled.get("success_pattern", ""),
        message_id_pattern=filled.get("message_id_pattern", ""),
        timeout=float(filled.get("timeout", 10.0)),
    )


def gateway_binding(tenant_id: int, channel: str) -> Binding:
    """A gateway's secret belongs to its tenant and channel (``notify_gateway``'s key)."""
    return Binding(tenant_id, Purpose.NOTIFY_GATEWAY_SECRET, channel)


async def load_gateways(secret_key: str, tenant_id: int, client: HttpClient) -> dict[Channel, Gateway]:
    """The enabled gateways of the tenant in scope, by channel, sending through ``client``."""
    found: dict[Channel, Gateway] = {}
    for stored in await queries.enabled_gateways():
        config = stored.config
        binding = gateway_binding(tenant_id, stored.channel)
        secret = reveal(secret_key, stored.secret_sealed, binding) if stored.secret_sealed else ""
        if stored.kind == "http_sms":
            found[Channel.SMS] = HttpSmsGateway(http_sms_config(config, secret), client=client)
        elif stored.kind == "whatsapp_cloud":
            found[Channel.WHATSAPP] = WhatsAppCloudGateway(
                WhatsAppConfig(
                    phone_number_id=config["phone_number_id"],
                    access_token=secret,
                    base_url=config.get("base_url", "https://graph.facebook.com/v20.0"),
                ),
                client=client,
            )
    return found
