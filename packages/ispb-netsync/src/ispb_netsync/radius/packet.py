"""RADIUS packets (RFC 2865, 2866, 3579, 5176): encoding, decoding and the authenticator rules.

Pure functions over bytes, no sockets. The authenticator rules, in one place:

- Access-Request: the Request Authenticator is 16 random octets; User-Password is hidden with it (§5.2).
- Accounting-, Disconnect- and CoA-Request: the Request Authenticator is
  MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret) (RFC 2866 §3, RFC 5176 §2.3).
- Every response: the Response Authenticator is
  MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret) (RFC 2865 §3).
- Message-Authenticator (RFC 3579 §3.2): HMAC-MD5 keyed with the secret over the whole packet with the
  attribute's value zeroed and, in the Authenticator field, the Request Authenticator for Access-Request and
  responses, 16 zero octets for Accounting/Disconnect/CoA requests. It is computed before the request or
  response authenticator, which then covers it.

Example (RFC 2865 §7.1)::

    request = build_request(Code.ACCESS_REQUEST, 0, b"xyzzy5461",
                            [attr("User-Name", "nemo"), attr("NAS-IP-Address", "192.168.1.16"), attr("NAS-Port", 3)],
                            password="arctangent", message_authenticator=False)
"""

import hashlib
import hmac
import ipaddress
import secrets
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from ispb_netsync.radius.dictionary import BY_NUMBER, Kind, lookup

_HEADER = struct.Struct("!BBH16s")
_ZEROS = bytes(16)
MAX_PACKET = 4096
VENDOR_SPECIFIC = 26
MESSAGE_AUTHENTICATOR = 80

Value = str | int | bytes | ipaddress.IPv4Address


class PacketError(ValueError):
    """Bytes that are not a well-formed RADIUS packet, or a value that cannot be encoded."""


class Code(IntEnum):
    ACCESS_REQUEST = 1
    ACCESS_ACCEPT = 2
    ACCESS_REJECT = 3
    ACCOUNTING_REQUEST = 4
    ACCOUNTING_RESPONSE = 5
    ACCESS_CHALLENGE = 11
    STATUS_SERVER = 12  # RFC 5997: "are you alive?"; answered with Access-Accept on the auth port
    DISCONNECT_REQUEST = 40
    DISCONNECT_ACK = 41
    DISCONNECT_NAK = 42
    COA_REQUEST = 43
    COA_ACK = 44
    COA_NAK = 45


# Requests whose authenticator is computed (not random) and which get a zeroed one for Message-Authenticator.
_SIGNED_REQUESTS = frozenset({Code.ACCOUNTING_REQUEST, Code.DISCONNECT_REQUEST, Code.COA_REQUEST})


@dataclass(frozen=True)
class Attr:
    """One attribute as carried: its number, vendor (0 = standard) and raw value."""

    number: int
    value: bytes
    vendor: int = 0

    @property
    def name(self) -> str:
        known = BY_NUMBER.get((self.vendor, self.number))
        return known.name if known else f"Attr-{self.vendor}-{self.number}"


@dataclass(frozen=True)
class Packet:
    code: Code
    identifier: int
    authenticator: bytes
    attributes: tuple[Attr, ...] = ()

    def get(self, name: str) -> Value | None:
        """The first value of attribute ``name``, decoded by its kind; None when absent."""
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[Value]:
        definition = lookup(name)
        return [
            decode_value(definition.kind, a.value)
            for a in self.attributes
            if a.number == definition.number and a.vendor == definition.vendor
        ]


def attr(name: str, value: Value) -> Attr:
    """Encode ``value`` as attribute ``name``: ``attr("Mikrotik-Rate-Limit", "10M/10M")``."""
    definition = lookup(name)
    return Attr(definition.number, encode_value(definition.kind, value), definition.vendor)


def encode_value(kind: Kind, value: Value) -> bytes:
    if kind in (Kind.INTEGER, Kind.DATE):
        if not isinstance(value, int) or not 0 <= value < 2**32:
            raise PacketError(f"{value!r} is not a 32-bit unsigned integer")
        return struct.pack("!I", value)
    if kind is Kind.IPADDR:
        return ipaddress.IPv4Address(value if not isinstance(value, bytes) else value.decode()).packed
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise PacketError(f"{value!r} cannot be encoded as {kind.value}")


