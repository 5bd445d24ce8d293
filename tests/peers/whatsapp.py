"""A WhatsApp Cloud API peer for tests: ``POST /{version}/{phone_number_id}/messages`` on 127.0.0.1 (stdlib only).

It checks the Bearer token (401, Graph error code 190 otherwise), records text and template messages and
answers ``{"messages": [{"id": "wamid.1"}]}``; failures come as Graph error JSON like Meta's::

    async with WhatsAppPeer(phone_number_id="1055", access_token="t") as peer:
        config = WhatsAppConfig("1055", "t", base_url=peer.base_url + "/v20.0")
        peer.rate_limit_next()       # HTTP 400, code 130429, Retry-After
        ...

Same controls as `SmsGatewayPeer`: ``fail_next(n, status=500)`` (code 131000 for 5xx, 100 for 4xx),
``stall_next(n)``, ``rate_limit_next(n, retry_after=1)``, ``down()`` / ``up()``; ``attempts`` and ``messages``.
"""

import json
import re
from datetime import UTC, datetime

from peers.sms_gateway import Answer, HttpPeer, ReceivedMessage, Request

__all__ = ("WhatsAppPeer", "graph_error")

_PATH = re.compile(r"^/(v[0-9.]+)/([^/]+)/messages$")


def graph_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    """An answer shaped like a Graph API error."""
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "PeerTrace"}
    return Answer(status, json.dumps({"error": error}), headers or {})


class WhatsAppPeer(HttpPeer):
    def __init__(self, phone_number_id: str = "1055", access_token: str = "test-token", port: int = 0) -> None:
        super().__init__(port)
        self.phone_number_id = phone_number_id
        self.access_token = access_token

    def message_of(self, request: Request) -> ReceivedMessage | Answer:
        path = _PATH.match(request.path)
        if request.method != "POST" or path is None or path.group(2) != self.phone_number_id:
            return graph_error(400, 100, f"Unsupported post request. Object with ID '{request.path}' does not exist")
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return graph_error(401, 190, "Error validating access token: invalid token")
        body = request.json()
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp" or "to" not in body:
            return graph_error(400, 100, "(#100) Invalid parameter")
        now = datetime.now(UTC)
        if body.get("type") == "template":
            template = body["template"]
            components = template.get("components", [])
            params = tuple(p["text"] for c in components if c.get("type") == "body" for p in c["parameters"])
            return ReceivedMessage(body["to"], "", now, 0, template["name"], params, request)
        if body.get("type") == "text":
            return ReceivedMessage(body["to"], body["text"]["body"], now, 0, request=request)
        return graph_error(400, 100, "(#100) Param type must be text or template in this peer")

    def accept(self, message: ReceivedMessage, number: int) -> Answer:
        contact = {"input": message.to, "wa_id": message.to}
        return Answer(
            200,
            json.dumps(
                {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": f"wamid.{number}"}]}
            ),
        )

    def failure(self, status: int) -> Answer:
        if status >= 500:
            return graph_error(status, 131000, "Something went wrong")
        return graph_error(status, 100, "(#100) Invalid parameter")

    def rate_limited(self, retry_after: float) -> Answer:
        # Meta answers throughput limits with HTTP 400 and a code, not 429
        return graph_error(400, 130429, "Rate limit hit", {"Retry-After": f"{retry_after:g}"})
