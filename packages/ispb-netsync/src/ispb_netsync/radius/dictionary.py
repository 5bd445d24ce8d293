"""The RADIUS attributes ISPB speaks: RFC 2865/2866/2869/5176 and the MikroTik vendor attributes.

A deliberately small dictionary (FreeRADIUS ships thousands of entries): a name maps to its number, its
vendor (0 for standard attributes) and how its value is encoded. Attributes not listed here still decode,
as raw bytes under their numbers.
"""

from dataclasses import dataclass
from enum import Enum, IntEnum

MIKROTIK_VENDOR = 14988


class Kind(Enum):
    """How a value is carried on the wire (RFC 2865 §5)."""

    TEXT = "text"  # UTF-8 string
    OCTETS = "octets"  # raw bytes
    INTEGER = "integer"  # 32-bit unsigned, big-endian
    IPADDR = "ipaddr"  # 4 octets
    DATE = "date"  # seconds since 1970, 32-bit


@dataclass(frozen=True)
class AttributeDef:
    name: str
    number: int
    kind: Kind
    vendor: int = 0


class AcctStatusType(IntEnum):
    START = 1
    STOP = 2
    INTERIM_UPDATE = 3
    ACCOUNTING_ON = 7
    ACCOUNTING_OFF = 8


class ErrorCause(IntEnum):
    """RFC 5176 §3.5: why a NAS refused a Disconnect-Request or CoA-Request."""

    RESIDUAL_SESSION_CONTEXT_REMOVED = 201
    INVALID_EAP_PACKET = 202
    UNSUPPORTED_ATTRIBUTE = 401
    MISSING_ATTRIBUTE = 402
    NAS_IDENTIFICATION_MISMATCH = 403
    INVALID_REQUEST = 404
    UNSUPPORTED_SERVICE = 405
    UNSUPPORTED_EXTENSION = 406
    INVALID_ATTRIBUTE_VALUE = 407
    ADMINISTRATIVELY_PROHIBITED = 501
    REQUEST_NOT_ROUTABLE = 502
    SESSION_CONTEXT_NOT_FOUND = 503
    SESSION_CONTEXT_NOT_REMOVABLE = 504
    OTHER_PROXY_PROCESSING_ERROR = 505
    RESOURCES_UNAVAILABLE = 506
    REQUEST_INITIATED = 507
    MULTIPLE_SESSION_SELECTION_UNSUPPORTED = 508


_T, _O, _I, _A, _D = Kind.TEXT, Kind.OCTETS, Kind.INTEGER, Kind.IPADDR, Kind.DATE

ATTRIBUTES: dict[str, AttributeDef] = {
    d.name: d
    for d in (
        AttributeDef("User-Name", 1, _T),
        AttributeDef("User-Password", 2, _O),  # hidden (RFC 2865 §5.2): use hide_password()
        AttributeDef("CHAP-Password", 3, _O),
        AttributeDef("NAS-IP-Address", 4, _A),
        AttributeDef("NAS-Port", 5, _I),
        AttributeDef("Service-Type", 6, _I),
        AttributeDef("Framed-Protocol", 7, _I),
        AttributeDef("Framed-IP-Address", 8, _A),
        AttributeDef("Framed-IP-Netmask", 9, _A),
        AttributeDef("Login-IP-Host", 14, _A),
        AttributeDef("Login-Service", 15, _I),
        AttributeDef("Reply-Message", 18, _T),
        AttributeDef("State", 24, _O),
        AttributeDef("Class", 25, _O),
        AttributeDef("Session-Timeout", 27, _I),
        AttributeDef("Idle-Timeout", 28, _I),
        AttributeDef("Called-Station-Id", 30, _T),
        AttributeDef("Calling-Station-Id", 31, _T),
        AttributeDef("NAS-Identifier", 32, _T),
        AttributeDef("Proxy-State", 33, _O),
        AttributeDef("Acct-Status-Type", 40, _I),
        AttributeDef("Acct-Delay-Time", 41, _I),
        AttributeDef("Acct-Input-Octets", 42, _I),
        AttributeDef("Acct-Output-Octets", 43, _I),
        AttributeDef("Acct-Session-Id", 44, _T),
        AttributeDef("Acct-Authentic", 45, _I),
        AttributeDef("Acct-Session-Time", 46, _I),
        AttributeDef("Acct-Input-Packets", 47, _I),
        AttributeDef("Acct-Output-Packets", 48, _I),
        AttributeDef("Acct-Terminate-Cause", 49, _I),
        AttributeDef("Acct-Multi-Session-Id", 50, _T),
        AttributeDef("Acct-Input-Gigawords", 52, _I),
        AttributeDef("Acct-Output-Gigawords", 53, _I),
        AttributeDef("Event-Timestamp", 55, _D),
        AttributeDef("CHAP-Challenge", 60, _O),
        AttributeDef("NAS-Port-Type", 61, _I),
        AttributeDef("Port-Limit", 62, _I),
        AttributeDef("Message-Authenticator", 80, _O),
        AttributeDef("Acct-Interim-Interval", 85, _I),
        AttributeDef("NAS-Port-Id", 87, _T),
        AttributeDef("Error-Cause", 101, _I),
        AttributeDef("Mikrotik-Recv-Limit", 1, _I, MIKROTIK_VENDOR),
        AttributeDef("Mikrotik-Xmit-Limit", 2, _I, MIKROTIK_VENDOR),
        AttributeDef("Mikrotik-Group", 3, _T, MIKROTIK_VENDOR),
        AttributeDef("Mikrotik-Rate-Limit", 8, _T, MIKROTIK_VENDOR),
        AttributeDef("Mikrotik-Address-List", 19, _T, MIKROTIK_VENDOR),
    )
}

BY_NUMBER: dict[tuple[int, int], AttributeDef] = {(d.vendor, d.number): d for d in ATTRIBUTES.values()}


def lookup(name: str) -> AttributeDef:
    """The definition of ``name``; `KeyError` names the unknown attribute."""
    try:
        return ATTRIBUTES[name]
    except KeyError:
        raise KeyError(f"unknown RADIUS attribute {name!r}") from None
