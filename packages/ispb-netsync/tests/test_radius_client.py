"""The Disconnect/CoA client against a small NAS on loopback that checks the request authenticator itself."""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import cast

import pytest

from ispb_netsync.radius import (
    Code,
    ErrorCause,
    NasUnreachable,
    Packet,
    attr,
    build_response,
    coa,
    decode,
    disconnect,
)

SECRET = "nas-s3cret"
Answer = Callable[[Packet, int], bytes | None]


class _Nas(asyncio.DatagramProtocol):
    """A NAS's RFC 5176 listener: verifies each request (independently of the library), answers with ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.answer, self.received, self.verified = answer, 0, []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1
        zeroed = data[:4] + bytes(16) + data[20:]
        self.verified.append(hashlib.md5(zeroed + SECRET.encode()).digest() == data[4:20])
        reply = self.answer(decode(data), self.received)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


@asynccontextmanager
async def nas(answer: Answer) -> AsyncIterator[tuple[int, _Nas]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: _Nas(answer), local_addr=("127.0.0.1", 0))
    try:
        yield transport.get_extra_info("sockname")[1], protocol
    finally:
        transport.close()


def _ack_if_session_known(request: Packet, _: int) -> bytes:
    if request.get("User-Name") == "rahim" and request.get("Acct-Session-Id") in (None, "81a00001"):
        code = Code.DISCONNECT_ACK if request.code is Code.DISCONNECT_REQUEST else Code.COA_ACK
        return build_response(code, request, SECRET.encode())
    code = Code.DISCONNECT_NAK if request.code is Code.DISCONNECT_REQUEST else Code.COA_NAK
    return build_response(code, request, SECRET.encode(), [attr("Error-Cause", 503)])


async def test_disconnect_of_a_live_session_is_acked():
    async with nas(_ack_if_session_known) as (port, peer):
        result = await disconnect(
            "127.0.0.1", port, SECRET, user_name="rahim", acct_session_id="81a00001", framed_ip="100.64.0.5"
        )
    assert result.acked
    assert result.error_cause is None
    assert peer.verified == [True]


async def test_disconnect_of_an_unknown_session_is_nakked_with_its_error_cause():
    async with nas(_ack_if_session_known) as (port, _):
        result = await disconnect("127.0.0.1", port, SECRET, user_name="nobody")
    assert not result.acked
    assert result.error_cause is ErrorCause.SESSION_CONTEXT_NOT_FOUND
    assert result.reply.code is Code.DISCONNECT_NAK


async def test_coa_carries_the_new_rate_limit():
    seen: list[object] = []

    def answer(request: Packet, n: int) -> bytes:
        seen.append(request.get("Mikrotik-Rate-Limit"))
        return _ack_if_session_known(request, n)

    async with nas(answer) as (port, peer):
        result = await coa("127.0.0.1", port, SECRET, user_name="rahim", attributes={"Mikrotik-Rate-Limit": "2M/2M"})
    assert result.acked
    assert seen == ["2M/2M"]
    assert peer.verified == [True]


async def test_a_lost_request_is_retransmitted_unchanged():
    async with nas(lambda request, n: None if n == 1 else _ack_if_session_known(request, n)) as (port, peer):
        result = await disconnect("127.0.0.1", port, SECRET, user_name="rahim", timeout=0.2, retries=2)
    assert result.acked
    assert peer.received == 2


async def test_answers_signed_with_another_secret_are_ignored():
    def forged(request: Packet, _: int) -> bytes:
        return build_response(Code.DISCONNECT_ACK, request, b"attacker")

    async with nas(forged) as (port, peer):
        with pytest.raises(NasUnreachable, match="after 2 attempts"):
            await disconnect("127.0.0.1", port, SECRET, user_name="rahim", timeout=0.1, retries=1)
    assert peer.received == 2


async def test_a_silent_nas_raises_nas_unreachable():
    async with nas(lambda request, n: None) as (port, _):
        with pytest.raises(NasUnreachable, match=r"127\.0\.0\.1"):
            await disconnect("127.0.0.1", port, SECRET, user_name="rahim", timeout=0.05, retries=0)
