"""What the router holds, as typed values, and how a desired state differs from it.

RouterOS replies are flat ``name=value`` text; a property that is not set is left out of the reply, booleans
read ``true``/``false`` (``yes``/``no`` on input) and numbers are decimal text. The ``from_reply`` builders take
such a mapping (as the session reads it, or a plain dict in tests) and never fail on a missing optional
property: the router decides what it sends, and older versions send less.
"""

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ispb_netsync.routeros.rates import same_rates

Reply = Mapping[str, str]


class Change(StrEnum):
    """What an ``ensure_*``/``remove_*`` call did, so callers can log and count real changes only."""

    CREATED = "created"
    UPDATED = "updated"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


def flag(value: str | None) -> bool:
    """RouterOS booleans: ``true``/``yes`` (print answers ``true``; input accepts both).

    >>> flag("true"), flag("yes"), flag("false"), flag(None)
    (True, True, False, False)
    """
    return value in ("true", "yes")


def router_flag(value: bool) -> str:
    """A boolean as written to the router: ``yes``/``no``, which every RouterOS version accepts (as librouteros
    sends them); ``flag`` reads both spellings back.
    """
    return "yes" if value else "no"


def _number(reply: Reply, key: str) -> int:
    text = reply.get(key, "0")
    return int(text) if text.isdigit() else 0


@dataclass(frozen=True)
class SystemResource:
    """``/system/resource``: what a router runs and how loaded it is (memory in bytes, CPU in percent)."""

    version: str
    uptime: str
    cpu_load: int
    free_memory: int
    total_memory: int
    board_name: str

    @classmethod
    def from_reply(cls, reply: Reply) -> "SystemResource":
        """
        >>> SystemResource.from_reply({"version": "7.16 (stable)", "uptime": "1d2h", "cpu-load": "7"}).cpu_load
        7
        """
        return cls(
            version=reply.get("version", ""),
            uptime=reply.get("uptime", ""),
            cpu_load=_number(reply, "cpu-load"),
            free_memory=_number(reply, "free-memory"),
            total_memory=_number(reply, "total-memory"),
            board_name=reply.get("board-name", ""),
        )


@dataclass(frozen=True)
class PPPSecret:
    """``/ppp/secret``: one PPPoE (or other PPP) login kept on the router itself."""

    id: str
    name: str
    password: str
    profile: str
    service: str
    disabled: bool
    comment: str
    remote_address: str | None

    @classmethod
    def from_reply(cls, reply: Reply) -> "PPPSecret":
        return cls(
            id=reply.get(".id", ""),
            name=reply.get("name", ""),
            password=reply.get("password", ""),
            profile=reply.get("profile", "default"),
            service=reply.get("service", "any"),
            disabled=flag(reply.get("disabled")),
            comment=reply.get("comment", ""),
            remote_address=reply.get("remote-address") or None,
        )


@dataclass(frozen=True)
class PPPProfile:
    """``/ppp/profile``: speed (``rate-limit``) and addressing shared by the secrets that name it."""

    id: str
    name: str
    rate_limit: str | None
    local_address: str | None
    remote_address: str | None
    address_list: str | None

    @classmethod
    def from_reply(cls, reply: Reply) -> "PPPProfile":
        return cls(
            id=reply.get(".id", ""),
            name=reply.get("name", ""),
            rate_limit=reply.get("rate-limit") or None,
            local_address=reply.get("local-address") or None,
            remote_address=reply.get("remote-address") or None,
            address_list=reply.get("address-list") or None,
        )


@dataclass(frozen=True)
class ActiveSession:
    """``/ppp/active``: a customer connected right now (``caller_id`` is the MAC for PPPoE)."""

    id: str
    name: str
    address: str
    caller_id: str
    uptime: str
    service: str

    @classmethod
    def from_reply(cls, reply: Reply) -> "ActiveSession":
        return cls(
            id=reply.get(".id", ""),
            name=reply.get("name", ""),
            address=reply.get("address", ""),
            caller_id=reply.get("caller-id", ""),
            uptime=reply.get("uptime", ""),
            service=reply.get("service", ""),
        )


