"""The HTTP SMS and WhatsApp gateways against a tiny HTTP/1.1 server started by each test on 127.0.0.1.

The server is here, not in the repository's peers, because these tests run with only the library installed.
"""

import asyncio
import json
import socket
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlsplit

import pytest

from ispb_notify import (
    PRESETS,
    Channel,
    Gateway,
    GatewayRateLimited,
    GatewayRejected,
    GatewayUnavailable,
    HttpClient,
    HttpSmsConfig,
    HttpSmsGateway,
    InvalidPhoneNumber,
    OutboundPolicy,
    OutgoingMessage,
    SendResult,
    WhatsAppCloudGateway,
    WhatsAppConfig,
    normalise_msisdn,
    preset,
)

LOCAL = OutboundPolicy.parse("127.0.0.1")  # the tiny servers listen on loopback
BANGLA = "প্রিয় গ্রাহক, আপনার বিল ৫০০ টাকা"


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    stall: bool = False  # never answer: the client times out


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class TinyServer:
    """Answers requests with ``answers`` in order (the last one repeats) and keeps what it saw."""

    answers: list[Answer]
    seen: list[Seen] = field(default_factory=list)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._release.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            request = await self._read(reader)
            if request is not None:
                self.seen.append(request)
                await self._answer(writer, self.answers[min(len(self.seen), len(self.answers)) - 1])
        finally:
            writer.close()
            await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> Seen | None:
        line = await reader.readline()
        if not line:
            return None
        method, target, _ = line.decode().split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        parts = urlsplit(target)
        return Seen(method, parts.path, dict(parse_qsl(parts.query)), headers, body)

    async def _answer(self, writer: asyncio.StreamWriter, answer: Answer) -> None:
        if answer.stall:
            await self._release.wait()
            return
        body = answer.body.encode()
        head = [f"HTTP/1.1 {answer.status} X", f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in answer.headers]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def send_sms(config: HttpSmsConfig, message: OutgoingMessage) -> SendResult:
    async with HttpSmsGateway(config, policy=LOCAL) as gateway:
        return await gateway.send(message)


# HTTP SMS


async def test_kannel_preset_sends_bangla_as_ucs2_and_reads_the_id() -> None:
    async with TinyServer([Answer(202, "Accepted: sms-17")]) as server:
        config = preset("kannel", url=server.url, username="ispb", password="s3cret", sender="DhakaNet")
        result = await send_sms(config, OutgoingMessage("01711-000000", BANGLA))
    assert result == SendResult("sms-17", "Accepted: sms-17")
    [request] = server.seen
    assert (request.method, request.path) == ("GET", "/cgi-bin/sendsms")
    assert request.query == {
        "username": "ispb",
        "password": "s3cret",
        "to": "8801711000000",
        "text": BANGLA,
        "charset": "UTF-8",
        "coding": "2",
        "from": "DhakaNet",
    }


async def test_kannel_plain_answer_without_id_is_success() -> None:
    async with TinyServer([Answer(202, "0: Accepted for delivery")]) as server:
        config = preset("kannel", url=server.url, username="u", password="p")
        result = await send_sms(config, OutgoingMessage("+8801711000000", "Hello"))
    assert result.provider_message_id is None
    assert server.seen[0].query["coding"] == "0"


async def test_json_post_preset_sends_bearer_token_and_json() -> None:
    async with TinyServer([Answer(200, '{"status": "ok", "id": "m-9"}')]) as server:
        config = preset(
            "generic_json_post",
            url=server.url + "/api/sms",
            token="tok",
            sender="ISP",
            success_pattern='"ok"',
            message_id_pattern=r'"id": "([^"]+)"',
        )
        result = await send_sms(config, OutgoingMessage("01711000000", "Bill {to} {text} due"))
    assert result.provider_message_id == "m-9"
    [request] = server.seen
    assert (request.method, request.path, request.headers["authorization"]) == ("POST", "/api/sms", "Bearer tok")
    # placeholders typed by the customer or operator inside the text are left alone
    assert request.json() == {"to": "8801711000000", "message": "Bill {to} {text} due", "sender": "ISP"}


async def test_form_post_with_basic_auth_and_headers() -> None:
    async with TinyServer([Answer(200, "OK")]) as server:
        config = HttpSmsConfig(
            server.url + "/send",
            method="POST",
            form_body={"number": "+{to}", "msg": "{text}", "type": "{unicode}"},
            headers={"X-Client": "ispb"},
            basic_auth=("user", "pw"),
        )
        await send_sms(config, OutgoingMessage("01711000000", BANGLA))
    [request] = server.seen
    assert request.form() == {"number": "+8801711000000", "msg": BANGLA, "type": "1"}
    assert request.headers["x-client"] == "ispb"
    assert request.headers["authorization"].startswith("Basic ")


