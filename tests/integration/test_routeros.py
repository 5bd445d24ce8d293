"""The RouterOS adapter against a peer that speaks the real API wire protocol on loopback (DESIGN 5).

No mocked client: librouteros frames every word, the peer (tests/peers/routeros.py) parses it, keeps the state a
router would, and answers as RouterOS does, so these tests check the bytes as well as the behaviour.
"""

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ispb_netsync.routeros import (
    Change,
    RouterAddress,
    RouterLoginFailed,
    RouterSession,
    RouterTLSFailed,
    RouterTrap,
    RouterUnreachable,
    connect,
    rate_limit,
)
from peers.routeros import (
    Fault,
    RouterOSPeer,
    decode_length,
    encode_length,
    encode_sentence,
    extra_length_bytes,
    matches,
    read_sentence,
)

USER, PASSWORD = "ispb", "pw-123"
LIST = "/ip/firewall/address-list"


def address_of(peer: RouterOSPeer, *, password: str = PASSWORD, timeout: float = 2.0) -> RouterAddress:
    return RouterAddress(peer.host, USER, password, port=peer.port, timeout=timeout)


@pytest.fixture(name="peer")
async def fx_peer() -> AsyncIterator[RouterOSPeer]:
    async with RouterOSPeer(username=USER, password=PASSWORD, identity="Mirpur-Core") as peer:
        yield peer


@pytest.fixture(name="router")
async def fx_router(peer: RouterOSPeer) -> AsyncIterator[RouterSession]:
    async with RouterSession.open(address_of(peer)) as router:
        yield router


def writes_since(peer: RouterOSPeer, mark: int) -> list[str]:
    return [sentence.command for sentence in peer.received[mark:] if sentence.is_write]


# --- reading ------------------------------------------------------------------------------------------------


async def test_identity_and_resource_are_read_after_a_plain_login(peer: RouterOSPeer, router: RouterSession) -> None:
    assert await router.identity() == "Mirpur-Core"
    resource = await router.resource()
    assert (resource.version, resource.board_name, resource.cpu_load) == ("7.16.2 (stable)", "CHR", 3)
    assert (resource.free_memory, resource.total_memory, resource.uptime) == (201326592, 268435456, "1w2d3h4m5s")
    login = peer.received[0]
    assert (login.command, login.attributes) == ("/login", {"name": USER, "password": PASSWORD})


async def test_interface_counters_grow_with_traffic(peer: RouterOSPeer, router: RouterSession) -> None:
    before = {i.name: (i.rx_bytes, i.tx_bytes) for i in await router.interfaces()}
    peer.add_traffic("ether1", rx_bytes=1_500, tx_bytes=9_000_000_000)
    after = {i.name: (i.rx_bytes, i.tx_bytes) for i in await router.interfaces()}
    assert before["ether1"] == (0, 0) and after["ether1"] == (1_500, 9_000_000_000) and after["ether2"] == (0, 0)


async def test_connect_returns_a_session_that_closes(peer: RouterOSPeer) -> None:
    router = await connect(address_of(peer))
    assert await router.identity() == "Mirpur-Core"
    await router.close()
    await router.close()  # twice is harmless
    with pytest.raises(RouterUnreachable, match="connection is closed"):
        await router.identity()


# --- PPP secrets and profiles -------------------------------------------------------------------------------


async def test_second_ensure_of_a_secret_is_unchanged_and_writes_nothing(
    peer: RouterOSPeer, router: RouterSession
) -> None:
    assert await router.ensure_ppp_secret("rahim", password="s3cret", profile="10M", comment="C-0001") is Change.CREATED
    mark = len(peer.received)
    assert (
        await router.ensure_ppp_secret("rahim", password="s3cret", profile="10M", comment="C-0001") is Change.UNCHANGED
    )
    assert writes_since(peer, mark) == []
    [secret] = await router.ppp_secrets("rahim")
    assert (secret.name, secret.password, secret.profile, secret.service) == ("rahim", "s3cret", "10M", "pppoe")
    assert (secret.disabled, secret.comment, secret.remote_address) == (False, "C-0001", None)
    assert secret.id.startswith("*")


async def test_a_changed_secret_gets_only_the_differences(peer: RouterOSPeer, router: RouterSession) -> None:
    await router.ensure_ppp_secret("rahim", password="s3cret", profile="10M", remote_address="10.20.0.5")
    mark = len(peer.received)
    change = await router.ensure_ppp_secret("rahim", password="s3cret", profile="20M", disabled=True)
    assert change is Change.UPDATED
    [set_, unset] = [sentence for sentence in peer.received[mark:] if sentence.is_write]
    assert (set_.verb, set_.attributes) == ("set", {".id": "*1", "profile": "20M", "disabled": "yes"})
    assert (unset.verb, unset.attributes) == ("unset", {".id": "*1", "value-name": "remote-address"})
    [secret] = await router.ppp_secrets("rahim")
    assert (secret.profile, secret.disabled, secret.remote_address) == ("20M", True, None)


