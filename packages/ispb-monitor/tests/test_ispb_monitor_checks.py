"""Each check against a real local server started here, switched off and on (these tests run with only the
library installed, so the servers are small ones of their own: asyncio HTTP and TCP listeners, a dnspython
name server, a RADIUS server built with ispb-netsync's packets, ispb-netsync's RouterOS simulator)."""

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import dns.message
import dns.rrset
import pytest

from ispb_monitor.checks import (
    DnsCheck,
    HttpCheck,
    PingCheck,
    RadiusCheck,
    RouterOsCheck,
    Status,
    TcpCheck,
    check_dns,
    check_http,
    check_ping,
    check_radius,
    check_routeros,
    check_tcp,
    run_check,
    unprivileged_ping_allowed,
)
from ispb_notify import OutboundPolicy

LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")


@contextlib.asynccontextmanager
async def http_server(
    status: int = 200, body: bytes = b"All systems operational", delay: float = 0.0, tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            while await reader.readline() not in (b"\r\n", b""):
                pass
            await asyncio.sleep(delay)
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_http_up_down_and_body() -> None:
    async with http_server() as port:
        url = f"http://127.0.0.1:{port}/health"
        result = await check_http(HttpCheck(url), policy=LOOPBACK)
        assert result.status is Status.UP and result.latency_ms is not None and "200" in result.message
        missing = await check_http(HttpCheck(url, body_contains="maintenance"), policy=LOOPBACK)
        assert missing.status is Status.DOWN and "does not contain" in missing.message
    async with http_server(status=503) as port:
        failing = await check_http(HttpCheck(f"http://127.0.0.1:{port}/"), policy=LOOPBACK)
        assert failing.status is Status.DOWN and "503" in failing.message
    # the server is gone: the same URL is down, saying the connection failed
    gone = await check_http(HttpCheck(f"http://127.0.0.1:{port}/"), policy=LOOPBACK)
    assert gone.status is Status.DOWN and "connect" in gone.message


async def test_http_obeys_the_outbound_policy_and_its_timeout() -> None:
    async with http_server(delay=2) as port:
        refused = await check_http(HttpCheck(f"http://127.0.0.1:{port}/"))
        assert refused.status is Status.DOWN and "loopback" in refused.message
        slow = await check_http(HttpCheck(f"http://127.0.0.1:{port}/", timeout=0.3), policy=LOOPBACK)
        assert slow.status is Status.DOWN and "0.3 s" in slow.message
    assert (await check_http(HttpCheck("ftp://example.net/"))).status is Status.DOWN


def _certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests need the openssl command (apt-get install openssl)")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "5", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return key, cert


async def test_https_certificate_days_left(tmp_path: Path) -> None:
    key, cert = _certificate(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    async with http_server(tls=server) as port:
        url = f"https://127.0.0.1:{port}/"
        soon = await check_http(HttpCheck(url), policy=LOOPBACK, ssl_context=trusting)
        assert soon.status is Status.DEGRADED and "valid 4 more days" in soon.message
        fine = await check_http(HttpCheck(url, certificate_warn_days=3), policy=LOOPBACK, ssl_context=trusting)
        assert fine.status is Status.UP
        untrusted = await check_http(HttpCheck(url), policy=LOOPBACK)  # the system's CAs do not know it
        assert untrusted.status is Status.DOWN and "TLS" in untrusted.message


async def test_tcp_switched_off_and_on() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    up = await check_tcp(TcpCheck("127.0.0.1", port), policy=LOOPBACK)
    assert up.status is Status.UP and up.latency_ms is not None
    server.close()
    await server.wait_closed()
    down = await check_tcp(TcpCheck("127.0.0.1", port), policy=LOOPBACK)
    assert down.status is Status.DOWN and "refused" in down.message
    assert (await check_tcp(TcpCheck("127.0.0.1", port))).message.startswith("127.0.0.1 is a loopback")
    assert (await check_tcp(TcpCheck("127.0.0.1", 0), policy=LOOPBACK)).status is Status.DOWN


def _may_ping() -> bool:
    """Whether this process may send echo requests: its group is in ``ping_group_range`` or it holds
    CAP_NET_RAW (bit 13 of the effective capabilities)."""
    status = Path("/proc/self/status").read_text()
    effective = int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), 16)
    return unprivileged_ping_allowed(os.getegid()) or bool(effective & (1 << 13))