def decode_value(kind: Kind, raw: bytes) -> Value:
    if kind in (Kind.INTEGER, Kind.DATE) and len(raw) == 4:
        return int(struct.unpack("!I", raw)[0])
    if kind is Kind.IPADDR and len(raw) == 4:
        return ipaddress.IPv4Address(raw)
    if kind is Kind.TEXT:
        return raw.decode(errors="replace")
    return raw


def encode(packet: Packet) -> bytes:
    """The packet's bytes exactly as given (no authenticator is computed here)."""
    body = b"".join(_encode_attr(a) for a in packet.attributes)
    length = _HEADER.size + len(body)
    if length > MAX_PACKET:
        raise PacketError(f"packet of {length} octets exceeds the RADIUS maximum of {MAX_PACKET}")
    return _HEADER.pack(packet.code, packet.identifier, length, packet.authenticator) + body


def _encode_attr(a: Attr) -> bytes:
    if a.vendor:
        inner = bytes((a.number, len(a.value) + 2)) + a.value
        value, number = struct.pack("!I", a.vendor) + inner, VENDOR_SPECIFIC
    else:
        value, number = a.value, a.number
    if len(value) > 253:
        raise PacketError(f"attribute {a.name} is {len(value)} octets; at most 253 fit")
    return bytes((number, len(value) + 2)) + value


def decode(data: bytes) -> Packet:
    """Parse a packet; raise `PacketError` when the bytes are not a well-formed RADIUS packet."""
    if len(data) < _HEADER.size:
        raise PacketError(f"{len(data)} octets is shorter than a RADIUS header")
    code, identifier, length, authenticator = _HEADER.unpack_from(data)
    if not _HEADER.size <= length <= len(data) or length > MAX_PACKET:
        raise PacketError(f"length field {length} does not fit the {len(data)} octets received")
    try:
        code = Code(code)
    except ValueError:
        raise PacketError(f"unknown RADIUS code {code}") from None
    return Packet(code, identifier, authenticator, tuple(_decode_attrs(data[_HEADER.size : length])))


def _decode_attrs(body: bytes) -> Iterable[Attr]:
    offset = 0
    while offset < len(body):
        if offset + 2 > len(body) or body[offset + 1] < 2 or offset + body[offset + 1] > len(body):
            raise PacketError(f"attribute at offset {offset + 20} overruns the packet")
        number, length = body[offset], body[offset + 1]
        value = body[offset + 2 : offset + length]
        offset += length
        if number == VENDOR_SPECIFIC and len(value) >= 6 and value[5] == len(value) - 4:
            # the common "one vendor attribute per Vendor-Specific" layout (RFC 2865 §5.26)
            yield Attr(value[4], value[6:], struct.unpack("!I", value[:4])[0])
        else:
            yield Attr(number, value)