async def test_values_that_look_like_numbers_or_booleans_stay_text(peer: RouterOSPeer, router: RouterSession) -> None:
    # librouteros's own parser would return 123 and True here, and every later sync would "change" them
    await router.ensure_ppp_secret("yes", password="123", profile="default", comment="007")
    mark = len(peer.received)
    assert await router.ensure_ppp_secret("yes", password="123", profile="default", comment="007") is Change.UNCHANGED
    assert writes_since(peer, mark) == []
    [secret] = await router.ppp_secrets("yes")
    assert (secret.name, secret.password, secret.comment) == ("yes", "123", "007")


async def test_bangla_and_long_comments_cross_the_wire_intact(peer: RouterOSPeer, router: RouterSession) -> None:
    comments = {"bn": "রহিম, মিরপুর ১০", "two-byte": "x" * 200, "three-byte": "y" * 20_000, "four-byte": "z" * 0x200001}
    for name, comment in comments.items():
        await router.ensure_ppp_secret(name, password="p", profile="default", comment=comment)
    read_back = {secret.name: secret.comment for secret in await router.ppp_secrets()}
    assert read_back == comments


async def test_removing_a_secret_twice_reports_removed_then_unchanged(
    peer: RouterOSPeer, router: RouterSession
) -> None:
    await router.ensure_ppp_secret("rahim", password="s3cret", profile="default")
    assert await router.remove_ppp_secret("rahim") is Change.REMOVED
    assert await router.remove_ppp_secret("rahim") is Change.UNCHANGED
    assert peer.items("/ppp/secret") == []


async def test_profiles_are_ensured_and_none_unsets(peer: RouterOSPeer, router: RouterSession) -> None:
    speed = rate_limit(download_kbps=20_000, upload_kbps=10_000)
    assert await router.ensure_ppp_profile("20M", rate_limit=speed, address_list="active") is Change.CREATED
    mark = len(peer.received)
    assert await router.ensure_ppp_profile("20M", rate_limit="10000k/20M", address_list="active") is Change.UNCHANGED
    assert writes_since(peer, mark) == []
    assert await router.ensure_ppp_profile("20M", rate_limit=speed) is Change.UPDATED
    profiles = {profile.name: profile for profile in await router.ppp_profiles()}
    assert set(profiles) == {"default", "default-encryption", "20M"}
    assert (profiles["20M"].rate_limit, profiles["20M"].address_list) == ("10M/20M", None)


# --- active sessions --------------------------------------------------------------------------------------------


async def test_disconnect_removes_only_that_users_sessions(peer: RouterOSPeer, router: RouterSession) -> None:
    peer.connect_ppp("rahim", "10.20.0.5", "AA:BB:CC:00:00:01")
    peer.connect_ppp("karim", "10.20.0.6", "AA:BB:CC:00:00:02")
    peer.connect_ppp("rahim", "10.20.0.7", "AA:BB:CC:00:00:03")
    [karim] = await router.active_sessions("karim")
    assert (karim.address, karim.caller_id, karim.service) == ("10.20.0.6", "AA:BB:CC:00:00:02", "pppoe")
    assert await router.disconnect("rahim") == 2
    rows = await router.command("/ppp/active/print", query={"name": "karim"}, proplist=["name", "address"])
    assert rows == [{"name": "karim", "address": "10.20.0.6"}]
    assert [session.name for session in await router.active_sessions()] == ["karim"]
    assert await router.disconnect("rahim") == 0


# --- address lists ----------------------------------------------------------------------------------------------


async def test_address_list_entries_are_added_once_and_removed(peer: RouterOSPeer, router: RouterSession) -> None:
    assert await router.ensure_listed("suspended", "10.20.0.5", comment="C-0001") is Change.CREATED
    mark = len(peer.received)
    assert await router.ensure_listed("suspended", "10.20.0.5/32", comment="C-0001") is Change.UNCHANGED
    assert writes_since(peer, mark) == []
    await router.ensure_listed("other", "10.20.0.5")
    [entry] = await router.address_list("suspended")
    assert (entry.list, entry.address, entry.comment, entry.disabled) == ("suspended", "10.20.0.5", "C-0001", False)
    assert await router.ensure_unlisted("suspended", "10.20.0.5") is Change.REMOVED
    assert await router.ensure_unlisted("suspended", "10.20.0.5") is Change.UNCHANGED
    assert [entry.list for entry in await router.address_list("other")] == ["other"]


