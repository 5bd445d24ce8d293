"""An asyncio RADIUS client over UDP: send a request, wait for an authentic answer, retransmit on silence.

Used for Dynamic Authorization (RFC 5176) towards a NAS: `disconnect` ends a live session (e.g. right after
suspending a customer) and `coa` changes a live session's attributes (e.g. a new Mikrotik-Rate-Limit after a
package change or a FUP step). MikroTik listens for both on UDP 3799 once ``/radius incoming accept=yes``.

Example::

    result = await disconnect("10.0.0.1", 3799, "s3cret", user_name="rahim")
    if not result.acked:
        print(result.error_cause)  # e.g. ErrorCause.SESSION_CONTEXT_NOT_FOUND
"""

import asyncio
import contextlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ispb_netsync.radius.dictionary import ErrorCause
from ispb_netsync.radius.packet import Attr, Code, Packet, Value, attr, build_request, decode, verify_response

COA_PORT = 3799


class RadiusError(Exception):
    """A RADIUS exchange failed; the message says why in words an operator can act on."""


class NasUnreachable(RadiusError):
    """No authentic answer arrived after every retransmission."""

    def __init__(self, host: str, port: int, attempts: int, timeout: float) -> None:
        self.host, self.port = host, port
        super().__init__(
            f"no answer from {host}:{port} after {attempts} attempts {timeout:g} s apart; check that the router "
            "accepts RADIUS incoming requests (/radius incoming accept=yes) and that the secret matches"
        )


@dataclass(frozen=True)
class DisconnectResult:
    """The NAS's answer to a Disconnect-Request: ACK (session ended) or NAK with an optional Error-Cause."""

    acked: bool
    error_cause: ErrorCause | int | None
    reply: Packet


@dataclass(frozen=True)
class CoaResult:
    """The NAS's answer to a CoA-Request: ACK (attributes applied) or NAK with an optional Error-Cause."""

    acked: bool
    error_cause: ErrorCause | int | None
    reply: Packet


class _Exchange(asyncio.DatagramProtocol):
    """Collects the first authentic answer to one request; forged or stray datagrams are dropped."""

    def __init__(self, request: Packet, secret: bytes) -> None:
        self.request, self.secret = request, secret
        self.answer: asyncio.Future[Packet] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if self.answer.done() or not verify_response(data, self.request, self.secret):
            return
        with contextlib.suppress(ValueError):
            self.answer.set_result(decode(data))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: keep waiting, the retransmission decides.
        pass


async def send_request(
    host: str,
    port: int,
    secret: str,
    code: Code,
    attributes: Iterable[Attr],
    *,
    password: str | None = None,
    source_address: str | None = None,
    timeout: float = 3.0,  # noqa: ASYNC109 (per attempt: the retransmission interval, not a deadline)
    retries: int = 2,
) -> Packet:
    """Send one request and return the verified answer; raise `NasUnreachable` after ``1 + retries`` tries.

    ``source_address`` binds the local end (a NAS is known to a server by the address it sends from).
    Retransmissions repeat the same bytes (same Identifier and authenticator), as RFC 5080 §2.2.1 asks.
    """
    key = secret.encode()
    request, data = build_request(code, secrets.randbelow(256), key, attributes, password=password)
    loop = asyncio.get_running_loop()
    local = (source_address, 0) if source_address else None
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Exchange(request, key), remote_addr=(host, port), local_addr=local
    )
    try:
        for _ in range(1 + retries):
            transport.sendto(data)
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(protocol.answer), timeout)
        raise NasUnreachable(host, port, 1 + retries, timeout)
    finally:
        transport.close()
        protocol.answer.cancel()


def _session_attrs(user_name: str, acct_session_id: str | None, framed_ip: str | None) -> list[Attr]:
    attrs = [attr("User-Name", user_name)]
    if acct_session_id is not None:
        attrs.append(attr("Acct-Session-Id", acct_session_id))
    if framed_ip is not None:
        attrs.append(attr("Framed-IP-Address", framed_ip))
    return attrs


def _error_cause(reply: Packet) -> ErrorCause | int | None:
    value = reply.get("Error-Cause")
    if not isinstance(value, int):
        return None
    try:
        return ErrorCause(value)
    except ValueError:
        return value


async def disconnect(
    nas_host: str,
    port: int,
    secret: str,
    *,
    user_name: str,
    acct_session_id: str | None = None,
    framed_ip: str | None = None,
    timeout: float = 3.0,  # noqa: ASYNC109 (per attempt: the retransmission interval, not a deadline)
    retries: int = 2,
    source_address: str | None = None,
) -> DisconnectResult:
    """Ask the NAS to end the session identified by ``user_name`` (and session id / address, when given)."""
    reply = await send_request(
        nas_host,
        port,
        secret,
        Code.DISCONNECT_REQUEST,
        _session_attrs(user_name, acct_session_id, framed_ip),
        source_address=source_address,
        timeout=timeout,
        retries=retries,
    )
    return DisconnectResult(reply.code is Code.DISCONNECT_ACK, _error_cause(reply), reply)


async def coa(
    nas_host: str,
    port: int,
    secret: str,
    *,
    user_name: str,
    attributes: Mapping[str, Value],
    acct_session_id: str | None = None,
    framed_ip: str | None = None,
    timeout: float = 3.0,  # noqa: ASYNC109 (per attempt: the retransmission interval, not a deadline)
    retries: int = 2,
    source_address: str | None = None,
) -> CoaResult:
    """Change a live session: ``coa(host, 3799, secret, user_name="rahim",
    attributes={"Mikrotik-Rate-Limit": "2M/2M"})``."""
    attrs = _session_attrs(user_name, acct_session_id, framed_ip)
    attrs += [attr(name, value) for name, value in attributes.items()]
    reply = await send_request(
        nas_host,
        port,
        secret,
        Code.COA_REQUEST,
        attrs,
        source_address=source_address,
        timeout=timeout,
        retries=retries,
    )
    return CoaResult(reply.code is Code.COA_ACK, _error_cause(reply), reply)
