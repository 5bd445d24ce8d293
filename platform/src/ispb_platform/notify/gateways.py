"""The operator's gateways, built from ``notify_gateway`` rows (secrets opened with ``ISPB_SECRET_KEY``).

An HTTP SMS gateway's settings are stored as the library's ``HttpSmsConfig`` fields; the secret (a password or
token) replaces ``{secret}`` wherever it appears in the URL, parameters, body or headers, so it is never
stored in the clear. ``{ref}`` is replaced per message by the outbox key: gateways that de-duplicate by a
client reference (e.g. ``csms_id``) then never deliver one message twice, even if a sender died mid-send.
"""

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from ispb_notify import (
    Channel,
    Gateway,
    HttpSmsConfig,
    HttpSmsGateway,
    OutgoingMessage,
    SendResult,
    WhatsAppCloudGateway,
    WhatsAppConfig,
)
from ispb_platform.secrets_box import reveal
from ispb_tenants.migrations import Connection


def _fill(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace("{secret}", secret)
    if isinstance(value, Mapping):
        return {k: _fill(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, secret) for v in value)
    return value


def _with_ref(value: Any, ref: str) -> Any:
    if isinstance(value, str):
        return value.replace("{ref}", ref)
    if isinstance(value, Mapping):
        return {k: _with_ref(v, ref) for k, v in value.items()}
    return value


class SmsGatewayWithRef:
    """An HTTP SMS gateway whose ``{ref}`` placeholders carry each message's outbox key.

    One HTTP client (connection pool) serves every message of a sender run; ``aclose`` closes it.
    """

    def __init__(self, config: HttpSmsConfig) -> None:
        self.config = config
        self._client = httpx.AsyncClient(
            timeout=config.timeout, limits=httpx.Limits(max_connections=50, max_keepalive_connections=50)
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send_with_ref(self, message: OutgoingMessage, ref: str) -> SendResult:
        config = replace(
            self.config,
            url=_with_ref(self.config.url, ref),
            params=_with_ref(self.config.params, ref),
            json_body=_with_ref(self.config.json_body, ref) if self.config.json_body is not None else None,
            form_body=_with_ref(self.config.form_body, ref) if self.config.form_body is not None else None,
        )
        return await HttpSmsGateway(config, client=self._client).send(message)


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


async def load_gateways(connection: Connection, secret_key: str) -> dict[Channel, SmsGatewayWithRef | Gateway]:
    """The enabled gateways of the tenant in scope, by channel."""
    found: dict[Channel, SmsGatewayWithRef | Gateway] = {}
    for row in await connection.fetch("SELECT * FROM notify_gateway WHERE enabled"):
        config = json.loads(row["config"]) if isinstance(row["config"], str) else dict(row["config"])
        secret = reveal(secret_key, row["secret_sealed"]) if row["secret_sealed"] else ""
        if row["kind"] == "http_sms":
            found[Channel.SMS] = SmsGatewayWithRef(http_sms_config(config, secret))
        elif row["kind"] == "whatsapp_cloud":
            found[Channel.WHATSAPP] = WhatsAppCloudGateway(
                WhatsAppConfig(
                    phone_number_id=config["phone_number_id"],
                    access_token=secret,
                    base_url=config.get("base_url", "https://graph.facebook.com/v20.0"),
                )
            )
    return found


async def send(gateway: SmsGatewayWithRef | Gateway, message: OutgoingMessage, ref: str) -> SendResult:
    if isinstance(gateway, SmsGatewayWithRef):
        return await gateway.send_with_ref(message, ref)
    return await gateway.send(message)


async def close(gateways: Mapping[Channel, SmsGatewayWithRef | Gateway]) -> None:
    for gateway in gateways.values():
        closer = getattr(gateway, "aclose", None)
        if closer is not None:
            await closer()
