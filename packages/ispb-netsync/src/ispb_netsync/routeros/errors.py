"""Typed router errors, and the one place where librouteros's and the socket's errors become them.

Callers handle three situations differently, so there are three errors under one base:
``RouterUnreachable`` (retry later: refused, timed out, dropped, unknown host), ``RouterLoginFailed`` (fix the
stored credentials; retrying will not help) and ``RouterTrap`` (the router understood and refused the command;
its own words are in ``.message``). ``RouterUnreachable`` has subclasses for the causes a person fixes
differently (``RouterRefused``, ``RouterTimedOut``, ``RouterUnknownHost``, ``RouterTLSFailed``), so a page can
say what to check without parsing messages; code that retries catches ``RouterUnreachable`` as before.
"""

import socket
import ssl

from librouteros.exceptions import ConnectionClosed, FatalError, LibRouterosError, MultiTrapError, TrapError


class RouterError(Exception):
    """Anything that went wrong talking to a router; ``message`` is the router's (or the network's) own text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RouterUnreachable(RouterError):
    """No usable connection: refused, timed out, dropped mid-reply, unknown host, or closed by the router."""


class RouterRefused(RouterUnreachable):
    """Nothing listens on that port: the API service is disabled or on another port, or a firewall rejects."""


class RouterTimedOut(RouterUnreachable):
    """No answer in time: a wrong address, a firewall that drops, or a router too busy to answer."""


class RouterUnknownHost(RouterUnreachable):
    """The host name does not resolve."""


class RouterTLSFailed(RouterUnreachable):
    """The TLS handshake failed (``api-ssl``): an untrusted or mismatched certificate, or no TLS on that port."""


class RouterLoginFailed(RouterError):
    """The router refused the API user name or password (or its RouterOS is too old for plain login)."""


class RouterTrap(RouterError):
    """The router answered a command with ``!trap``.

    ``category`` is RouterOS's number when it sends one (0 missing item or command, 1 argument value failure,
    2 execution interrupted, 3 scripting failure, 4 general failure, 5 API failure) and ``command`` the
    command word that was refused.

    >>> str(RouterTrap("failure: already have such entry", None, "/ip/firewall/address-list/add"))
    '/ip/firewall/address-list/add: failure: already have such entry'
    """

    def __init__(self, message: str, category: int | None = None, command: str = "") -> None:
        super().__init__(message)
        self.category = category
        self.command = command

    def __str__(self) -> str:
        return f"{self.command}: {self.message}" if self.command else self.message


def translate(error: BaseException, where: str, timeout: float) -> RouterError:
    """The typed error for one raised while talking to the router at ``where`` (``host:port``).

    Pure, so every mapping is tested without a network:

    >>> translate(ConnectionRefusedError(111, "Connection refused"), "10.0.0.1:8728", 10.0).message
    '10.0.0.1:8728: Connection refused'
    >>> type(translate(TimeoutError(), "10.0.0.1:8728", 0.5)).__name__
    'RouterTimedOut'
    """
    match error:
        case RouterError():
            return error
        case TrapError():
            return RouterTrap(str(error.message), error.category)
        case MultiTrapError():
            return RouterTrap(", ".join(str(trap.message) for trap in error.traps), error.traps[0].category)
        case FatalError():
            return RouterUnreachable(f"{where}: the router closed the connection: {error}")
        case ConnectionClosed():
            return RouterUnreachable(f"{where}: the connection was dropped")
        case TimeoutError():
            return RouterTimedOut(f"{where}: no answer within {timeout:g} s")
        case socket.gaierror():
            return RouterUnknownHost(f"{where}: unknown host ({error.strerror})")
        case ssl.SSLError():
            return RouterTLSFailed(f"{where}: TLS handshake failed: {_tls_reason(error)}")
        case ConnectionRefusedError():
            return RouterRefused(f"{where}: {error.strerror or error}")
        case OSError():
            return RouterUnreachable(f"{where}: {error.strerror or error}")
        case LibRouterosError():
            return RouterError(f"{where}: garbled reply: {error}")
    return RouterError(f"{where}: {error!r}")


def _tls_reason(error: ssl.SSLError) -> str:
    """The handshake's reason in words (``certificate verify failed: self-signed certificate``)."""
    verify = getattr(error, "verify_message", None)  # set on SSLCertVerificationError by the ssl module
    if verify:
        return f"certificate verify failed: {verify}"
    return str(error.strerror or error)
