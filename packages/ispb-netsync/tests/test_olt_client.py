"""The SNMP client against snmpsim (a real SNMP agent) serving recordings made through the profiles."""

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ispb_netsync.olt import (
    PROFILES,
    OltAddress,
    OLTAuthFailed,
    OLTCommunityRejected,
    OltSession,
    OLTTimedOut,
    OLTUnreachable,
    OnuRecord,
    OnuStatus,
    SNMPv3User,
    read_onus,
    write_recording,
)
from ispb_netsync.olt.simulator import OltSimulator, free_udp_port

V3 = ("ispb", "auth-pass-1", "priv-pass-1")


def _onus(epon: bool, port: str, count: int) -> list[OnuRecord]:
    return [
        OnuRecord(
            port,
            n,
            f"a8:5e:45:00:{n >> 8:02x}:{n & 255:02x}" if epon else f"HWTC{n:08X}",
            OnuStatus.ONLINE,
            -20.5,
            2.1,
            1000 + n,
            f"C-{n:04d}",
        )
        for n in range(1, count + 1)
    ]


@pytest.fixture(name="simulator", scope="module")
def fx_simulator() -> Iterator[OltSimulator]:
    directory = Path(tempfile.mkdtemp(prefix="ispb-olt-lib-"))
    ports = {"huawei_gpon": "0/1/3", "zte_gpon": "1/2/3", "bdcom_epon": "EPON0/1", "vsol_epon": "EPON0/2"}
    for name, port in ports.items():
        onus = _onus(name.endswith("epon"), port, 300)
        write_recording(directory / f"{name}.snmprec", PROFILES[name], onus, description=f"{name} simulated")
    with OltSimulator(directory, v3=V3) as simulator:
        yield simulator


@pytest.mark.parametrize("profile", ["huawei_gpon", "zte_gpon", "bdcom_epon", "vsol_epon"])
async def test_every_profile_reads_its_recording_over_snmp(simulator: OltSimulator, profile: str) -> None:
    address = OltAddress("127.0.0.1", community=profile, port=simulator.port, max_repetitions=20)
    reading = await read_onus(address, profile)
    assert len(reading.onus) == 300  # more than one GETBULK per column
    assert reading.garbled == 0
    assert {onu.rx_dbm for onu in reading.onus} == {-20.5}


async def test_system_description_and_walk_over_snmpv3_authpriv(simulator: OltSimulator) -> None:
    user = SNMPv3User(V3[0], V3[1], V3[2], auth_protocol="SHA", priv_protocol="AES")
    context = hashlib.md5(b"huawei_gpon").hexdigest()  # snmpsim's SNMPv3 context for a recording
    address = OltAddress("127.0.0.1", v3=user, port=simulator.port, context=context)
    async with OltSession(address) as olt:
        assert await olt.system_description() == "huawei_gpon simulated"
    assert len((await read_onus(address, "huawei_gpon")).onus) == 300


async def test_a_wrong_snmpv3_key_is_an_auth_failure(simulator: OltSimulator) -> None:
    user = SNMPv3User(V3[0], "wrong-pass-9", V3[2])
    address = OltAddress("127.0.0.1", v3=user, port=simulator.port, timeout=1, retries=0, context="x")
    with pytest.raises(OLTAuthFailed):
        await read_onus(address, "zte_gpon")


async def test_a_wrong_community_is_told_apart_from_a_dead_olt(simulator: OltSimulator) -> None:
    with pytest.raises(OLTCommunityRejected, match="not to this community"):
        await read_onus(
            OltAddress("127.0.0.1", community="nope", port=simulator.port, timeout=0.5, retries=0), "zte_gpon"
        )


async def test_nothing_listening_is_a_timeout() -> None:
    address = OltAddress("127.0.0.1", community="public", port=free_udp_port(), timeout=0.3, retries=1)
    with pytest.raises(OLTTimedOut) as raised:
        await read_onus(address, "huawei_gpon")
    assert not isinstance(raised.value, OLTCommunityRejected)
    assert raised.value.message.startswith("127.0.0.1:")


def test_credentials_stay_out_of_repr() -> None:
    address = OltAddress("10.0.0.2", community="s3cret-community")
    assert "s3cret" not in repr(address)
    assert "priv-pass" not in repr(SNMPv3User("u", "auth-pass-1", "priv-pass-1"))
    with pytest.raises(ValueError, match="either a community"):
        OltAddress("10.0.0.2")


async def test_an_unknown_host_is_unreachable_with_the_reason() -> None:
    address = OltAddress("no-such-olt.invalid", community="public", timeout=0.3, retries=0)
    with pytest.raises(OLTUnreachable, match=r"^no-such-olt.invalid:161: "):
        await read_onus(address, "zte_gpon")
