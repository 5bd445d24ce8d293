"""SMS through an HTTP gateway: one configurable client for Kannel and the many "GET a URL" SMS providers.

Bangladeshi SMS providers (and Kannel in front of an operator's SMSC) almost all take one HTTP request with the
number and text as query, form or JSON fields, and answer with a line of text. So a gateway is data
(`HttpSmsConfig`): where to send, which fields, and how to recognise success. Values may contain these
placeholders, filled per message in one pass (so a ``{to}`` inside the message text stays as typed):

- ``{to}``: the number as international digits (``8801711000000``; write ``+{to}`` if the provider wants +)
- ``{text}``: the message text
- ``{coding}``: Kannel's coding, ``0`` for GSM-7 and ``2`` for UCS-2 (Bangla must be sent as UCS-2)
- ``{unicode}``: ``1`` when the text needs UCS-2, else ``0`` (many providers' "type=unicode" switch)
- ``{ref}``: the message's ``reference`` (a client reference such as ``csms_id``: a provider that de-duplicates
  by it delivers a message sent twice, e.g. by a sender that died mid-send, once)

Success is HTTP 2xx and, when ``success_pattern`` is set, the pattern found in the body. A 2xx answer without
the pattern is a rejection (`GatewayRejected`), not a retry: providers answer "200 OK" with "ERROR: invalid
number" or "insufficient balance", and sending again would fail the same way, or worse, send twice if the
pattern was merely wrong. Configure the pattern from a real successful answer.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from ispb_notify import _http
from ispb_notify.gateways import (
    GatewayRejected,
    OutgoingMessage,
    SendResult,
)
from ispb_notify.http_client import HttpClient, HttpResponse
from ispb_notify.outbound import OutboundPolicy
from ispb_notify.segments import count_sms

__all__ = ("PRESETS", "HttpSmsConfig", "HttpSmsGateway", "Preset", "preset")

_PLACEHOLDER = re.compile(r"\{(to|text|coding|unicode|ref)\}")


@dataclass(frozen=True)
class HttpSmsConfig:
    """How to send one SMS over HTTP; see the module docstring for placeholders and the success rule."""

    url: str
    method: Literal["GET", "POST"] = "GET"
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: Mapping[str, object] | None = None
    form_body: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    success_pattern: str = ""
    message_id_pattern: str = ""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"the SMS gateway URL must start with http:// or https://, not {self.url!r}")
        if self.json_body is not None and self.form_body is not None:
            raise ValueError("an SMS gateway request has a JSON body or a form body, not both")
        if self.method == "GET" and (self.json_body is not None or self.form_body is not None):
            raise ValueError("a GET request has no body: put the fields in params, or use POST")
        for pattern in (self.success_pattern, self.message_id_pattern):
            re.compile(pattern)  # a typo in a pattern fails when the gateway is configured, not at send time


@dataclass(frozen=True)
class Preset:
    """A known provider shape: the values `preset` needs (``required``) and accepts (``optional``)."""

    name: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


def _kannel(values: Mapping[str, str]) -> HttpSmsConfig:
    url = values["url"]
    if urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + "/cgi-bin/sendsms"
    params = {"username": values["username"], "password": values["password"], "to": "{to}", "text": "{text}"}
    params |= {"charset": "UTF-8", "coding": "{coding}"}
    if values.get("sender"):
        params["from"] = values["sender"]
    # real Kannel answers "0: Accepted for delivery" or "Sent." without an id; "Accepted: <id>" carries one
    return HttpSmsConfig(url, params=params, success_pattern="Accepted|Sent", message_id_pattern=r"Accepted:\s*(\S+)")


def _generic_get(values: Mapping[str, str]) -> HttpSmsConfig:
    params = {"to": "{to}", "text": "{text}", "unicode": "{unicode}"}
    params |= {name: values[name] for name in ("api_key", "sender") if values.get(name)}
    return HttpSmsConfig(values["url"], params=params, success_pattern=values.get("success_pattern", ""))


def _generic_json_post(values: Mapping[str, str]) -> HttpSmsConfig:
    return HttpSmsConfig(
        values["url"],
        method="POST",
        json_body={"to": "{to}", "message": "{text}", "sender": values.get("sender", "")},
        headers={"Authorization": f"Bearer {values['token']}"},
        success_pattern=values.get("success_pattern", ""),
        message_id_pattern=values.get("message_id_pattern", ""),
    )


_BUILDERS: Mapping[str, tuple[Preset, Callable[[Mapping[str, str]], HttpSmsConfig]]] = {
    "kannel": (
        Preset("kannel", "Kannel sendsms (GET /cgi-bin/sendsms)", ("url", "username", "password"), ("sender",)),
        _kannel,
    ),
    "generic_get": (
        Preset(
            "generic_get",
            "GET url?to=&text=&unicode=[&api_key=&sender=]",
            ("url",),
            ("api_key", "sender", "success_pattern"),
        ),
        _generic_get,
    ),
    "generic_json_post": (
        Preset(
            "generic_json_post",
            'POST JSON {"to","message","sender"} with a bearer token',
            ("url", "token"),
            ("sender", "success_pattern", "message_id_pattern"),
        ),
        _generic_json_post,
    ),
}

PRESETS: Mapping[str, Preset] = MappingProxyType({name: entry[0] for name, entry in _BUILDERS.items()})


def preset(name: str, **values: str) -> HttpSmsConfig:
    """The `HttpSmsConfig` of a known provider shape, from the operator's settings.

    >>> config = preset("kannel", url="http://10.0.0.5:13013", username="ispb", password="s3cret")
    >>> config.url, config.params["coding"], config.success_pattern
    ('http://10.0.0.5:13013/cgi-bin/sendsms', '{coding}', 'Accepted|Sent')
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown SMS gateway preset {name!r}; known: {', '.join(_BUILDERS)}")
    shape, build = _BUILDERS[name]
    missing = [value for value in shape.required if not values.get(value)]
    unknown = sorted(set(values) - set(shape.required) - set(shape.optional))
    if missing or unknown:
        accepts = ", ".join(shape.optional) or "nothing else"
        raise ValueError(
            f"preset {name!r} needs {', '.join(shape.required)} and accepts {accepts}"
            f"; missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}"
        )
    return build(values)