async def test_ok_answer_without_the_success_pattern_is_a_rejection() -> None:
    async with TinyServer([Answer(200, "ERROR: 1003 insufficient balance")]) as server:
        config = preset("generic_get", url=server.url, api_key="k", success_pattern="^SUCCESS")
        with pytest.raises(GatewayRejected, match="insufficient balance") as caught:
            await send_sms(config, OutgoingMessage("01711000000", "Hello"))
    assert caught.value.retryable is False
    assert caught.value.raw == "ERROR: 1003 insufficient balance"


@pytest.mark.parametrize(
    ("answer", "error", "retryable"),
    [
        (Answer(500, "boom"), GatewayUnavailable, True),
        (Answer(503, "maintenance"), GatewayUnavailable, True),
        (Answer(408, "slow"), GatewayUnavailable, True),
        (Answer(401, "bad credentials"), GatewayRejected, False),
        (Answer(400, "invalid number"), GatewayRejected, False),
        (Answer(429, "slow down", (("Retry-After", "7"),)), GatewayRateLimited, True),
    ],
)
async def test_http_status_maps_to_a_typed_error(answer: Answer, error: type[Exception], retryable: bool) -> None:
    async with TinyServer([answer]) as server:
        with pytest.raises(error) as caught:
            await send_sms(preset("generic_get", url=server.url), OutgoingMessage("01711000000", "Hi"))
    assert getattr(caught.value, "retryable", None) is retryable
    assert str(answer.status) in str(caught.value)
    if isinstance(caught.value, GatewayRateLimited):
        assert caught.value.retry_after == 7.0


async def test_stalled_gateway_times_out_as_unavailable() -> None:
    async with TinyServer([Answer(stall=True)]) as server:
        config = HttpSmsConfig(server.url, params={"to": "{to}"}, timeout=0.2)
        with pytest.raises(GatewayUnavailable, match=r"did not answer within 0\.2 s"):
            await send_sms(config, OutgoingMessage("01711000000", "Hi"))


async def test_refused_connection_is_unavailable() -> None:
    config = HttpSmsConfig(f"http://127.0.0.1:{closed_port()}/send", timeout=2)
    with pytest.raises(GatewayUnavailable, match="unreachable"):
        await send_sms(config, OutgoingMessage("01711000000", "Hi"))


async def test_bad_number_is_rejected_before_any_request() -> None:
    async with TinyServer([Answer(200, "OK")]) as server:
        with pytest.raises(GatewayRejected, match="not a phone number"):
            await send_sms(preset("generic_get", url=server.url), OutgoingMessage("call me", "Hi"))
    assert server.seen == []


async def test_a_passed_in_client_is_left_open_for_its_owner() -> None:
    async with TinyServer([Answer(200, "OK")]) as server, HttpClient(policy=LOCAL) as client:
        gateway: Gateway = HttpSmsGateway(preset("generic_get", url=server.url), client)
        await gateway.send(OutgoingMessage("01711000000", "one"))
        assert isinstance(gateway, HttpSmsGateway)
        await gateway.aclose()
        await HttpSmsGateway(preset("generic_get", url=server.url), client).send(OutgoingMessage("01711000000", "two"))
    assert [seen.query["text"] for seen in server.seen] == ["one", "two"]


async def test_the_reference_fills_ref_for_de_duplicating_gateways() -> None:
    async with TinyServer([Answer(200, "OK")]) as server:
        config = HttpSmsConfig(server.url, params={"to": "{to}", "text": "{text}", "csms_id": "{ref}"})
        await send_sms(config, OutgoingMessage("01711000000", "a {ref} typed", reference="due:17:-3"))
    assert server.seen[0].query == {"to": "8801711000000", "text": "a {ref} typed", "csms_id": "due:17:-3"}


def test_preset_names_what_is_missing_and_unknown() -> None:
    assert set(PRESETS) == {"kannel", "generic_get", "generic_json_post"}
    with pytest.raises(ValueError, match="missing: password; unknown: colour"):
        preset("kannel", url="http://k", username="u", colour="red")
    with pytest.raises(ValueError, match="unknown SMS gateway preset 'twilio'"):
        preset("twilio")


