"""The checked-in recordings (tests/peers/snmprec/) are what the profiles write, and snmpsim serves them: each
vendor's OLT, an OLT's life (an ONU appears, one goes offline, power drops) and an OLT with 512 ONUs."""

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from ispb_netsync.olt import OltAddress, OnuStatus, read_onus
from ispb_netsync.olt.simulator import OltSimulator
from peers.snmp_olt import CHECKED_IN, RECORDINGS, write_checked_in


def test_the_checked_in_recordings_are_current():
    fresh = Path(tempfile.mkdtemp(prefix="ispb-olt-rec-"))
    try:
        for written in write_checked_in(fresh):
            assert written.read_text() == (RECORDINGS / written.name).read_text(), f"rewrite {written.name}"
    finally:
        shutil.rmtree(fresh)


def _copy() -> Path:
    """The recordings in a directory snmpsim's unprivileged user can read."""
    served = Path(tempfile.mkdtemp(prefix="ispb-olt-rec-"))
    served.chmod(0o755)
    for recording in RECORDINGS.glob("*.snmprec"):
        shutil.copy(recording, served / recording.name)
        (served / recording.name).chmod(0o644)
    return served


async def test_snmpsim_serves_every_checked_in_recording():
    served = _copy()
    try:
        with OltSimulator(served) as simulator:
            readings = {
                name: await read_onus(OltAddress("127.0.0.1", community=name, port=simulator.port), profile)
                for name, (profile, _) in CHECKED_IN.items()
            }
    finally:
        shutil.rmtree(served)
    for name, (profile, onus) in CHECKED_IN.items():
        if profile == "zte_gpon":  # the ZTE profile reads no Tx power (docs/olt.md)
            onus = [replace(onu, tx_dbm=None) for onu in onus]
        assert sorted(readings[name].onus, key=lambda onu: onu.index) == onus, name
    life = [readings[f"huawei_gpon-{step}"].onus for step in ("onu-appears", "onu-offline", "power-drops")]
    assert len(readings["huawei_gpon"].onus) == 8 and len(life[0]) == 9
    assert {o.index: o.status for o in life[1]}[2] is OnuStatus.LOS
    assert {o.index: o.rx_dbm for o in life[2]}[4] == -29.9
    big = readings["zte_gpon-512"].onus
    assert len(big) == 512 and sum(o.status is OnuStatus.LOS for o in big) == 2
