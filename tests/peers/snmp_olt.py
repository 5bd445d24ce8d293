"""Simulated OLTs for tests: snmpsim (``ispb_netsync.olt.simulator``) serving recordings written from the
vendors' MIBs through the profiles, plus two faulty peers snmpsim cannot play.

- `simulated_olts(states)`: one snmpsim on a free loopback port serving every recording given as
  ``{community: (profile name, onus)}``. snmpsim reads recordings at start, so an OLT's later states (an ONU
  appears, one goes offline, power drops) are recordings of their own under another community.
- `CutProxy`: forwards the first ``answers`` requests to a real agent and then drops everything: an OLT that
  stops answering in the middle of a walk; with ``delay``, an OLT that answers every request, slowly.
- `GarbagePeer`: answers every request with a well-formed SNMP response whose OID does not increase (an agent
  that loops), or with junk bytes.

Recordings live in a fresh directory under /tmp (readable by ``nobody``, which snmpsim runs as under root;
pytest's own tmp_path is private to root).
"""

import asyncio
import contextlib
import os
import random
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from ispb_netsync.olt import PROFILES, OnuRecord, OnuStatus, write_recording
from ispb_netsync.olt.simulator import OltSimulator, free_udp_port

RECORDINGS = Path(__file__).parent / "snmprec"
"""The checked-in recordings: one per vendor profile and the variations of an OLT's life (`CHECKED_IN`), written
through the profiles by ``python tests/peers/snmp_olt.py`` (tests/integration/test_olt_recordings.py checks
they are current and that snmpsim serves them)."""


def onus_of(
    profile: str, count: int, *, port: str | None = None, weak: Sequence[int] = (), down: Sequence[int] = ()
) -> list[OnuRecord]:
    """``count`` ONUs on one port: ONU n has serial/MAC from n, description ``C-%04d`` % n, Rx -20.5 dBm (``weak``
    ones -29.4), online (``down`` ones LOS without a reading)."""
    epon = profile.endswith("epon")
    place = (
        port or {"huawei_gpon": "0/1/3", "zte_gpon": "1/2/3", "bdcom_epon": "EPON0/1", "vsol_epon": "EPON0/2"}[profile]
    )
    records = []
    for n in range(1, count + 1):
        serial = f"a8:5e:45:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}" if epon else f"HWTC{n:08X}"
        lost = n in down
        records.append(
            OnuRecord(
                port=place,
                index=n,
                serial=serial,
                status=OnuStatus.LOS if lost else OnuStatus.ONLINE,
                rx_dbm=None if lost else (-29.4 if n in weak else -20.5),
                tx_dbm=None if lost else 2.1,
                distance_m=None if lost else 1000 + n,
                description=f"C-{n:04d}",
            )
        )
    return records


def recording_dir() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="ispb-olt-rec-"))
    directory.chmod(0o755)
    return directory


@contextlib.contextmanager
def simulated_olts(
    states: Mapping[str, tuple[str, Sequence[OnuRecord]]], *, v3: tuple[str, str, str] | None = None
) -> Iterator[OltSimulator]:
    directory = recording_dir()
    for community, (profile, onus) in states.items():
        write_recording(
            directory / f"{community}.snmprec", PROFILES[profile], onus, description=f"{profile} {community}"
        )
    simulator = OltSimulator(directory, v3=v3)
    try:
        simulator.start()
        yield simulator
    finally:
        simulator.stop()
        shutil.rmtree(directory, ignore_errors=True)


class _Forward(asyncio.DatagramProtocol):
    def __init__(self, proxy: "CutProxy", client: tuple[str, int]) -> None:
        self.proxy, self.client = proxy, client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.proxy.front is not None
        self.proxy.front.sendto(data, self.client)