def hide_password(password: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """User-Password hiding (RFC 2865 §5.2): pad to 16, XOR each block with MD5(secret + previous)."""
    if len(password) > 128:
        raise PacketError("User-Password is longer than 128 octets")
    padded = password.ljust(max(16, -(-len(password) // 16) * 16), b"\0")
    out, previous = b"", authenticator
    for start in range(0, len(padded), 16):
        key = hashlib.md5(secret + previous, usedforsecurity=False).digest()
        previous = bytes(p ^ k for p, k in zip(padded[start : start + 16], key, strict=True))
        out += previous
    return out


def unhide_password(hidden: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """The inverse of `hide_password` (what a server does), padding stripped."""
    if not hidden or len(hidden) % 16:
        raise PacketError("hidden User-Password must be a non-empty multiple of 16 octets")
    out, previous = b"", authenticator
    for start in range(0, len(hidden), 16):
        key = hashlib.md5(secret + previous, usedforsecurity=False).digest()
        block = hidden[start : start + 16]
        out += bytes(c ^ k for c, k in zip(block, key, strict=True))
        previous = block
    return out.rstrip(b"\0")


def _md5(*parts: bytes) -> bytes:
    return hashlib.md5(b"".join(parts), usedforsecurity=False).digest()


def _with_authenticator(data: bytes, authenticator: bytes) -> bytes:
    return data[:4] + authenticator + data[20:]


def _message_authenticator_offset(data: bytes) -> int | None:
    """Where the Message-Authenticator value starts in ``data``, if the packet has one."""
    offset = _HEADER.size
    while offset + 2 <= len(data):
        if data[offset] == MESSAGE_AUTHENTICATOR and data[offset + 1] == 18:
            return offset + 2
        offset += max(data[offset + 1], 2)
    return None


def _sign_message_authenticator(data: bytes, secret: bytes, authenticator: bytes) -> bytes:
    """Fill the (zeroed) Message-Authenticator computed with ``authenticator`` in the header."""
    at = _message_authenticator_offset(data)
    if at is None:
        return data
    zeroed = _with_authenticator(data[:at] + _ZEROS + data[at + 16 :], authenticator)
    digest = hmac.new(secret, zeroed, hashlib.md5).digest()
    return data[:at] + digest + data[at + 16 :]


def build_request(
    code: Code,
    identifier: int,
    secret: bytes,
    attributes: Iterable[Attr],
    *,
    password: str | None = None,
    authenticator: bytes | None = None,
    message_authenticator: bool = True,
) -> tuple[Packet, bytes]:
    """A request ready to send, with its authenticators; returns the packet (for matching) and its bytes.

    ``password`` adds a hidden User-Password (Access-Request only). ``message_authenticator`` adds RFC 3579's
    HMAC; send it always (it protects against the Blast-RADIUS forgery, CVE-2024-3596).
    """
    attrs = list(attributes)
    if code in (Code.ACCESS_REQUEST, Code.STATUS_SERVER):  # a random Request Authenticator
        authenticator = authenticator or secrets.token_bytes(16)
        if password is not None and code is Code.STATUS_SERVER:
            raise PacketError("only an Access-Request carries a User-Password")
        if password is not None:
            attrs.insert(1, Attr(2, hide_password(password.encode(), secret, authenticator)))
    elif code in _SIGNED_REQUESTS:
        if password is not None:
            raise PacketError("only an Access-Request carries a User-Password")
        authenticator = _ZEROS
    else:
        raise PacketError(f"{code.name} is not a request")
    if message_authenticator:
        attrs.insert(0, Attr(MESSAGE_AUTHENTICATOR, _ZEROS))
    data = _sign_message_authenticator(
        encode(Packet(code, identifier, authenticator, tuple(attrs))), secret, authenticator
    )
    if code in _SIGNED_REQUESTS:
        data = _with_authenticator(data, _md5(data, secret))
    return decode(data), data


def build_response(
    code: Code, request: Packet, secret: bytes, attributes: Iterable[Attr] = (), *, message_authenticator: bool = True
) -> bytes:
    """The answer to ``request`` with its Response Authenticator (what a server or a NAS sends back)."""
    attrs = list(attributes)
    if message_authenticator:
        attrs.insert(0, Attr(MESSAGE_AUTHENTICATOR, _ZEROS))
    data = encode(Packet(code, request.identifier, request.authenticator, tuple(attrs)))
    data = _sign_message_authenticator(data, secret, request.authenticator)
    return _with_authenticator(data, _md5(data, secret))


def verify_response(data: bytes, request: Packet, secret: bytes) -> bool:
    """Whether ``data`` is an authentic answer to ``request``: Response Authenticator and, if present,
    Message-Authenticator (a response that fails either must be discarded silently, RFC 2865 §3)."""
    if len(data) < _HEADER.size or data[1] != request.identifier:
        return False
    length = min(struct.unpack_from("!H", data, 2)[0], len(data))
    data = data[:length]
    expected = _md5(_with_authenticator(data, request.authenticator), secret)
    if not hmac.compare_digest(expected, data[4:20]):
        return False
    return _message_authenticator_ok(data, secret, request.authenticator)


def verify_request(data: bytes, secret: bytes) -> bool:
    """Whether an Accounting/Disconnect/CoA request was signed with ``secret`` (what a NAS checks), and, for
    any request carrying one, whether its Message-Authenticator is right."""
    packet = decode(data)
    data = data[: struct.unpack_from("!H", data, 2)[0]]
    if packet.code in _SIGNED_REQUESTS:
        if not hmac.compare_digest(_md5(_with_authenticator(data, _ZEROS), secret), packet.authenticator):
            return False
        return _message_authenticator_ok(data, secret, _ZEROS)
    return _message_authenticator_ok(data, secret, packet.authenticator)


def _message_authenticator_ok(data: bytes, secret: bytes, authenticator: bytes) -> bool:
    at = _message_authenticator_offset(data)
    if at is None:
        return True
    resigned = _sign_message_authenticator(data, secret, authenticator)
    return hmac.compare_digest(resigned[at : at + 16], data[at : at + 16])
