"""Every failure reaches callers as one of the typed errors, with the router's words and host:port."""

import asyncio
import socket
import ssl

import pytest
from librouteros.exceptions import ConnectionClosed, FatalError, MultiTrapError, ProtocolError, TrapError

from ispb_netsync.routeros import (
    RouterAddress,
    RouterError,
    RouterLoginFailed,
    RouterRefused,
    RouterTimedOut,
    RouterTLSFailed,
    RouterTrap,
    RouterUnknownHost,
    RouterUnreachable,
    connect,
)
from ispb_netsync.routeros.errors import translate

WHERE = "10.0.0.1:8728"


def test_traps_keep_the_routers_message_and_category() -> None:
    error = translate(TrapError("failure: already have such entry", 4), WHERE, 10)
    assert isinstance(error, RouterTrap)
    assert (error.message, error.category) == ("failure: already have such entry", 4)
    several = translate(MultiTrapError(TrapError("one", 1), TrapError("two")), WHERE, 10)
    assert (several.message, type(several)) == ("one, two", RouterTrap)


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (ConnectionRefusedError(111, "Connection refused"), RouterRefused, "Connection refused"),
        (ConnectionResetError(104, "Connection reset by peer"), RouterUnreachable, "Connection reset by peer"),
        (TimeoutError(), RouterTimedOut, "no answer within 0.5 s"),
        (
            socket.gaierror(-2, "Name or service not known"),
            RouterUnknownHost,
            "unknown host (Name or service not known)",
        ),
        (ConnectionClosed("Connection unexpectedly closed."), RouterUnreachable, "the connection was dropped"),
        (
            FatalError("session terminated on request"),
            RouterUnreachable,
            "the router closed the connection: session terminated on request",
        ),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            RouterTLSFailed,
            "TLS handshake failed: certificate verify failed",
        ),
    ],
)
def test_network_failures_are_unreachable_say_why_and_name_the_router(
    error: Exception, kind: type[RouterUnreachable], words: str
) -> None:
    translated = translate(error, WHERE, 0.5)
    assert type(translated) is kind and isinstance(translated, RouterUnreachable)
    assert translated.message == f"{WHERE}: {words}"


def test_a_garbled_reply_is_a_router_error_and_typed_errors_pass_through() -> None:
    garbled = translate(ProtocolError("Unknown controll byte"), WHERE, 10)
    assert type(garbled) is RouterError and "garbled" in garbled.message
    refused = RouterLoginFailed("invalid user name or password (6)")
    assert translate(refused, WHERE, 10) is refused


def test_a_port_nobody_listens_on_is_unreachable_not_an_oserror() -> None:
    with socket.socket() as probe:  # a free port: bound here, released before the connect
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RouterRefused, match=f"127.0.0.1:{port}"):
            loop.run_until_complete(connect(RouterAddress("127.0.0.1", "u", "p", port=port, timeout=2)))
    finally:
        loop.close()
