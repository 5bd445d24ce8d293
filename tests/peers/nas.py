"""A router's RADIUS dynamic-authorization port (RFC 5176) for tests: checks each request's authenticator with
the NAS secret, records it, and answers CoA-ACK to a CoA-Request and Disconnect-ACK to a Disconnect-Request.

    async with nas_listener("127.0.0.4", "nas-secret") as (port, nas):
        ...  # a router row with nas_address 127.0.0.4, coa_port=port
        [request] = nas.requests
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from ispb_netsync.radius import Code, Packet, build_response, decode


class NasListener(asyncio.DatagramProtocol):
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.requests: list[Packet] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        zeroed = data[:4] + bytes(16) + data[20:]
        if hashlib.md5(zeroed + self.secret).digest() != data[4:20]:
            return  # a wrong secret gets no answer, as on a router
        request = decode(data)
        self.requests.append(request)
        answer = Code.COA_ACK if request.code == Code.COA_REQUEST else Code.DISCONNECT_ACK
        if self.transport is not None:
            self.transport.sendto(build_response(answer, request, self.secret), addr)


@asynccontextmanager
async def nas_listener(address: str, secret: str) -> AsyncIterator[tuple[int, NasListener]]:
    """A listener on ``address`` (a free UDP port); yields (port, listener)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: NasListener(secret), local_addr=(address, 0))
    try:
        yield transport.get_extra_info("sockname")[1], protocol
    finally:
        transport.close()
