"""MikroTik RouterOS API adapter: PPP secrets and profiles, active sessions, address lists, simple queues.

Talks the RouterOS API (TCP 8728, or 8729 with TLS) through librouteros's asyncio client; RouterOS 6.43 or
later (plain login). Everything is async, every wait is bounded by ``RouterAddress.timeout``, and every failure
is one of four typed errors carrying the router's own message (``RouterUnreachable`` says why in a subclass).

    >>> from ispb_netsync.routeros import rate_limit
    >>> rate_limit(download_kbps=20_000, upload_kbps=10_000)   # "rx/tx" from the router's view
    '10M/20M'

A sync step (see README.md)::

    async with RouterSession.open(RouterAddress("10.0.0.1", "ispb", password)) as router:
        change = await router.ensure_ppp_secret("rahim", password="s3cret", profile="10M")
"""

from ispb_netsync.routeros.address import API_PORT, API_TLS_PORT, RouterAddress
from ispb_netsync.routeros.errors import (
    RouterError,
    RouterLoginFailed,
    RouterRefused,
    RouterTimedOut,
    RouterTLSFailed,
    RouterTrap,
    RouterUnknownHost,
    RouterUnreachable,
)
from ispb_netsync.routeros.rates import bits_per_second, rate_limit, same_rates
from ispb_netsync.routeros.records import (
    ActiveSession,
    AddressListEntry,
    Change,
    InterfaceCounters,
    PPPProfile,
    PPPSecret,
    SimpleQueue,
    SystemResource,
)
from ispb_netsync.routeros.session import RouterSession, connect

__all__ = (
    # reaching a router
    "API_PORT",
    "API_TLS_PORT",
    "RouterAddress",
    "RouterSession",
    "connect",
    # errors
    "RouterError",
    "RouterLoginFailed",
    "RouterRefused",
    "RouterTLSFailed",
    "RouterTimedOut",
    "RouterTrap",
    "RouterUnknownHost",
    "RouterUnreachable",
    # what the router holds
    "ActiveSession",
    "AddressListEntry",
    "Change",
    "InterfaceCounters",
    "PPPProfile",
    "PPPSecret",
    "SimpleQueue",
    "SystemResource",
    # rates
    "bits_per_second",
    "rate_limit",
    "same_rates",
)
