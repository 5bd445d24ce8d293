"""Where a router's API listens and how to sign in to it."""

from dataclasses import dataclass, field

API_PORT = 8728
API_TLS_PORT = 8729


@dataclass(frozen=True)
class RouterAddress:
    """How to reach one router's API service (``/ip service`` ``api`` or ``api-ssl``).

    ``port`` defaults to 8728, the plain API. With ``tls=True`` and the port left at that default, the
    address moves to 8729, the ``api-ssl`` default, so ``RouterAddress(host, user, pw, tls=True)`` just works;
    an explicit other port is kept as given. ``timeout`` (seconds) bounds connecting and every wait for a
    reply: a router that stops answering surfaces as ``RouterUnreachable`` after it, never as a hang.
    The password is left out of ``repr()`` so that logs of addresses do not leak it.

    >>> RouterAddress("10.0.0.1", "ispb", "secret", tls=True).port
    8729
    >>> RouterAddress("10.0.0.1", "ispb", "secret", port=9000, tls=True).port
    9000
    >>> RouterAddress("10.0.0.1", "ispb", "secret")
    RouterAddress(host='10.0.0.1', username='ispb', port=8728, tls=False, timeout=10.0)
    """

    host: str
    username: str
    password: str = field(repr=False)
    port: int = API_PORT
    tls: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.tls and self.port == API_PORT:
            # frozen: the documented default-port switch is the one write, done once at construction
            object.__setattr__(self, "port", API_TLS_PORT)
        if not 1 <= self.port <= 65535:
            raise ValueError(f"the API port must be from 1 to 65535, got {self.port}")
        if self.timeout <= 0:
            raise ValueError(f"the timeout must be above zero seconds, got {self.timeout}")

    @property
    def where(self) -> str:
        """``host:port`` as error messages name it (IPv6 hosts in brackets).

        >>> RouterAddress("fe80::1", "a", "b").where
        '[fe80::1]:8728'
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"
