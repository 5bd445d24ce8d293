"""`OutboundPolicy`: a URL an operator typed reaches no loopback, private, link-local or metadata address.

Seen before the policy existed: an operator's "test message" to ``http://127.0.0.1:6379/`` reached the
platform's Redis. Each test listens on loopback for real and counts the connections that arrive.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_notify import (
    Allowance,
    GatewayRejected,
    HttpClient,
    HttpSmsGateway,
    OutboundPolicy,
    OutboundRefused,
    OutgoingMessage,
    preset,
)


class Listener:
    """A loopback TCP server that answers HTTP 200 and counts connections (a Redis would be one)."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0


@asynccontextmanager
async def listening() -> AsyncIterator[Listener]:
    listener = Listener()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nAccepted: 1")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    async with server:
        yield listener


async def test_a_test_message_to_a_loopback_port_never_connects() -> None:
    """The Redis case: the default policy refuses 127.0.0.1 before any connection, with the operator's words."""
    async with listening() as redis, HttpClient() as client:
        with pytest.raises(OutboundRefused) as refused:
            await client.request("POST", f"http://127.0.0.1:{redis.port}/", seconds=2)
    assert redis.connections == 0
    assert str(refused.value) == (
        "127.0.0.1 is a loopback address (this server itself); ask your platform administrator to allow it"
    )


async def test_a_name_is_checked_after_resolution() -> None:
    async with listening() as local, HttpClient() as client:
        with pytest.raises(OutboundRefused, match=r"localhost resolves to (127\.0\.0\.1|::1), a loopback address"):
            await client.request("GET", f"http://localhost:{local.port}/", seconds=2)
    assert local.connections == 0


async def test_a_gateway_answers_a_refused_address_as_rejected_not_retried() -> None:
    async with (
        listening() as redis,
        HttpSmsGateway(preset("generic_get", url=f"http://127.0.0.1:{redis.port}")) as sms,
    ):
        with pytest.raises(GatewayRejected, match=r"address is not allowed: 127\.0\.0\.1 is a loopback"):
            await sms.send(OutgoingMessage("01711000000", "hi"))
    assert redis.connections == 0


async def test_allowed_by_the_administrator_on_that_port_only() -> None:
    async with listening() as sink, listening() as other:
        policy = OutboundPolicy.parse(f"127.0.0.1:{sink.port}")
        async with HttpClient(policy=policy) as client:
            answer = await client.request("GET", f"http://127.0.0.1:{sink.port}/send", seconds=2)
            with pytest.raises(OutboundRefused):
                await client.request("GET", f"http://127.0.0.1:{other.port}/send", seconds=2)
    assert (answer.status, sink.connections, other.connections) == (200, 1, 0)


async def test_an_allowed_host_name_connects_to_the_checked_address_with_the_name_in_host() -> None:
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK")
        writer.close()

    # listen where the name leads on this machine (127.0.0.1, or ::1 where localhost is IPv6 first)
    first = (await asyncio.get_running_loop().getaddrinfo("localhost", 0, type=socket.SOCK_STREAM))[0][4][0]
    server = await asyncio.start_server(serve, first, 0)
    port = server.sockets[0].getsockname()[1]
    async with server, HttpClient(policy=OutboundPolicy.parse("localhost")) as client:
        answer = await client.request("GET", f"http://localhost:{port}/", seconds=2)
    assert answer.status == 200
    assert f"Host: localhost:{port}".encode() in seen[0]


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private network"),
        ("172.16.0.9", "private network"),
        ("192.168.88.1", "private network"),
        ("100.64.0.1", "private network"),
        ("fd00::1", "private network"),
        ("169.254.169.254", "link-local address (such as the cloud metadata service)"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 to 127.0.0.1
        ("2002:a00:1::1", "private network"),  # 6to4 from 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused_with_a_reason(address: str, words: str) -> None:
    reason = OutboundPolicy().refusal(address, address, 80)
    assert reason is not None and reason.startswith(f"{address} is ") and words in reason, reason


@pytest.mark.parametrize("address", ["8.8.8.8", "103.4.145.2", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert OutboundPolicy().refusal(address, address, 443) is None


def test_the_allow_list_parses_addresses_networks_names_and_ports() -> None:
    policy = OutboundPolicy.parse("10.20.0.0/16, kannel.lan:13013\n[fd00::5]:8080 192.168.1.10")
    assert [str(a) for a in policy.allow] == ["10.20.0.0/16", "kannel.lan:13013", "[fd00::5]:8080", "192.168.1.10"]
    assert policy.refusal("10.20.9.9", "10.20.9.9", 1) is None
    assert policy.refusal("10.21.0.1", "10.21.0.1", 1) is not None
    assert policy.refusal("Kannel.LAN.", "10.9.9.9", 13013) is None  # the name the administrator allowed
    assert policy.refusal("kannel.lan", "10.9.9.9", 80) is not None  # on its port only
    assert policy.refusal("fd00::5", "fd00::5", 8080) is None
    assert OutboundPolicy.parse(" ") == OutboundPolicy()


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("10.0.0.1/8", "has host bits set"),
        ("999.1.1.1", "does not appear to be"),
        ("kannel.lan:0", "bad port"),
        ("kannel.lan:http", "bad port"),
        ("under_score.lan", "not an address, a network"),
        ("http://kannel.lan", "without a scheme"),
    ],
)
def test_a_bad_allow_list_entry_is_named(entry: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as refused:
        OutboundPolicy.parse(f"10.0.0.0/8, {entry}")
    assert entry.split("/")[0].split(":")[0] in str(refused.value)


@given(st.ip_addresses())
def test_every_address_is_either_public_or_refused_and_allowing_it_admits_it(address: object) -> None:
    text = str(address)
    parsed = ip_address(text)
    target: IPv4Address | IPv6Address = parsed
    if isinstance(parsed, IPv6Address):  # where the packets end up: mapped, NAT64 and 6to4 carry an IPv4 address
        nat64 = IPv4Address(int(parsed) & 0xFFFFFFFF) if parsed in ip_network("64:ff9b::/96") else None
        target = nat64 or parsed.ipv4_mapped or parsed.sixtofour or parsed
    refused = OutboundPolicy().refusal(text, text, 80)
    if refused is None:  # public: where the packets go is a global unicast address
        assert target.is_global and not target.is_multicast and not target.is_reserved
    elif target is parsed:
        assert not parsed.is_global or parsed.is_multicast or parsed.is_reserved
    assert OutboundPolicy().allowing(text).refusal(text, text, 80) is None
    assert OutboundPolicy((Allowance.of(text, 81),)).refusal(text, text, 80) == refused


async def test_check_url_refuses_a_private_gateway_url_and_lets_an_unknown_name_pass() -> None:
    with pytest.raises(OutboundRefused, match=r"169\.254\.169\.254 is a link-local"):
        await OutboundPolicy().check_url("http://169.254.169.254/latest/meta-data/")
    await OutboundPolicy().check_url("http://no-such-host.invalid/send")  # sending will say it is unknown


async def test_resolution_failure_is_not_a_refusal() -> None:
    with pytest.raises(socket.gaierror):
        await OutboundPolicy().resolve("no-such-host.invalid", 80)
