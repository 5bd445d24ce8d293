"""ZTE ZXA10 C300/C320 GPON: ZXGPON-SERVICE-MIB and ZTE-AN-OPTICAL-MODULE-MIB (enterprise 3902.1012).

Tables are indexed by ``<GPON port ifIndex>.<ONU id>`` (the optical table adds a trailing ``.1``). The port's
ifIndex is ``0x10000000 + slot<<16 + port<<8`` on shelf 1, printed as ZTE's CLI does: ``1/2/3``
(``gpon-olt_1/2/3``). Rx power is raw ``n``: ``n * 0.002 - 30`` dBm (``n`` above 32767 is negative, two's
complement), 0 and 65535 mean "no reading". The MIB's ONU Tx power column differs between firmware
versions, so this profile leaves ``tx_dbm`` empty rather than guess.

| column | OID | MIB object | value |
|---|---|---|---|
| name | 1.3.6.1.4.1.3902.1012.3.28.1.1.2 | zxGponOntName | text |
| description | 1.3.6.1.4.1.3902.1012.3.28.1.1.3 | zxGponOntDescription | text |
| serial | 1.3.6.1.4.1.3902.1012.3.28.1.1.5 | zxGponOntSn | 8 octets |
| phase | 1.3.6.1.4.1.3902.1012.3.28.2.1.4 | zxGponOntPhaseState | see `PHASES` |
| distance | 1.3.6.1.4.1.3902.1012.3.11.4.1.2 | zxGponOntDistance | metres |
| rx | 1.3.6.1.4.1.3902.1012.3.50.12.1.1.10 | zxAnOpticalOnuRxPower | see above |
"""

from collections.abc import Iterable, Sequence

from ispb_netsync.olt.client import Value
from ispb_netsync.olt.profiles.base import Decoder, Parsed, Profile, RecordingRow, Tables, gpon_serial_octets
from ispb_netsync.olt.records import OnuRecord, OnuStatus

COLUMNS = {
    "name": "1.3.6.1.4.1.3902.1012.3.28.1.1.2",
    "description": "1.3.6.1.4.1.3902.1012.3.28.1.1.3",
    "serial": "1.3.6.1.4.1.3902.1012.3.28.1.1.5",
    "phase": "1.3.6.1.4.1.3902.1012.3.28.2.1.4",
    "distance": "1.3.6.1.4.1.3902.1012.3.11.4.1.2",
    "rx": "1.3.6.1.4.1.3902.1012.3.50.12.1.1.10",
}
PHASES = {
    1: OnuStatus.UNKNOWN,  # logging: registering
    2: OnuStatus.LOS,
    3: OnuStatus.UNKNOWN,  # syncMib: coming up
    4: OnuStatus.ONLINE,
    5: OnuStatus.DYING_GASP,
    6: OnuStatus.OFFLINE,  # authFailed
    7: OnuStatus.OFFLINE,
}
_BASE = 0x10000000
_NO_READING = {0, 65535}


def port_name(if_index: int) -> str:
    offset = if_index - _BASE
    return f"1/{(offset >> 16) & 0xFF}/{(offset >> 8) & 0xFF}"


def port_if_index(port: str) -> int:
    _, slot, number = (int(part) for part in port.split("/"))
    return _BASE + (slot << 16) + (number << 8)


def rx_dbm(decode: Decoder, value: Value) -> float | None:
    raw = decode.integer(value)
    if raw is None or raw in _NO_READING:
        return None
    signed = raw - 65536 if raw > 32767 else raw
    dbm = round(signed * 0.002 - 30, 2)
    return dbm if -50 <= dbm <= 10 else None


def rx_raw(dbm: float) -> int:
    raw = round((dbm + 30) / 0.002)
    return raw + 65536 if raw < 0 else raw


def parse(tables: Tables) -> Parsed:
    decode = Decoder()
    column = {name: dict(tables.get(name, [])) for name in COLUMNS}
    rx = {index[:2]: value for index, value in tables.get("rx", [])}
    onus = []
    for index, raw_serial in column["serial"].items():
        serial = decode.gpon_serial(raw_serial)
        if len(index) != 2 or not serial:
            decode.garbled += len(index) != 2
            continue
        phase = decode.integer(column["phase"].get(index))
        description = decode.text(column["description"].get(index)) or decode.text(column["name"].get(index))
        onus.append(
            OnuRecord(
                port=port_name(index[0]),
                index=index[1],
                serial=serial,
                status=PHASES.get(phase, OnuStatus.UNKNOWN) if phase is not None else OnuStatus.UNKNOWN,
                rx_dbm=rx_dbm(decode, rx.get(index)),
                distance_m=decode.distance(column["distance"].get(index)),
                description=description,
            )
        )
    return Parsed(onus, decode.garbled)


def rows(onus: Sequence[OnuRecord]) -> Iterable[RecordingRow]:
    phase = {OnuStatus.ONLINE: 4, OnuStatus.LOS: 2, OnuStatus.DYING_GASP: 5, OnuStatus.OFFLINE: 7}
    for onu in onus:
        index = f"{port_if_index(onu.port)}.{onu.index}"
        yield f"{COLUMNS['name']}.{index}", f"ONU-{onu.port}:{onu.index}".encode()
        yield f"{COLUMNS['description']}.{index}", onu.description.encode()
        yield f"{COLUMNS['serial']}.{index}", gpon_serial_octets(onu.serial)
        yield f"{COLUMNS['phase']}.{index}", phase.get(onu.status, 1)
        yield f"{COLUMNS['distance']}.{index}", onu.distance_m if onu.distance_m is not None else 0
        yield f"{COLUMNS['rx']}.{index}.1", rx_raw(onu.rx_dbm) if onu.rx_dbm is not None else 65535


PROFILE = Profile(
    name="zte_gpon",
    label="ZTE C300/C320 (GPON)",
    columns=COLUMNS,
    parse=parse,
    rows=rows,
    mib="ZXGPON-SERVICE-MIB (zxGponOntTable .28.1, zxGponOntPhaseTable .28.2, distance .11.4), "
    "ZTE-AN-OPTICAL-MODULE-MIB (.50.12)",
)
