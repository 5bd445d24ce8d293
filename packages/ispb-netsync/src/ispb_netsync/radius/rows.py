"""What a customer looks like in FreeRADIUS's SQL tables (radcheck, radreply, radusergroup).

Pure functions: the platform deletes a customer's rows by username and inserts these in the same
transaction that changes the customer, so FreeRADIUS sees the new state on the next request.

Example::

    rows = customer_rows("rahim", "s3cret", rate_limit="10M/10M", suspended=False)
    rows.radcheck  # (CheckRow('rahim', 'Cleartext-Password', ':=', 's3cret'), CheckRow(..., 'Simultaneous-Use', ...))
"""

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

SUSPENDED_GROUP = "ispb-suspended"

# MikroTik rate-limit: rx[/tx] [burst-rx[/burst-tx] [threshold... [time... [priority [min...]]]]], e.g.
# "10M/10M", "2M/4M 4M/8M 1500k/3M 8/8 8 1M/2M". Checked loosely: digits with k/M/G units, slashes, spaces.
_RATE_LIMIT = re.compile(r"^[0-9]+[kKmMgG]?(/[0-9]+[kKmMgG]?)?( [0-9]+[kKmMgG]?(/[0-9]+[kKmMgG]?)?){0,5}$")


class InvalidRadiusValue(ValueError):
    """A value that cannot go into the RADIUS tables as given; the message says which and why."""


class SuspendedMode(StrEnum):
    """What a suspended customer gets from RADIUS."""

    PROFILE = "profile"  # accepted into the suspended profile: address list + trickle rate (portal redirect)
    REJECT = "reject"  # Access-Reject: no session at all


@dataclass(frozen=True)
class CheckRow:
    """A radcheck row (or radgroupcheck with a group name in ``name``)."""

    name: str
    attribute: str
    op: str
    value: str


@dataclass(frozen=True)
class ReplyRow:
    """A radreply row (or radgroupreply with a group name in ``name``)."""

    name: str
    attribute: str
    op: str
    value: str


@dataclass(frozen=True)
class UserGroupRow:
    username: str
    groupname: str
    priority: int = 0


@dataclass(frozen=True)
class CustomerRows:
    radcheck: tuple[CheckRow, ...]
    radreply: tuple[ReplyRow, ...]
    radusergroup: tuple[UserGroupRow, ...]


@dataclass(frozen=True)
class GroupRows:
    radgroupcheck: tuple[CheckRow, ...]
    radgroupreply: tuple[ReplyRow, ...]


def _text(what: str, value: str, *, limit: int = 253) -> str:
    if not value or len(value.encode()) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRadiusValue(f"{what} must be 1 to {limit} bytes without control characters")
    return value


def _rate_limit(value: str) -> str:
    if not _RATE_LIMIT.fullmatch(value):
        raise InvalidRadiusValue(f"rate limit {value!r} is not a MikroTik rate-limit such as 10M/10M")
    return value


def customer_rows(
    username: str,
    password: str,
    *,
    rate_limit: str | None,
    suspended: bool,
    simultaneous_use: int | None = 1,
    framed_ip: str | None = None,
    suspended_group: str = SUSPENDED_GROUP,
) -> CustomerRows:
    """The radcheck/radreply/radusergroup rows for one customer.

    A suspended customer keeps its password (so the suspended profile or the reject comes from the group,
    decided per tenant by `suspended_group_rows`), loses its own rate limit and joins ``suspended_group``.
    ``simultaneous_use=None`` allows unlimited sessions.

    >>> customer_rows("rahim", "pw", rate_limit="10M/10M", suspended=True).radusergroup
    (UserGroupRow(username='rahim', groupname='ispb-suspended', priority=0),)
    """
    _text("username", username)
    check = [CheckRow(username, "Cleartext-Password", ":=", _text("password", password, limit=128))]
    if simultaneous_use is not None:
        if simultaneous_use < 1:
            raise InvalidRadiusValue("simultaneous use must be at least 1 (or None for unlimited)")
        check.append(CheckRow(username, "Simultaneous-Use", ":=", str(simultaneous_use)))
    reply: list[ReplyRow] = []
    if framed_ip is not None:
        reply.append(ReplyRow(username, "Framed-IP-Address", ":=", str(ipaddress.IPv4Address(framed_ip))))
    if rate_limit is not None and not suspended:
        reply.append(ReplyRow(username, "Mikrotik-Rate-Limit", ":=", _rate_limit(rate_limit)))
    groups = (UserGroupRow(username, _text("group", suspended_group)),) if suspended else ()
    return CustomerRows(tuple(check), tuple(reply), groups)


def suspended_group_rows(
    mode: SuspendedMode = SuspendedMode.PROFILE,
    *,
    rate_limit: str = "64k/64k",
    address_list: str = SUSPENDED_GROUP,
    group: str = SUSPENDED_GROUP,
    message: str = "Account suspended",
) -> GroupRows:
    """The radgroupcheck/radgroupreply rows of the suspended group, for a tenant's chosen mode.

    PROFILE (the default, seeded by migration 0005): Accept with ``Mikrotik-Address-List`` (the router
    redirects that list to the suspension portal) and a trickle ``Mikrotik-Rate-Limit``. REJECT: the group
    check sets ``Auth-Type := Reject``, so FreeRADIUS answers Access-Reject with ``message``.
    """
    if mode is SuspendedMode.REJECT:
        return GroupRows(
            (CheckRow(group, "Auth-Type", ":=", "Reject"),),
            (ReplyRow(group, "Reply-Message", ":=", _text("message", message)),),
        )
    return GroupRows(
        (),
        (
            ReplyRow(group, "Mikrotik-Address-List", ":=", _text("address list", address_list)),
            ReplyRow(group, "Mikrotik-Rate-Limit", ":=", _rate_limit(rate_limit)),
        ),
    )
