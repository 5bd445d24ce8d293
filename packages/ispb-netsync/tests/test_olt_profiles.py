"""Vendor profiles: records written as a vendor's tables read back the same; bad values are counted, not guessed."""

from datetime import UTC, datetime

import pytest

from ispb_netsync.olt import PROFILES, OnuRecord, OnuStatus, profile_for
from ispb_netsync.olt.profiles import huawei_gpon, zte_gpon
from ispb_netsync.olt.profiles.base import Decoder


def _tables(profile_name: str, onus: list[OnuRecord]) -> dict[str, list[tuple[tuple[int, ...], object]]]:
    """What walking each column of the profile would return from an OLT serving ``onus``."""
    profile = PROFILES[profile_name]
    rows = sorted(profile.rows(onus), key=lambda row: tuple(int(p) for p in row[0].split(".")))
    tables: dict[str, list[tuple[tuple[int, ...], object]]] = {}
    for name, root in profile.columns.items():
        prefix = root + "."
        tables[name] = [
            (tuple(int(p) for p in oid[len(prefix) :].split(".")), value)
            for oid, value in rows
            if oid.startswith(prefix)
        ]
    return tables  # type: ignore[return-value]


def _onus(epon: bool, port: str) -> list[OnuRecord]:
    statuses = [OnuStatus.ONLINE, OnuStatus.LOS, OnuStatus.OFFLINE, OnuStatus.ONLINE]
    return [
        OnuRecord(
            port=port,
            index=n,
            serial=f"a8:5e:45:00:00:{n:02x}" if epon else f"ZTEG{n:08X}",
            status=status,
            rx_dbm=-21.5 if status is OnuStatus.ONLINE else None,
            tx_dbm=2.1 if status is OnuStatus.ONLINE else None,
            distance_m=1500 + n if status is OnuStatus.ONLINE else None,
            description=f"C-{n:04d} রহিম",
        )
        for n, status in enumerate(statuses, start=1)
    ]


@pytest.mark.parametrize(
    ("profile", "port"),
    [("huawei_gpon", "0/2/7"), ("zte_gpon", "1/3/4"), ("bdcom_epon", "EPON0/3"), ("vsol_epon", "EPON0/4")],
)
def test_records_written_as_the_vendor_tables_read_back_the_same(profile: str, port: str) -> None:
    onus = _onus(profile.endswith("epon"), port)
    parsed = PROFILES[profile].parse(_tables(profile, onus))
    assert parsed.garbled == 0
    expected = onus
    if profile == "zte_gpon":  # ZTE: no Tx column; OFFLINE is written as offline(7)
        expected = [OnuRecord(**{**vars(onu), "tx_dbm": None}) for onu in onus]
    if profile in {"bdcom_epon"}:  # BDCOM has no LOS/offline distinction beyond its onuStatus codes
        expected = onus
    assert sorted(parsed.onus, key=lambda o: o.index) == expected


def test_huawei_reads_dying_gasp_from_the_last_down_cause_and_keeps_the_vendor_time() -> None:
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    onu = OnuRecord("0/1/0", 5, "HWTC0000ABCD", OnuStatus.DYING_GASP, description="x", last_change=when)
    parsed = huawei_gpon.parse(_tables("huawei_gpon", [onu]))
    assert parsed.onus[0].status is OnuStatus.DYING_GASP
    assert parsed.onus[0].last_change == when


def test_huawei_port_if_index_is_frame_slot_port() -> None:
    assert huawei_gpon.port_name(4194312192) == "0/1/0"  # the ifIndex Huawei documents for 0/1/0
    assert huawei_gpon.port_if_index("0/1/0") == 4194312192


def test_zte_rx_power_is_two_thousandths_above_minus_thirty() -> None:
    decode = Decoder()
    assert zte_gpon.rx_dbm(decode, 4250) == -21.5
    assert zte_gpon.rx_dbm(decode, 65535) is None  # no reading
    assert zte_gpon.rx_raw(-21.5) == 4250


def test_values_of_the_wrong_type_are_counted_and_left_out() -> None:
    onus = _onus(False, "0/1/1")[:1]
    tables = _tables("huawei_gpon", onus)
    tables["rx"] = [(index, b"not a number") for index, _ in tables["rx"]]
    tables["distance"] = [(index, 10**9) for index, _ in tables["distance"]]
    parsed = huawei_gpon.parse(tables)
    assert parsed.garbled == 2
    assert parsed.onus[0].rx_dbm is None
    assert parsed.onus[0].distance_m is None
    assert parsed.onus[0].serial == onus[0].serial


def test_a_row_without_an_identity_is_left_out() -> None:
    tables = _tables("huawei_gpon", _onus(False, "0/1/1"))
    tables["serial"][0] = (tables["serial"][0][0], 42)
    assert len(huawei_gpon.parse(tables).onus) == 3


def test_decoder_reads_serials_and_macs_in_their_common_forms() -> None:
    decode = Decoder()
    assert decode.gpon_serial(b"HWTC\x1a\x2b\x3c\x4d") == "HWTC1A2B3C4D"
    assert decode.mac(b"A8-5E-45-01-02-03") == "a8:5e:45:01:02:03"
    assert decode.mac(bytes.fromhex("a85e45010203")) == "a8:5e:45:01:02:03"
    assert decode.garbled == 0


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(LookupError, match="huawei_gpon"):
        profile_for("acme")