def test_config_refuses_inconsistent_settings() -> None:
    with pytest.raises(ValueError, match="GET request has no body"):
        HttpSmsConfig("http://k", json_body={"to": "{to}"})
    with pytest.raises(ValueError, match="not both"):
        HttpSmsConfig("http://k", method="POST", json_body={}, form_body={})
    with pytest.raises(ValueError, match="http"):
        HttpSmsConfig("k/send")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+8801711000000", "8801711000000"),
        ("01711000000", "8801711000000"),
        ("8801711000000", "8801711000000"),
        ("1711000000", "8801711000000"),
        ("(017) 11-000.000", "8801711000000"),
        ("০১৭১১০০০০০০", "8801711000000"),
        ("00447911123456", "447911123456"),
        ("+1 415 555 0100", "14155550100"),
    ],
)
def test_phone_numbers_are_normalised(typed: str, expected: str) -> None:
    assert normalise_msisdn(typed) == expected


@pytest.mark.parametrize("typed", ["", "+", "abc", "017-abc", "+12", "+1234567890123456"])
def test_non_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_msisdn(typed)


# WhatsApp Cloud API


def whatsapp_config(url: str) -> WhatsAppConfig:
    return WhatsAppConfig(phone_number_id="1055", access_token="EAAG-token", base_url=url + "/v20.0", timeout=2)


def graph_error(code: int, message: str) -> str:
    return json.dumps({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}})


async def test_whatsapp_text_message() -> None:
    async with (
        TinyServer([Answer(200, '{"messages": [{"id": "wamid.HBg1"}]}')]) as server,
        WhatsAppCloudGateway(whatsapp_config(server.url), policy=LOCAL) as gateway,
    ):
        result = await gateway.send(OutgoingMessage("01711000000", BANGLA, channel=Channel.WHATSAPP))
    assert result.provider_message_id == "wamid.HBg1"
    [request] = server.seen
    assert (request.method, request.path) == ("POST", "/v20.0/1055/messages")
    assert request.headers["authorization"] == "Bearer EAAG-token"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "8801711000000",
        "type": "text",
        "text": {"body": BANGLA},
    }


async def test_whatsapp_template_message() -> None:
    async with (
        TinyServer([Answer(200, '{"messages": [{"id": "wamid.T"}]}')]) as server,
        WhatsAppCloudGateway(whatsapp_config(server.url), policy=LOCAL) as gateway,
    ):
        message = OutgoingMessage(
            "01711000000",
            "fallback text",
            Channel.WHATSAPP,
            template_name="bill_due",
            template_language="bn",
            template_params=("রহিম", "৳500"),
        )
        await gateway.send(message)
    assert server.seen[0].json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "8801711000000",
        "type": "template",
        "template": {
            "name": "bill_due",
            "language": {"code": "bn"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "রহিম"}, {"type": "text", "text": "৳500"}]}
            ],
        },
    }


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (
            Answer(400, graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit")),
            GatewayRateLimited,
            "pair rate limit",
        ),
        (
            Answer(429, graph_error(130429, "Rate limit hit"), (("Retry-After", "30"),)),
            GatewayRateLimited,
            "Rate limit",
        ),
        (Answer(401, graph_error(190, "Error validating access token")), GatewayRejected, "access token"),
        (Answer(400, graph_error(131026, "Message undeliverable")), GatewayRejected, "code 131026"),
        (Answer(500, graph_error(131000, "Something went wrong")), GatewayUnavailable, "went wrong"),
        (Answer(502, "<html>Bad gateway</html>"), GatewayUnavailable, "Bad gateway"),
    ],
)
async def test_whatsapp_graph_errors_map_to_typed_errors(answer: Answer, error: type[Exception], words: str) -> None:
    async with (
        TinyServer([answer]) as server,
        WhatsAppCloudGateway(whatsapp_config(server.url), policy=LOCAL) as gateway,
    ):
        with pytest.raises(error, match=words) as caught:
            await gateway.send(OutgoingMessage("01711000000", "Hi", Channel.WHATSAPP))
    if answer.status == 429:
        assert isinstance(caught.value, GatewayRateLimited)
        assert caught.value.retry_after == 30.0


async def test_whatsapp_timeout_is_unavailable() -> None:
    async with TinyServer([Answer(stall=True)]) as server:
        config = WhatsAppConfig("1055", "t", base_url=server.url, timeout=0.2)
        async with WhatsAppCloudGateway(config, policy=LOCAL) as gateway:
            with pytest.raises(GatewayUnavailable, match="WhatsApp did not answer"):
                await gateway.send(OutgoingMessage("01711000000", "Hi"))


def test_whatsapp_config_keeps_the_token_out_of_its_repr() -> None:
    assert "EAAG" not in repr(whatsapp_config("http://x"))
