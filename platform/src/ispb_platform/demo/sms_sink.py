"""The demo's SMS gateway: a sink inside the demo process that accepts messages like Kannel and lists them.

The demo operators' SMS gateway points here (``/demo/sms-gateway/send``), so reminders and event messages go
through the real outbox, sender job and HTTP client, and the platform administrator sees at
``/demo/sms-gateway/`` what would have reached the customers' phones (one-time sign-in codes of every operator's
customers among them: no one else may read it). Only ``ispb demo`` registers these routes; nothing is kept on
disk. The sink is on the demo's own loopback address, which the outbound policy refuses like any other: the
demo allows that one origin (`allow_sink`), not the machine's other services.
"""

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, route
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_notify import OutboundPolicy, count_sms
from ispb_platform.auth.access import PUBLIC, allow
from ispb_platform.auth.roles import ADMINS

PATH = "/demo/sms-gateway"


@dataclass(frozen=True)
class SunkMessage:
    number: int
    at: datetime
    to: str
    text: str
    ref: str
    segments: int


def _sink(request: Request[Any, Any, Any]) -> deque[SunkMessage]:
    sink: deque[SunkMessage] | None = getattr(request.app.state, "demo_sms", None)
    if sink is None:
        sink = deque(maxlen=1000)
        request.app.state.demo_sms = sink
    return sink


@route(f"{PATH}/send", http_method=["GET", "POST"], opt=PUBLIC, exclude_from_csrf=True)
async def receive(request: Request[Any, Any, Any]) -> Response[str]:
    fields = dict(request.query_params)
    if request.method == "POST":
        fields |= {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    to, text = fields.get("to", ""), fields.get("text", "")
    if not to or not text:
        return Response("Missing receiver number or text", status_code=400, media_type="text/plain")
    sink = _sink(request)
    duplicate = next((m for m in sink if fields.get("ref") and m.ref == fields["ref"]), None)
    if duplicate is not None:  # like gateways that de-duplicate by client reference
        return Response(f"Accepted: demo-{duplicate.number}", status_code=202, media_type="text/plain")
    number = (sink[-1].number + 1) if sink else 1
    sink.append(SunkMessage(number, datetime.now(UTC), to, text, fields.get("ref", ""), count_sms(text).segments))
    return Response(f"Accepted: demo-{number}", status_code=202, media_type="text/plain")


def gateway_url(host: str, port: int) -> str:
    """The sink's address for the demo operators' gateway settings."""
    return f"http://{host}:{port}{PATH}/send"


def allow_sink(policy: OutboundPolicy, host: str, port: int) -> OutboundPolicy:
    """``policy`` plus the demo's own address on its own port only: the senders reach the sink, not the Redis or
    PostgreSQL on the same machine."""
    return policy.allowing(host, port)


@get(f"{PATH}/", opt=allow(ADMINS))
async def sent_page(request: Request[Any, Any, Any]) -> Template:
    return Template("demo/sms_sink.html", context={"messages": list(reversed(_sink(request)))})


ROUTES: list[ControllerRouterHandler] = [receive, sent_page]
