"""What a failed router check means, in words an operator acts on.

The typed errors of ``ispb_netsync.routeros`` say what went wrong on the wire (``RouterRefused: 10.0.0.1:8728:
Connect call failed``); the Routers page leads with what to check, and keeps the technical line under it for
whoever debugs the network.

>>> from ispb_netsync.routeros import RouterTimedOut
>>> plain_words(RouterTimedOut("10.0.0.1:8728: no answer within 8 s"), "10.0.0.1:8728", "ispb").split(". ")[0]
'The router did not answer at 10.0.0.1:8728'
"""

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
from ispb_platform.secrets_box import SealError


def plain_words(problem: Exception, where: str, username: str) -> str:
    """One or two sentences saying what failed and what to check, for the router at ``where`` (host:port)."""
    host = where.rsplit(":", 1)[0].strip("[]")
    match problem:
        case RouterRefused():
            return (
                f"Nothing answered at {where}: the router refused the connection. Check that the API service is "
                "enabled on the router (IP → Services: api, or api-ssl for TLS), that it listens on this port "
                "and that its firewall allows ISPB."
            )
        case RouterTimedOut():
            return (
                f"The router did not answer at {where}. Check the address, that the router is on and that a "
                "firewall lets ISPB reach this port."
            )
        case RouterUnknownHost():
            return f"The name {host} could not be found. Check the router's address, or enter its IP address."
        case RouterTLSFailed():
            return (
                f"A secure (TLS) connection to {where} could not be set up. Check that the router's api-ssl "
                "service has a certificate ISPB trusts, or turn TLS off for this router and use the api port."
            )
        case RouterUnreachable():
            return (
                f"The connection to {where} was cut before the router answered. Check that this port is the "
                "router's API service (not Winbox or the web page) and try again."
            )
        case RouterLoginFailed():
            return (
                f"The router refused the user {username!r} or its password. Check the API user on the router "
                "(System → Users) and save the password again here."
            )
        case RouterTrap():
            return (
                f"The router signed ISPB in as {username!r} but refused to answer. Give that user a group with "
                "the api and read policies."
            )
        case SealError():
            return (
                "The saved router password cannot be read with this installation's secret key (was the key "
                "changed?). Edit the router and enter its password again."
            )
        case RouterError():
            return (
                f"Something at {where} answered, but not as a RouterOS API does. Check that this port is the "
                "router's API service."
            )
    return f"The router at {where} could not be reached. Check the address and that the router is on."
