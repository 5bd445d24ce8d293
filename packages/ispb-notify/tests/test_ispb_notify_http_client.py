"""`HttpClient` against a scripted HTTP server on 127.0.0.1: keep-alive, framing, limits, faults and TLS.

Each test's server answers every request with bytes the test chooses, so the client meets what real gateways
send: chunked bodies, answers that end with the connection, HTTP/1.0, interim 100s, garbage, silence.
"""

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ispb_notify import HttpClient, HttpProtocolError, HttpResponse, HttpTimeout, HttpTransportError, OutboundPolicy

LOCAL = OutboundPolicy.parse("127.0.0.1")  # the scripted servers listen on loopback

Reply = Callable[[bytes, int], Awaitable[bytes | None]]  # (request head and body, connection number) -> answer


def ok(body: bytes = b"Accepted", extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


class ScriptedServer:
    """Calls ``reply`` for every request; ``None`` closes the connection without answering."""

    def __init__(self, reply: Reply, ssl_context: ssl.SSLContext | None = None) -> None:
        self.reply = reply
        self.ssl_context = ssl_context
        self.requests: list[bytes] = []
        self.connections = 0
        self.open_now = 0
        self.most_open = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/send"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = await self.reply(request, number)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


async def test_keep_alive_reuses_one_connection_and_sends_a_proper_request() -> None:
    async def reply(request: bytes, number: int) -> bytes:
        return ok(f"Accepted: {number}".encode())

    async with ScriptedServer(reply) as server, HttpClient(policy=LOCAL) as client:
        first = await client.request("GET", server.url + "?user=isp", seconds=2, params={"text": "বিল ৫০০ & more"})
        second = await client.request(
            "POST", server.url, seconds=2, form={"to": "8801711000000"}, basic_auth=("u", "p")
        )
        third = await client.request("POST", server.url, seconds=2, json_body={"msg": "হ্যালো"}, headers={"X-Key": "k"})
    assert [r.text for r in (first, second, third)] == ["Accepted: 1"] * 3
    assert server.connections == 1
    get, form, json_post = server.requests
    assert get.startswith(b"GET /send?user=isp&text=%E0%A6%AC%E0%A6%BF%E0%A6%B2+%E0%A7%AB%E0%A7%A6%E0%A7%A6+%26+more ")
    assert b"\r\nHost: 127.0.0.1:" in get and b"Accept-Encoding: identity" in get and b"Content-Length" not in get
    assert b"User-Agent: ispb-notify/0." in get
    assert form.endswith(b"\r\n\r\nto=8801711000000") and b"Authorization: Basic dTpw\r\n" in form
    assert b"Content-Type: application/json" in json_post and b"X-Key: k" in json_post
    assert json_post.endswith('{"msg": "হ্যালো"}'.encode())


async def test_credentials_and_non_ascii_in_the_url_itself() -> None:
    async def reply(request: bytes, number: int) -> bytes:
        return ok()

    async with ScriptedServer(reply) as server, HttpClient(policy=LOCAL) as client:
        url = server.url.replace("http://", "http://isp%40net:s3cret@") + "?sender=ঢাকা&keep=%2B1"
        await client.request("GET", url, seconds=2)
    (request,) = server.requests
    assert request.startswith(b"GET /send?sender=%E0%A6%A2%E0%A6%BE%E0%A6%95%E0%A6%BE&keep=%2B1 HTTP/1.1\r\n")
    assert b"Authorization: Basic aXNwQG5ldDpzM2NyZXQ=\r\n" in request  # isp@net:s3cret
    assert b"s3cret" not in request.split(b"\r\n")[1]  # the Host header carries no credentials


async def test_chunked_answers_with_trailers_and_interim_100() -> None:
    async def reply(request: bytes, number: int) -> bytes:
        chunked = (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nAccep\r\n3\r\nted\r\n0\r\nX-T: 1\r\n\r\n"
        )
        return b"HTTP/1.1 100 Continue\r\n\r\n" + chunked

    async with ScriptedServer(reply) as server, HttpClient(policy=LOCAL) as client:
        answers = [await client.request("GET", server.url, seconds=2) for _ in range(2)]
    assert [(a.status, a.text) for a in answers] == [(200, "Accepted")] * 2
    assert server.connections == 1  # the chunked body was read to its end, so the connection was reusable


async def test_an_answer_ended_by_closing_the_connection_and_http_1_0_are_not_reused() -> None:
    served: list[bytes] = []

    async def answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nR\xe9sum\xe9")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(answer_then_close, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with HttpClient(policy=LOCAL) as client:
        answers = [await client.request("GET", f"http://127.0.0.1:{port}/", seconds=2) for _ in range(2)]
    listener.close()
    assert [a.text for a in answers] == ["Résumé", "Résumé"] and len(served) == 2

    async def http_1_0(request: bytes, number: int) -> bytes:
        return b"HTTP/1.0 202 Accepted\r\nContent-Length: 2\r\n\r\nok"

    async with ScriptedServer(http_1_0) as server, HttpClient(policy=LOCAL) as client:
        for _ in range(2):
            assert (await client.request("GET", server.url, seconds=2)).status == 202
    assert server.connections == 2  # HTTP/1.0 without "Connection: keep-alive" is one request per connection


async def test_a_connection_the_server_closed_while_idle_is_not_used() -> None:
    async def reply(request: bytes, number: int) -> bytes:
        return ok(extra="Connection: close\r\n")

    async with ScriptedServer(reply) as server, HttpClient(policy=LOCAL) as client:
        for _ in range(3):
            assert (await client.request("GET", server.url, seconds=2)).status == 200
    assert server.connections == 3

    async def keep(request: bytes, number: int) -> bytes:
        return ok()

    async with ScriptedServer(keep) as server, HttpClient(policy=LOCAL, keepalive_expiry=0.05) as client:
        await client.request("GET", server.url, seconds=2)
        await asyncio.sleep(0.1)  # longer idle than the expiry: a server may have timed it out
        await client.request("GET", server.url, seconds=2)
    assert server.connections == 2


async def test_limits_garbage_and_silence_are_typed_errors() -> None:
    answers = {
        "big": b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"x" * 2000,
        "garbage": b"SMTP ready\r\n\r\n",
        "bad length": b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
        "no header colon": b"HTTP/1.1 200 OK\r\nBroken header\r\n\r\n",
        # lengths two parsers could read differently (response smuggling): refused, never guessed
        "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokay",
        "a list of lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
        "signed length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
        "length and chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "gzip last": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nok",
        "0x chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
        "folded header": b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok",
        "space before colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
        "signed status": b"HTTP/1.1 +20 OK\r\nContent-Length: 2\r\n\r\nok",
        "too many headers": b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"Content-Length: 2\r\n\r\nok",
    }
    for name, answer in answers.items():

        async def reply(request: bytes, number: int, answer: bytes = answer) -> bytes:
            return answer

        async with ScriptedServer(reply) as server, HttpClient(policy=LOCAL, max_body=1000) as client:
            with pytest.raises(HttpProtocolError):
                await client.request("GET", server.url, seconds=2)
        assert server.requests, name

    async def silent(request: bytes, number: int) -> bytes:
        await asyncio.sleep(5)
        return ok()

    async def hang_up(request: bytes, number: int) -> None:
        return None

    async with ScriptedServer(silent) as server, HttpClient(policy=LOCAL) as client:
        with pytest.raises(HttpTimeout, match=r"no answer within 0\.2 s"):
            await client.request("GET", server.url, seconds=0.2)
    async with ScriptedServer(hang_up) as server, HttpClient(policy=LOCAL) as client:
        with pytest.raises(HttpTransportError, match="closed the connection"):
            await client.request("GET", server.url, seconds=2)
    async with HttpClient(policy=LOCAL) as client:
        listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        listener.close()
        await listener.wait_closed()
        with pytest.raises(HttpTransportError, match="cannot connect"):
            await client.request("GET", f"http://127.0.0.1:{port}/", seconds=2)


async def test_a_timed_out_connection_is_never_reused() -> None:
    async def slow_first(request: bytes, number: int) -> bytes:
        if number == 1:
            await asyncio.sleep(0.5)  # the late answer must not be read as the next request's answer
            return ok(b"late")
        return ok(b"fresh")

    async with ScriptedServer(slow_first) as server, HttpClient(policy=LOCAL) as client:
        with pytest.raises(HttpTimeout):
            await client.request("GET", server.url, seconds=0.1)
        assert (await client.request("GET", server.url, seconds=2)).text == "fresh"


async def test_at_most_max_connections_per_origin() -> None:
    async def reply(request: bytes, number: int) -> bytes:
        await asyncio.sleep(0.02)
        return ok()

    async with ScriptedServer(reply) as server, HttpClient(policy=LOCAL, max_connections=3) as client:
        await asyncio.gather(*(client.request("GET", server.url, seconds=5) for _ in range(20)))
    assert server.most_open <= 3 and server.connections == 3 and len(server.requests) == 20


async def test_requests_that_cannot_be_written_are_refused_before_connecting() -> None:
    async with HttpClient(policy=LOCAL) as client:
        with pytest.raises(ValueError, match="header"):
            await client.request("GET", "http://127.0.0.1:9/", seconds=1, headers={"X": "a\r\nInjected: 1"})
        with pytest.raises(ValueError, match="http"):
            await client.request("GET", "ftp://127.0.0.1/", seconds=1)
        for method in ("GET /admin HTTP/1.1\r\nX:", "GET ", "", "PO ST"):
            with pytest.raises(ValueError, match="method"):
                await client.request(method, "http://127.0.0.1:9/", seconds=1)
    with pytest.raises(RuntimeError, match="closed"):
        await client.request("GET", "http://127.0.0.1:9/", seconds=1)


# A copy of tests/peers/certificates.py: these tests also run alone, without the repository (test_library_isolation).
@pytest.fixture(name="certificate")
def fx_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a gateway on an operator's LAN may have; (key, cert)."""
    if shutil.which("openssl") is None:
        pytest.fail("the TLS test needs the openssl command to make a certificate (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return key, cert


async def test_https_verifies_the_certificate(certificate: tuple[Path, Path]) -> None:
    key, cert = certificate
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)

    async def reply(request: bytes, number: int) -> bytes:
        return ok(b"secure")

    async with ScriptedServer(reply, ssl_context=server_side) as server:
        async with HttpClient(policy=LOCAL) as client:
            with pytest.raises(HttpTransportError, match=r"TLS|certificate"):
                await client.request("GET", server.url, seconds=5)  # the system CAs do not know it
        async with HttpClient(policy=LOCAL, ssl_context=ssl.create_default_context(cafile=str(cert))) as client:
            answers = [await client.request("GET", server.url, seconds=5) for _ in range(2)]
    assert [a.text for a in answers] == ["secure", "secure"]
    assert server.connections == 1  # both over one kept-alive TLS connection (the refused handshake never opened one)


# Whatever a server answers: a response or a typed error, and never a response for an ambiguous length.

_LINES = st.sampled_from(
    [
        b"Content-Length: 2\r\n",
        b"Content-Length: 3\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 2, 3\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Connection: close\r\n",
        b"X-A: \x00\x7f\xff\r\n",
        b" folded\r\n",
        b"Bad Header\r\n",
    ]
)
_ANSWERS = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda status, lines, body: b"HTTP/1.1 " + status + b"\r\n" + b"".join(lines) + b"\r\n" + body,
        st.sampled_from([b"200 OK", b"204 No Content", b"100 Continue", b"999 X", b"20 OK", b"200"]),
        st.lists(_LINES, max_size=4),
        st.sampled_from([b"", b"ok", b"2\r\nok\r\n0\r\n\r\n", b"zz\r\n", b"okay"]),
    ),
)


async def _answered(answer: bytes) -> HttpResponse | HttpTransportError:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()  # an answer without an end is ended by the connection

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, HttpClient(policy=LOCAL) as client:
        try:
            return await client.request("GET", f"http://127.0.0.1:{port}/", seconds=2)
        except HttpTransportError as error:  # HttpTimeout and HttpProtocolError are transport errors too
            return error


@settings(max_examples=200, deadline=None)
@given(_ANSWERS)
def test_any_answer_is_a_response_or_a_typed_error(answer: bytes) -> None:
    outcome = asyncio.run(_answered(answer))
    assert not isinstance(outcome, HttpTimeout)  # the server closed the connection: no waiting for the deadline
    head = answer.partition(b"\r\n\r\n")[0].lower()
    if isinstance(outcome, HttpResponse):
        assert 100 <= outcome.status <= 999
        lengths = {line for line in head.split(b"\r\n") if line.startswith(b"content-length")}
        assert len(lengths) <= 1 and b"," not in b"".join(lengths), "an ambiguous length was taken as an answer"
        assert not (lengths and b"transfer-encoding" in head), "Content-Length with Transfer-Encoding was accepted"