async def test_a_duplicate_add_is_refused_with_the_routers_message(router: RouterSession) -> None:
    entry = {"list": "suspended", "address": "10.20.0.5"}
    await router.command(f"{LIST}/add", entry)
    with pytest.raises(RouterTrap) as refused:
        await router.command(f"{LIST}/add", entry)
    assert refused.value.message == "failure: already have such entry"
    assert refused.value.command == f"{LIST}/add"


async def test_an_entry_added_meanwhile_by_someone_else_counts_as_unchanged(
    peer: RouterOSPeer, router: RouterSession
) -> None:
    def another_worker_adds_it() -> None:
        peer.menus[LIST].add({"list": "suspended", "address": "10.20.0.5"})

    peer.after[f"{LIST}/print"] = another_worker_adds_it
    assert await router.ensure_listed("suspended", "10.20.0.5") is Change.UNCHANGED
    assert [sentence.verb for sentence in peer.received[1:]] == ["print", "add"]
    assert len(peer.items(LIST)) == 1


async def test_a_disabled_entry_is_enabled(peer: RouterOSPeer, router: RouterSession) -> None:
    peer.menus[LIST].add({"list": "suspended", "address": "10.20.0.5", "disabled": "yes"})
    assert await router.ensure_listed("suspended", "10.20.0.5") is Change.UPDATED
    assert peer.items(LIST)[0]["disabled"] == "false"


# --- simple queues ------------------------------------------------------------------------------------------------


async def test_queues_stay_unchanged_although_the_router_rewrites_rates(
    peer: RouterOSPeer, router: RouterSession
) -> None:
    limit = rate_limit(download_kbps=20_000, upload_kbps=10_000)
    assert await router.ensure_simple_queue("rahim", target="10.20.0.5", max_limit=limit) is Change.CREATED
    [queue] = await router.simple_queues()
    assert (queue.target, queue.max_limit) == ("10.20.0.5/32", "10000000/20000000")  # as RouterOS prints them
    mark = len(peer.received)
    assert await router.ensure_simple_queue("rahim", target="10.20.0.5", max_limit=limit) is Change.UNCHANGED
    assert writes_since(peer, mark) == []
    assert await router.ensure_simple_queue("rahim", target="10.20.0.5", max_limit="5M/10M") is Change.UPDATED
    assert await router.remove_simple_queue("rahim") is Change.REMOVED
    assert await router.remove_simple_queue("rahim") is Change.UNCHANGED


async def test_a_first_queue_goes_before_a_live_sessions_dynamic_queue(
    peer: RouterOSPeer, router: RouterSession
) -> None:
    peer.connect_ppp("rahim", "10.20.0.5", rate_limit="10M/20M")
    assert await router.ensure_simple_queue("static", target="10.20.0.9", max_limit="1M/1M") is Change.CREATED
    assert peer.queue_order() == ["<pppoe-rahim>", "static"]  # added at the end, as RouterOS does
    assert (
        await router.ensure_simple_queue("slow", target="10.20.0.5", max_limit="512k/1M", first=True) is Change.CREATED
    )
    assert peer.queue_order() == ["slow", "<pppoe-rahim>", "static"]
    assert (
        await router.ensure_simple_queue("slow", target="10.20.0.5", max_limit="512k/1M", first=True)
        is Change.UNCHANGED
    )
    with pytest.raises(RouterTrap, match="dynamic"):  # a session's own queue is the router's
        await router.remove_simple_queue("<pppoe-rahim>")
    assert await router.disconnect("rahim") == 1
    assert peer.queue_order() == ["slow", "static"]  # the dynamic queue ends with its session


# --- failures -------------------------------------------------------------------------------------------------------


async def test_unknown_command_is_a_trap(router: RouterSession) -> None:
    with pytest.raises(RouterTrap) as refused:
        await router.command("/interface/teleport/print")
    assert (refused.value.message, refused.value.category) == ("no such command prefix", 0)
    assert await router.identity() == "Mirpur-Core"  # a trap leaves the connection usable


async def test_bad_credentials_fail_the_login_with_the_routers_words(peer: RouterOSPeer) -> None:
    with pytest.raises(RouterLoginFailed, match=r"invalid user name or password \(6\)"):
        await connect(address_of(peer, password="wrong"))


async def test_a_router_older_than_6_43_is_a_login_failure(peer: RouterOSPeer) -> None:
    peer.legacy_login = True
    with pytest.raises(RouterLoginFailed, match=r"6\.43"):
        await connect(address_of(peer))


async def test_refused_connection_is_unreachable_at_once(peer: RouterOSPeer) -> None:
    await peer.stop_listening()
    started = time.monotonic()
    with pytest.raises(RouterUnreachable, match=f"127.0.0.1:{peer.port}"):
        await connect(address_of(peer, timeout=5))
    assert time.monotonic() - started < 1