@dataclass(frozen=True)
class AddressListEntry:
    """``/ip/firewall/address-list``: one address in a named list (e.g. suspended customers)."""

    id: str
    list: str
    address: str
    comment: str
    disabled: bool

    @classmethod
    def from_reply(cls, reply: Reply) -> "AddressListEntry":
        return cls(
            id=reply.get(".id", ""),
            list=reply.get("list", ""),
            address=reply.get("address", ""),
            comment=reply.get("comment", ""),
            disabled=flag(reply.get("disabled")),
        )


@dataclass(frozen=True)
class SimpleQueue:
    """``/queue/simple``: a speed limit for a target; ``max_limit`` is ``upload/download`` (see ``rates``)."""

    id: str
    name: str
    target: str
    max_limit: str

    @classmethod
    def from_reply(cls, reply: Reply) -> "SimpleQueue":
        return cls(
            id=reply.get(".id", ""),
            name=reply.get("name", ""),
            target=reply.get("target", ""),
            max_limit=reply.get("max-limit", ""),
        )


def same_address(left: str, right: str) -> bool:
    """Whether two address texts name the same addresses (RouterOS drops ``/32`` in lists, adds it in queues).

    Anything that is not an address or network (a range, a DNS name, an interface) compares as text; a
    comma-separated list compares item by item.

    >>> same_address("10.0.0.5", "10.0.0.5/32"), same_address("10.0.0.5", "10.0.0.6")
    (True, False)
    >>> same_address("10.0.0.5/32,10.0.1.0/24", "10.0.0.5,10.0.1.0/24")
    True
    """
    left_parts, right_parts = left.split(","), right.split(",")
    if len(left_parts) != len(right_parts):
        return False
    return all(_one_address(one) == _one_address(other) for one, other in zip(left_parts, right_parts, strict=True))


def _one_address(text: str) -> str:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return text.strip()
    return str(network.network_address) if network.num_addresses == 1 else str(network)


Same = Callable[[str, str], bool]


def plan_update(
    current: Reply, desired: Mapping[str, str | None], same: Mapping[str, Same] | None = None
) -> tuple[dict[str, str], list[str]]:
    """What to ``set`` and what to ``unset`` so that ``current`` matches ``desired``; both empty when it does.

    ``None`` in ``desired`` means "not set on the router" (a missing or empty property). ``same`` gives a
    comparison per property where the router rewrites values (rates, addresses, booleans).

    >>> plan_update({"profile": "10M", "remote-address": "10.0.0.5"}, {"profile": "20M", "remote-address": None})
    ({'profile': '20M'}, ['remote-address'])
    >>> plan_update({"comment": ""}, {"comment": ""})
    ({}, [])
    """
    compare = same or {}
    to_set: dict[str, str] = {}
    to_unset: list[str] = []
    for key, wanted in desired.items():
        present = current.get(key, "")
        if wanted is None:
            if present:
                to_unset.append(key)
        elif not compare.get(key, str.__eq__)(present, wanted):
            to_set[key] = wanted
    return to_set, to_unset


def same_flag(left: str, right: str) -> bool:
    """Booleans compare by meaning: ``yes`` and ``true`` are the same to the router."""
    return flag(left) == flag(right)


SAME_PROPERTY: Mapping[str, Same] = {
    "disabled": same_flag,
    "rate-limit": same_rates,
    "max-limit": same_rates,
    "target": same_address,
    "address": same_address,
    "remote-address": same_address,
    "local-address": same_address,
}


def _octets(value: str | None) -> int:
    """A byte counter as RouterOS prints it (decimal text); 0 when missing or not a number (never a guess)."""
    return int(value) if value is not None and value.isdecimal() else 0


@dataclass(frozen=True)
class InterfaceCounters:
    """``/interface``: one interface's 64-bit byte counters since the router started (or they were reset).

    ``rx_bytes`` is what the router received on the interface, ``tx_bytes`` what it sent: for a customer-facing
    interface, upload and download."""

    id: str
    name: str
    type: str
    running: bool
    disabled: bool
    rx_bytes: int
    tx_bytes: int

    @classmethod
    def from_reply(cls, reply: Reply) -> "InterfaceCounters":
        return cls(
            id=reply.get(".id", ""),
            name=reply.get("name", ""),
            type=reply.get("type", ""),
            running=flag(reply.get("running")),
            disabled=flag(reply.get("disabled")),
            rx_bytes=_octets(reply.get("rx-byte")),
            tx_bytes=_octets(reply.get("tx-byte")),
        )
