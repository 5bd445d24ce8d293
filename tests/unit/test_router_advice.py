"""A failed router check leads with what to check, in the operator's words (``network/routers/explain.py``)."""

import pytest

from ispb_netsync.routeros import (
    RouterError,
    RouterLoginFailed,
    RouterRefused,
    RouterTimedOut,
    RouterTLSFailed,
    RouterTrap,
    RouterUnknownHost,
    RouterUnreachable,
)
from ispb_platform.network.routers.explain import plain_words
from ispb_platform.secrets_box import SealError

WHERE = "10.0.0.1:8728"


@pytest.mark.parametrize(
    ("problem", "says"),
    [
        (RouterRefused(f"{WHERE}: Connect call failed ('10.0.0.1', 8728)"), "API service is enabled"),
        (RouterTimedOut(f"{WHERE}: no answer within 8 s"), "The router did not answer at 10.0.0.1:8728. Check"),
        (RouterUnknownHost(f"{WHERE}: unknown host (Name or service not known)"), "The name 10.0.0.1 could not"),
        (RouterTLSFailed(f"{WHERE}: TLS handshake failed: CERTIFICATE_VERIFY_FAILED"), "certificate ISPB trusts"),
        (RouterUnreachable(f"{WHERE}: the connection was dropped"), "was cut before the router answered"),
        (RouterLoginFailed("invalid user name or password (6)"), "refused the user 'ispb' or its password"),
        (RouterTrap("not enough permissions (9)", 5, "/system/identity/print"), "the api and read policies"),
        (SealError("cannot open"), "enter its password again"),
        (RouterError(f"{WHERE}: garbled reply: Unknown controll byte"), "not as a RouterOS API does"),
        (RuntimeError("boom"), "could not be reached"),
    ],
)
def test_each_failure_reads_as_what_to_check(problem: Exception, says: str) -> None:
    words = plain_words(problem, WHERE, "ispb")
    assert says in words
    assert type(problem).__name__ not in words and "Errno" not in words and "Connect call" not in words
    assert words.endswith(".") and ".." not in words