class CutProxy(asyncio.DatagramProtocol):
    """UDP proxy on loopback to ``upstream``; after ``answers`` requests it drops every request. ``delay`` (s)
    holds each request back first: an OLT that answers, slowly."""

    def __init__(self, upstream: tuple[str, int], answers: int = 10**9, *, delay: float = 0.0) -> None:
        self.upstream, self.answers, self.seen, self.delay = upstream, answers, 0, delay
        self.front: asyncio.DatagramTransport | None = None
        self.backs: list[asyncio.DatagramTransport] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        self.port = 0

    async def start(self) -> "CutProxy":
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self.front = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.seen += 1
        if self.seen > self.answers:
            return
        task = asyncio.get_running_loop().create_task(self._forward(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _forward(self, data: bytes, client: tuple[str, int]) -> None:
        await asyncio.sleep(self.delay)
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        back, _ = await loop.create_datagram_endpoint(lambda: _Forward(self, client), remote_addr=self.upstream)
        self.backs.append(back)
        back.sendto(data)

    def close(self) -> None:
        self.closed = True
        for task in self.tasks:
            task.cancel()
        for transport in [self.front, *self.backs]:
            if transport is not None:
                transport.close()


class GarbagePeer(asyncio.DatagramProtocol):
    """``mode="loop"``: answer each request with its own first OID again (never increasing); ``"junk"``: random
    bytes."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    async def start(self) -> "GarbagePeer":
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", free_udp_port()))
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        if self.mode == "junk":
            self.transport.sendto(os.urandom(random.randint(10, 200)), addr)
            return
        with contextlib.suppress(Exception):  # an SNMPv3 probe is not v2c: no answer, as a v2c-only agent
            self.transport.sendto(_looping_reply(data), addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _looping_reply(data: bytes) -> bytes:
    v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    request, _ = decoder.decode(data, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(request)
    name = v2c.apiPDU.get_varbinds(pdu)[0][0]
    response = v2c.apiPDU.get_response(pdu)
    v2c.apiPDU.set_varbinds(response, [(name, v2c.Integer(1))])
    message = v2c.apiMessage.get_response(request)
    v2c.apiMessage.set_pdu(message, response)
    return bytes(encoder.encode(message))


def _later(onus: list[OnuRecord], **changes: dict[str, object]) -> list[OnuRecord]:
    """``onus`` with the fields of ONU n replaced by ``changes["onu<n>"]``."""
    return [OnuRecord(**{**vars(onu), **changes.get(f"onu{onu.index}", {})}) for onu in onus]


CHECKED_IN: dict[str, tuple[str, list[OnuRecord]]] = {
    "bdcom_epon": ("bdcom_epon", onus_of("bdcom_epon", 8, weak=[3])),
    "vsol_epon": ("vsol_epon", onus_of("vsol_epon", 8, weak=[3])),
    "huawei_gpon": ("huawei_gpon", onus_of("huawei_gpon", 8, weak=[3])),
    "zte_gpon": ("zte_gpon", onus_of("zte_gpon", 8, weak=[3])),
    # one Huawei OLT's life: a new ONU appears, then one goes offline (LOS), then one's power drops
    "huawei_gpon-onu-appears": ("huawei_gpon", onus_of("huawei_gpon", 9, weak=[3])),
    "huawei_gpon-onu-offline": ("huawei_gpon", onus_of("huawei_gpon", 9, weak=[3], down=[2])),
    "huawei_gpon-power-drops": (
        "huawei_gpon",
        _later(onus_of("huawei_gpon", 9, weak=[3], down=[2]), onu4={"rx_dbm": -29.9}),
    ),
    "zte_gpon-512": ("zte_gpon", onus_of("zte_gpon", 512, weak=[3, 100, 400], down=[7, 200])),
}


def write_checked_in(directory: Path = RECORDINGS) -> list[Path]:
    directory.mkdir(exist_ok=True)
    return [
        write_recording(directory / f"{name}.snmprec", PROFILES[profile], onus, description=f"{profile} {name}")
        for name, (profile, onus) in CHECKED_IN.items()
    ]


if __name__ == "__main__":
    for written in write_checked_in():
        print(written)
