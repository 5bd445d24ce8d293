"""V-SOL V1600D (EPON): the V1600D private MIB (enterprise 37950, ``vsolution`` tree .1.1.5.12).

The ONU list (onuListTable) is indexed by the OLT's own row number and says which PON port and ONU id each row
is; the optical diagnostics (opmDiagInfoTable) and ranging (onuRttTable) tables are indexed by
``<PON port>.<ONU id>``, so the profile joins them on (port, ONU id). Status, MAC and power are text on this
OLT (power as ``"0.03 mW (-16.02 dBm)"`` or just ``"-16.02"``). Ports are named as V-SOL's CLI does:
``EPON0/1``.

| column | OID | MIB object | value |
|---|---|---|---|
| port | 1.3.6.1.4.1.37950.1.1.5.12.1.9.1.2 | onuListTable ponId | integer |
| onu | 1.3.6.1.4.1.37950.1.1.5.12.1.9.1.3 | onuListTable onuId | integer |
| status | 1.3.6.1.4.1.37950.1.1.5.12.1.9.1.4 | onuListTable status | text (or 1, 2, 3 = dying gasp) |
| mac | 1.3.6.1.4.1.37950.1.1.5.12.1.9.1.5 | onuListTable macAddress | text |
| description | 1.3.6.1.4.1.37950.1.1.5.12.1.9.1.6 | onuListTable description | text |
| distance | 1.3.6.1.4.1.37950.1.1.5.12.1.17.1.3 | onuRttValue | metres |
| tx | 1.3.6.1.4.1.37950.1.1.5.12.2.1.8.1.6 | opmDiagInfoTable txPower | text, dBm |
| rx | 1.3.6.1.4.1.37950.1.1.5.12.2.1.8.1.7 | opmDiagInfoTable rxPower | text, dBm |
"""

import re
from collections.abc import Iterable, Sequence

from ispb_netsync.olt.client import Value
from ispb_netsync.olt.profiles.base import Decoder, Parsed, Profile, RecordingRow, Tables
from ispb_netsync.olt.records import OnuRecord, OnuStatus

_LIST = "1.3.6.1.4.1.37950.1.1.5.12.1.9.1"
_OPM = "1.3.6.1.4.1.37950.1.1.5.12.2.1.8.1"
COLUMNS = {
    "port": f"{_LIST}.2",
    "onu": f"{_LIST}.3",
    "status": f"{_LIST}.4",
    "mac": f"{_LIST}.5",
    "description": f"{_LIST}.6",
    "distance": "1.3.6.1.4.1.37950.1.1.5.12.1.17.1.3",
    "tx": f"{_OPM}.6",
    "rx": f"{_OPM}.7",
}
_DBM = re.compile(rb"(-?\d+(?:\.\d+)?)\s*(?:dBm)?\)?\s*$")
_NUMERIC_STATUS = {1: OnuStatus.ONLINE, 2: OnuStatus.OFFLINE, 3: OnuStatus.DYING_GASP}


def status(decode: Decoder, value: Value) -> OnuStatus:
    if isinstance(value, int):
        return _NUMERIC_STATUS.get(value, OnuStatus.UNKNOWN)
    text = decode.text(value).lower()
    if "dying" in text or "gasp" in text:
        return OnuStatus.DYING_GASP
    if "los" in text:
        return OnuStatus.LOS
    if "offline" in text or "down" in text:
        return OnuStatus.OFFLINE
    return OnuStatus.ONLINE if "online" in text or text == "up" else OnuStatus.UNKNOWN


def dbm(decode: Decoder, value: Value) -> float | None:
    if value is None or value in {b"", b"N/A", b"--"}:
        return None
    found = _DBM.search(value) if isinstance(value, bytes) else None
    if found is None:
        decode.garbled += 1
        return None
    reading = round(float(found[1]), 2)
    return reading if -50 <= reading <= 10 else None


def parse(tables: Tables) -> Parsed:
    decode = Decoder()
    column = {name: dict(tables.get(name, [])) for name in COLUMNS}
    onus = []
    for row, raw_mac in column["mac"].items():
        mac = decode.mac(raw_mac)
        port, number = decode.integer(column["port"].get(row)), decode.integer(column["onu"].get(row))
        if not mac or port is None or number is None:
            continue
        place = (port, number)
        onus.append(
            OnuRecord(
                port=f"EPON0/{port}",
                index=number,
                serial=mac,
                status=status(decode, column["status"].get(row)),
                rx_dbm=dbm(decode, column["rx"].get(place)),
                tx_dbm=dbm(decode, column["tx"].get(place)),
                distance_m=decode.distance(column["distance"].get(place)),
                description=decode.text(column["description"].get(row)),
            )
        )
    return Parsed(onus, decode.garbled)


def _power_text(reading: float | None) -> bytes:
    if reading is None:
        return b"N/A"
    milliwatts = 10 ** (reading / 10)
    return f"{milliwatts:.2f} mW ({reading:.2f} dBm)".encode()


def rows(onus: Sequence[OnuRecord]) -> Iterable[RecordingRow]:
    words = {OnuStatus.ONLINE: b"online", OnuStatus.LOS: b"los", OnuStatus.DYING_GASP: b"dying-gasp"}
    for row, onu in enumerate(onus, start=1):
        port = int(onu.port.removeprefix("EPON0/"))
        yield f"{COLUMNS['port']}.{row}", port
        yield f"{COLUMNS['onu']}.{row}", onu.index
        yield f"{COLUMNS['status']}.{row}", words.get(onu.status, b"offline")
        yield f"{COLUMNS['mac']}.{row}", onu.serial.upper().encode()
        yield f"{COLUMNS['description']}.{row}", onu.description.encode()
        place = f"{port}.{onu.index}"
        yield f"{COLUMNS['distance']}.{place}", onu.distance_m or 0
        yield f"{COLUMNS['tx']}.{place}", _power_text(onu.tx_dbm)
        yield f"{COLUMNS['rx']}.{place}", _power_text(onu.rx_dbm)


PROFILE = Profile(
    name="vsol_epon",
    label="V-SOL V1600D (EPON)",
    columns=COLUMNS,
    parse=parse,
    rows=rows,
    mib="V1600D private MIB, enterprise 37950 (onuListTable .5.12.1.9, onuRttTable .5.12.1.17, "
    "opmDiagInfoTable .5.12.2.1.8)",
)