async def test_ping_loopback() -> None:
    result = await check_ping(PingCheck("127.0.0.1", count=2, interval=0.05), policy=LOOPBACK)
    # decided by what this process may do, so that neither answer can hide the other
    if _may_ping():
        assert result.status is Status.UP and "2/2 replies" in result.message, result.message
    else:
        assert result.status is Status.DOWN and "ping_group_range" in result.message, result.message
    refused = await check_ping(PingCheck("127.0.0.1"))
    assert refused.status is Status.DOWN and "loopback" in refused.message


def test_ping_group_range(tmp_path: Path) -> None:
    ranges = tmp_path / "range"
    ranges.write_text("1\t0\n")  # Linux's default: nobody
    assert not unprivileged_ping_allowed(0, ranges)
    ranges.write_text("0\t2147483647\n")
    assert unprivileged_ping_allowed(1000, ranges)
    assert not unprivileged_ping_allowed(0, tmp_path / "absent")


class _NameServer(asyncio.DatagramProtocol):
    def __init__(self, records: dict[str, str]) -> None:
        self.records = records
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        name = query.question[0].name.to_text().rstrip(".")
        if name in self.records:
            response.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "A", self.records[name]))
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


async def test_dns_through_a_given_server() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _NameServer({"portal.isp.example": "203.0.113.7"}), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        base = DnsCheck("portal.isp.example", server="127.0.0.1", port=port, timeout=2)
        assert (await check_dns(base, policy=LOOPBACK)).status is Status.UP
        expected = DnsCheck("portal.isp.example", server="127.0.0.1", port=port, expect=frozenset({"203.0.113.7"}))
        assert (await check_dns(expected, policy=LOOPBACK)).status is Status.UP
        other = DnsCheck("portal.isp.example", server="127.0.0.1", port=port, expect=frozenset({"198.51.100.1"}))
        wrong = await check_dns(other, policy=LOOPBACK)
        assert wrong.status is Status.DOWN and "203.0.113.7" in wrong.message
        unknown = await check_dns(DnsCheck("nope.isp.example", server="127.0.0.1", port=port), policy=LOOPBACK)
        assert unknown.status is Status.DOWN and "NXDOMAIN" in unknown.message
        assert "loopback" in (await check_dns(base)).message  # the server address obeys the policy
    finally:
        transport.close()
    silent = await check_dns(
        DnsCheck("portal.isp.example", server="127.0.0.1", port=port, timeout=0.5), policy=LOOPBACK
    )
    assert silent.status is Status.DOWN


class _RadiusServer(asyncio.DatagramProtocol):
    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        from ispb_netsync.radius.packet import Code, build_response, decode, verify_request

        request = decode(data)
        if request.code is Code.STATUS_SERVER and verify_request(data, self.secret) and self.transport:
            self.transport.sendto(build_response(Code.ACCESS_ACCEPT, request, self.secret), addr)


async def test_radius_status_server() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _RadiusServer(b"s3cret"), local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        up = await check_radius(RadiusCheck("127.0.0.1", "s3cret", port, timeout=2), policy=LOOPBACK)
        assert up.status is Status.UP
        wrong = await check_radius(RadiusCheck("127.0.0.1", "other", port, timeout=0.6), policy=LOOPBACK)
        assert wrong.status is Status.DOWN and "secret" in wrong.message
    finally:
        transport.close()


async def test_routeros_login() -> None:
    from ispb_netsync.routeros.simulator import RouterOSPeer

    async with RouterOSPeer(username="ispb", password="pw", identity="core-1") as peer:
        up = await check_routeros(RouterOsCheck("127.0.0.1", "ispb", "pw", peer.port, timeout=3), policy=LOOPBACK)
        assert up.status is Status.UP and "core-1" in up.message
        refused = await check_routeros(RouterOsCheck("127.0.0.1", "ispb", "no", peer.port, timeout=3), policy=LOOPBACK)
        assert refused.status is Status.DOWN
        port = peer.port
    gone = await run_check(RouterOsCheck("127.0.0.1", "ispb", "pw", port, timeout=2), policy=LOOPBACK)
    assert gone.status is Status.DOWN


async def test_slow_answers_are_degraded() -> None:
    async with http_server(delay=0.2) as port:
        result = await run_check(HttpCheck(f"http://127.0.0.1:{port}/", slow_ms=50), policy=LOOPBACK)
        assert result.status is Status.DEGRADED and "slow" in result.message
