"""Facts about a request every domain uses: where it came from (activity log, throttling), where it may lead."""

from typing import Any

from litestar import Request


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The address the request came from (the socket peer; behind a proxy, configure uvicorn's forwarded-allow-ips)."""
    return request.client.host if request.client else ""


def safe_next(target: str | None, default: str) -> str:
    """Only local paths: a sign-in link must not send people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
