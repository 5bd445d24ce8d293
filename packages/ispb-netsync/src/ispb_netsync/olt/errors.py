"""Typed errors of the OLT adapter; each carries a message for the operator (``.message``) that starts with the
OLT's ``host:port``."""


class OLTError(Exception):
    """The base: catching it catches every error of this adapter."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OLTUnreachable(OLTError):
    """The OLT did not answer: down, unreachable, an unknown host name. Retry later."""


class OLTTimedOut(OLTUnreachable):
    """No answer within the timeout after every retry."""


class OLTWalkCut(OLTTimedOut):
    """The OLT answered, then stopped answering in the middle of a walk: what was read is incomplete and must
    not be taken for the OLT's whole ONU list. ``rows`` is how many values had arrived."""

    def __init__(self, message: str, rows: int) -> None:
        super().__init__(message)
        self.rows = rows


class OLTAuthFailed(OLTError):
    """The OLT is there but refused the credentials: an SNMPv3 user, key or protocol it does not accept."""


class OLTCommunityRejected(OLTAuthFailed):
    """SNMPv2c: the OLT answers SNMP (its SNMPv3 engine replied to discovery) but ignored our community. Agents
    drop requests with a wrong community silently, so this is how the adapter tells it from an OLT that is
    down."""


class OLTGarbage(OLTError):
    """The OLT answered with something that is not a usable walk: OIDs going backwards (a looping agent),
    an SNMP error status, a table that is not the vendor's."""