class HttpSmsGateway(_http.UsesHttpClient):
    """Sends `OutgoingMessage` texts as configured by `HttpSmsConfig`; a `Gateway`.

    It uses the given `HttpClient` (then the caller closes it) or its own (closed by `aclose` or by leaving
    ``async with``), which connects where ``policy`` allows: public addresses only, unless the policy allows
    more (a Kannel on the operator's LAN). One gateway object serves any number of concurrent sends.
    """

    def __init__(
        self, config: HttpSmsConfig, client: HttpClient | None = None, *, policy: OutboundPolicy | None = None
    ) -> None:
        super().__init__(client, policy)
        self.config = config

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one SMS; raises `GatewayRejected`, `GatewayUnavailable` or `GatewayRateLimited`."""
        to = _http.recipient(message)
        response = await _http.request(
            self._client, "the SMS gateway", self.config.timeout, **self._request(to, message)
        )
        return self._result(response)

    def _request(self, to: str, message: OutgoingMessage) -> dict[str, Any]:
        text = message.text
        ucs2 = count_sms(text).encoding == "UCS-2"
        values = {"to": to, "text": text, "coding": "2" if ucs2 else "0", "unicode": "1" if ucs2 else "0"}
        values["ref"] = message.reference
        config = self.config
        arguments: dict[str, Any] = {
            "method": config.method,
            "url": config.url,
            "params": _fill(config.params, values),
            "headers": _fill(config.headers, values),
        }
        if config.json_body is not None:
            arguments["json_body"] = _fill(config.json_body, values)
        if config.form_body is not None:
            arguments["form"] = _fill(config.form_body, values)
        if config.basic_auth is not None:
            arguments["basic_auth"] = config.basic_auth
        return arguments

    def _result(self, response: HttpResponse) -> SendResult:
        raw, status = _http.raw_text(response), response.status
        if not 200 <= status < 300:
            raise _http.status_error(response, f"the SMS gateway answered HTTP {status}: {raw[:200]}")
        if self.config.success_pattern and not re.search(self.config.success_pattern, raw):
            raise GatewayRejected(f"the SMS gateway did not accept the message: {raw[:200]}", raw=raw)
        found = re.search(self.config.message_id_pattern, raw) if self.config.message_id_pattern else None
        return SendResult(found.group(1) if found and found.groups() else None, raw)


def _fill(template: Any, values: Mapping[str, str]) -> Any:  # JSON-shaped: str, list, dict, scalars
    """Placeholders replaced in every string, in one pass (a ``{to}`` typed inside the text is not replaced)."""
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda found: values[found.group(1)], template)
    if isinstance(template, Mapping):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list | tuple):
        return [_fill(item, values) for item in template]
    return template
