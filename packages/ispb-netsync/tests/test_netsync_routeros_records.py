"""Router replies become typed values, and a desired state becomes the smallest set of writes."""

import pytest

from ispb_netsync.routeros import (
    ActiveSession,
    AddressListEntry,
    InterfaceCounters,
    PPPProfile,
    PPPSecret,
    RouterAddress,
    SimpleQueue,
    SystemResource,
)
from ispb_netsync.routeros.records import SAME_PROPERTY, plan_update, same_address


def test_a_secret_reply_with_unset_properties_gets_router_defaults() -> None:
    secret = PPPSecret.from_reply({".id": "*1A", "name": "rahim", "password": "123", "disabled": "true"})
    assert secret == PPPSecret("*1A", "rahim", "123", "default", "any", True, "", None)


def test_a_full_secret_reply_keeps_every_value_as_text() -> None:
    reply = {
        ".id": "*2", "name": "yes", "password": "007", "profile": "10M", "service": "pppoe",
        "disabled": "false", "comment": "C-0001", "remote-address": "10.20.0.5",
    }  # fmt: skip
    assert PPPSecret.from_reply(reply) == PPPSecret("*2", "yes", "007", "10M", "pppoe", False, "C-0001", "10.20.0.5")


def test_other_replies_parse() -> None:
    assert PPPProfile.from_reply({".id": "*0", "name": "default"}) == PPPProfile(
        "*0", "default", None, None, None, None
    )
    profile = PPPProfile.from_reply({"name": "10M", "rate-limit": "5M/10M", "address-list": "active"})
    assert (profile.rate_limit, profile.address_list) == ("5M/10M", "active")
    session = ActiveSession.from_reply({".id": "*9", "name": "rahim", "address": "10.20.0.5", "caller-id": "AA:BB"})
    assert (session.caller_id, session.uptime) == ("AA:BB", "")
    entry = AddressListEntry.from_reply({".id": "*3", "list": "suspended", "address": "10.20.0.5"})
    assert (entry.comment, entry.disabled) == ("", False)
    queue = SimpleQueue.from_reply({"name": "q", "target": "10.20.0.5/32", "max-limit": "5000000/10000000"})
    assert queue.max_limit == "5000000/10000000"


def test_resource_numbers_become_ints_and_missing_ones_zero() -> None:
    resource = SystemResource.from_reply(
        {"version": "6.49.10 (long-term)", "cpu-load": "12", "free-memory": "1024", "board-name": "RB4011"}
    )
    assert resource == SystemResource("6.49.10 (long-term)", "", 12, 1024, 0, "RB4011")


def test_nothing_to_write_when_the_router_already_matches() -> None:
    current = {".id": "*1", "target": "10.20.0.5/32", "max-limit": "5000000/10000000", "disabled": "false"}
    desired = {"target": "10.20.0.5", "max-limit": "5M/10M", "disabled": "no", "comment": ""}
    assert plan_update(current, desired, SAME_PROPERTY) == ({}, [])


def test_only_the_differences_are_written_and_none_unsets() -> None:
    current = {"password": "a", "profile": "10M", "remote-address": "10.20.0.5", "comment": "old"}
    desired = {"password": "a", "profile": "20M", "remote-address": None, "comment": "old", "local-address": None}
    assert plan_update(current, desired, SAME_PROPERTY) == ({"profile": "20M"}, ["remote-address"])


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("10.0.0.5", "10.0.0.5/32", True),
        ("10.0.0.0/24", "10.0.0.7/24", True),
        ("2001:db8::1", "2001:db8::1/128", True),
        ("10.0.0.5", "10.0.0.6", False),
        ("10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9", True),
        ("pool-customers", "pool-customers", True),
        ("10.0.0.5,10.0.0.6", "10.0.0.5", False),
    ],
)
def test_addresses_compare_by_meaning(left: str, right: str, same: bool) -> None:
    assert same_address(left, right) is same


def test_tls_moves_the_default_port_only() -> None:
    assert RouterAddress("r1", "u", "p").port == 8728
    assert RouterAddress("r1", "u", "p", tls=True).port == 8729
    assert RouterAddress("r1", "u", "p", port=18728, tls=True).port == 18728
    assert "p" not in repr(RouterAddress("r1", "u", "p")).replace("port", "")


@pytest.mark.parametrize("changes", [{"port": 0}, {"port": 70000}, {"timeout": 0}])
def test_an_impossible_address_is_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"port|timeout"):
        RouterAddress("r1", "u", "p", **changes)  # type: ignore[arg-type]


def test_interface_counters_read_64_bit_totals_and_never_guess() -> None:
    reply = {".id": "*1", "name": "ether1", "type": "ether", "running": "true", "rx-byte": "18446744073709551615"}
    counters = InterfaceCounters.from_reply(reply | {"tx-byte": "12x"})
    assert (counters.name, counters.running, counters.rx_bytes, counters.tx_bytes) == (
        "ether1",
        True,
        2**64 - 1,
        0,
    )
