"""Where a server may send requests on an operator's behalf: public addresses, plus what its administrator allows.

An operator types a gateway URL; the server, not the operator's browser, opens it, from inside the server's
network. Unchecked, ``http://127.0.0.1:6379/`` reaches the platform's Redis and ``http://169.254.169.254/``
the cloud's metadata service (server-side request forgery). So an `OutboundPolicy` refuses loopback, private
(RFC 1918, ``fc00::/7``, carrier-grade NAT ``100.64.0.0/10``), link-local (``169.254.0.0/16``, ``fe80::/10``),
unspecified, multicast and reserved addresses, unless the platform administrator allows them by address,
network or host name, optionally on one port only:

>>> policy = OutboundPolicy.parse("10.20.0.0/16, kannel.lan:13013, [fd00::5]:8080")
>>> policy.refusal("10.20.1.7", "10.20.1.7", 80) is None
True
>>> policy.refusal("127.0.0.1", "127.0.0.1", 6379)
'127.0.0.1 is a loopback address (this server itself)'

The check is made on the addresses a name resolves to, for every new connection, and `HttpClient` connects
to the checked address itself (the name stays in the Host header and TLS's server name), so a name that
resolves to a public address for the check and to a private one for the connection (DNS rebinding) gains
nothing. Redirects are never followed, so an allowed server cannot send a request elsewhere either.
"""

import asyncio
import re
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

__all__ = ("Allowance", "OutboundPolicy", "OutboundRefused")

_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
_SHARED = IPv4Network("100.64.0.0/10")  # carrier-grade NAT: an ISP's own network, not the Internet
_NAT64 = IPv6Network("64:ff9b::/96")  # the well-known NAT64 prefix: the last 32 bits are where it goes


class OutboundRefused(Exception):
    """The policy refuses every address of a host; nothing was sent. ``str(error)`` is the operator's message."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{reason}; ask your platform administrator to allow it")
        self.host = host
        self.reason = reason


@dataclass(frozen=True)
class Allowance:
    """One entry of the allow list: a network (an address is a /32 or /128) or a host name; on ``port`` only
    when one is given."""

    network: IPv4Network | IPv6Network | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> "Allowance":
        """``10.0.0.0/8``, ``10.0.0.5:13013``, ``kannel.lan``, ``kannel.lan:13013``, ``fd00::/8``, ``[::1]:8000``.

        >>> Allowance.parse("kannel.lan:13013")
        Allowance(network=None, host='kannel.lan', port=13013)
        """
        text, port = entry.strip(), None
        if "://" in text:
            raise ValueError(f"{entry!r}: write the host name or address (and :port), without a scheme")
        if text.startswith("["):
            text, _, rest = text[1:].partition("]")
            if rest:
                port = _port(entry, rest.removeprefix(":") if rest.startswith(":") else "")
        elif text.count(":") == 1:
            text, _, number = text.partition(":")
            port = _port(entry, number)
        return cls.of(text, port, entry=entry)

    @classmethod
    def of(cls, host: str, port: int | None = None, *, entry: str = "") -> "Allowance":
        """An address, a network or a host name (no port syntax), on ``port`` when given."""
        try:
            return cls(network=ip_network(host), port=port)
        except ValueError as error:
            name = host.lower().rstrip(".")
            if "/" in host or name.replace(".", "").isdigit():  # meant as an address or a network
                raise ValueError(f"{entry or host!r}: {error}") from None
            if not _HOST_NAME.fullmatch(name):
                raise ValueError(
                    f"{entry or host!r} is not an address, a network (such as 10.0.0.0/8) or a host name,"
                    " optionally with :port"
                ) from None
            return cls(host=name, port=port)

    def admits(self, host: str, address: IPv4Address | IPv6Address, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host.lower().rstrip(".")
        return self.network is not None and address.version == self.network.version and address in self.network

    def __str__(self) -> str:
        network = self.network
        single = network is not None and network.num_addresses == 1
        where = self.host or str(network.network_address if single and network else network)
        if self.port is None:
            return where
        return f"[{where}]:{self.port}" if ":" in where else f"{where}:{self.port}"


def _port(entry: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{entry!r} has a bad port (1-65535)")
    return int(text)


def _embedded(address: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    """The IPv4 address an IPv6 one carries to (mapped ``::ffff:a.b.c.d``, 6to4, NAT64), else itself."""
    if isinstance(address, IPv4Address):
        return address
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour or address


def _refusal(address: IPv4Address | IPv6Address) -> str | None:
    """Why ``address`` is not a public one, as the end of a sentence; None when it is public."""
    address = _embedded(address)
    if address.is_loopback:
        return "a loopback address (this server itself)"
    if address.is_unspecified:
        return "the unspecified address (this server itself)"
    if address.is_link_local:
        return "a link-local address (such as the cloud metadata service)"
    if address.is_multicast:
        return "a multicast address"
    if (address.is_private and not address.is_reserved) or address in _SHARED:
        return "on a private network"
    if not address.is_global or address.is_reserved:
        return "a reserved address, not on the Internet"
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Public addresses, plus ``allow``. ``OutboundPolicy()`` allows only public addresses."""

    allow: tuple[Allowance, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "OutboundPolicy":
        """The allow list as an administrator writes it: entries separated by commas or spaces (see
        `Allowance.parse`); raises ``ValueError`` naming the first bad entry."""
        return cls(tuple(Allowance.parse(entry) for entry in re.split(r"[,\s]+", text) if entry))

    def allowing(self, host: str, port: int | None = None) -> "OutboundPolicy":
        """This policy plus one address, network or host name (on ``port`` only, when given)."""
        return OutboundPolicy((*self.allow, Allowance.of(host, port)))

    def refusal(self, host: str, address: str, port: int) -> str | None:
        """Why a connection to ``address`` (which ``host`` resolved to) on ``port`` is refused, or None."""
        parsed = ip_address(address.partition("%")[0])  # an IPv6 scope (fe80::1%eth0) is no part of the address
        if any(allowance.admits(host, parsed, port) for allowance in self.allow):
            return None
        reason = _refusal(parsed)
        if reason is None:
            return None
        named = host.strip("[]")
        return f"{named} is {reason}" if named == address else f"{named} resolves to {address}, {reason}"

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` this policy allows, in the resolver's order; raises `OutboundRefused` when
        there are none, ``OSError`` (``socket.gaierror``) when the name does not resolve."""
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        allowed = [address for address in addresses if self.refusal(host, address, port) is None]
        if not allowed:
            raise OutboundRefused(host, str(self.refusal(host, addresses[0], port)))
        return allowed

    async def check_url(self, url: str) -> None:
        """Raise `OutboundRefused` when no address of ``url``'s host may be reached (for a form that saves a URL;
        the client checks again on every connection). A name that does not resolve passes: sending says so."""
        parts = urlsplit(url)
        if not parts.hostname:
            return
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            await self.resolve(parts.hostname, port)
        except (OSError, ValueError):
            return