async def test_a_router_that_hangs_up_at_once_is_unreachable(peer: RouterOSPeer) -> None:
    peer.fault = Fault.CLOSE_ON_ACCEPT
    with pytest.raises(RouterUnreachable, match=f"127.0.0.1:{peer.port}"):
        await connect(address_of(peer))


async def test_a_router_that_never_answers_is_unreachable_after_the_timeout(peer: RouterOSPeer) -> None:
    peer.fault = Fault.STALL
    started = time.monotonic()
    with pytest.raises(RouterUnreachable, match=r"no answer within 0.5 s"):
        await connect(address_of(peer, timeout=0.5))
    assert 0.4 < time.monotonic() - started < 2


async def test_a_stall_mid_session_closes_the_session(peer: RouterOSPeer) -> None:
    async with RouterSession.open(address_of(peer, timeout=0.5)) as router:
        peer.fault = Fault.STALL
        with pytest.raises(RouterUnreachable, match="no answer"):
            await router.identity()
        peer.fault = Fault.NONE
        with pytest.raises(RouterUnreachable, match="connection is closed"):
            await router.identity()  # never reuse a stream that is out of step


async def test_a_command_cancelled_by_the_caller_closes_the_session(peer: RouterOSPeer) -> None:
    async with RouterSession.open(address_of(peer, timeout=5)) as router:
        peer.fault = Fault.STALL
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):  # the caller's own deadline, shorter than the router's timeout
                await router.identity()
        peer.fault = Fault.NONE
        with pytest.raises(RouterUnreachable, match="connection is closed"):
            await router.identity()  # the late answer could otherwise be read as the next command's


async def test_a_connection_dropped_mid_reply_is_unreachable(peer: RouterOSPeer) -> None:
    peer.connect_ppp("rahim", "10.20.0.5")
    async with RouterSession.open(address_of(peer)) as router:
        peer.fault = Fault.DROP_MID_REPLY
        with pytest.raises(RouterUnreachable, match="dropped"):
            await router.active_sessions()


# --- TLS (api-ssl) ------------------------------------------------------------------------------------------------


async def test_tls_with_the_routers_own_certificate(certificate: tuple[Path, Path]) -> None:
    key, cert = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    async with RouterOSPeer(username=USER, password=PASSWORD, identity="Tls-Core", ssl_context=server) as peer:
        address = RouterAddress(peer.host, USER, PASSWORD, port=peer.port, tls=True, timeout=2)
        async with RouterSession.open(address, ssl_context=client) as router:
            assert await router.identity() == "Tls-Core"
        with pytest.raises(RouterTLSFailed, match="TLS handshake failed: certificate verify failed: self"):
            await connect(address)  # the system CAs do not know this router's certificate


# --- the peer itself ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, 0xFFFFFFF, 0x10000000])
def test_peer_length_prefix_round_trips_in_every_width(length: int) -> None:
    encoded = encode_length(length)
    assert len(encoded) == 1 + extra_length_bytes(encoded[0])
    assert decode_length(encoded[0], encoded[1:]) == length


def test_peer_queries_follow_the_routeros_stack_rules() -> None:
    item = {"name": "rahim", "profile": "10M", "disabled": "false"}
    assert matches(item, ["name=rahim"]) and matches(item, ["=name=rahim"])
    assert matches(item, ["name"]) and matches(item, ["-comment"]) and not matches(item, ["comment"])
    assert matches(item, ["=name=karim", "=name=rahim", "#|"])
    assert not matches(item, ["=name=rahim", "#!"])
    assert matches(item, ["name=rahim", "profile=10M", "#&"]) and not matches(item, ["name=rahim", "profile=5M"])


async def test_peer_echoes_tags_and_refuses_commands_before_login(peer: RouterOSPeer) -> None:
    reader, writer = await asyncio.open_connection(peer.host, peer.port)
    try:
        writer.write(encode_sentence(["/login", f"=name={USER}", f"=password={PASSWORD}", ".tag=7"]))
        assert await read_sentence(reader) == ["!done", ".tag=7"]
        writer.write(encode_sentence(["/ppp/secret/print", "=.proplist=name", ".tag=8"]))
        assert await read_sentence(reader) == ["!done", ".tag=8"]
    finally:
        writer.close()
        await writer.wait_closed()
    reader, writer = await asyncio.open_connection(peer.host, peer.port)
    try:
        writer.write(encode_sentence(["/system/identity/print"]))
        assert await read_sentence(reader) == ["!fatal", "not logged in"]
    finally:
        writer.close()
        await writer.wait_closed()
