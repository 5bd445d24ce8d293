"""Huawei MA56xx/MA58xx GPON (MA5608T, MA5683T, MA5800): HUAWEI-XPON-MIB.

Tables are indexed by ``<PON port ifIndex>.<ONT id>``. The port's ifIndex encodes frame, slot and port
(``0xFA000000 + frame<<19 + slot<<13 + port<<8``), printed as Huawei's CLI does: ``0/1/3``.

| column | OID | MIB object | value |
|---|---|---|---|
| serial | 1.3.6.1.4.1.2011.6.128.1.1.2.43.1.3 | hwGponDeviceOntSn | 8 octets |
| description | 1.3.6.1.4.1.2011.6.128.1.1.2.43.1.9 | hwGponDeviceOntDespt | text |
| run_status | 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15 | hwGponDeviceOntControlRunStatus | 1 online, 2 offline |
| distance | 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.20 | hwGponDeviceOntControlRanging | metres, -1 offline |
| last_up | 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.22 | hwGponDeviceOntControlLastUpTime | DateAndTime |
| last_down | 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.23 | hwGponDeviceOntControlLastDownTime | DateAndTime |
| down_cause | 1.3.6.1.4.1.2011.6.128.1.1.2.46.1.24 | hwGponDeviceOntControlLastDownCause | 1/2/3 LOS, 13 dying-gasp |
| tx | 1.3.6.1.4.1.2011.6.128.1.1.2.51.1.3 | hwGponOntOpticalDdmTxPower | 0.01 dBm |
| rx | 1.3.6.1.4.1.2011.6.128.1.1.2.51.1.4 | hwGponOntOpticalDdmRxPower | 0.01 dBm, 2147483647 none |
"""

from collections.abc import Iterable, Sequence

from ispb_netsync.olt.profiles.base import (
    Decoder,
    Parsed,
    Profile,
    RecordingRow,
    Tables,
    by_index,
    date_and_time_octets,
    gpon_serial_octets,
)
from ispb_netsync.olt.records import OnuRecord, OnuStatus

_ONT = "1.3.6.1.4.1.2011.6.128.1.1.2"
COLUMNS = {
    "serial": f"{_ONT}.43.1.3",
    "description": f"{_ONT}.43.1.9",
    "run_status": f"{_ONT}.46.1.15",
    "distance": f"{_ONT}.46.1.20",
    "last_up": f"{_ONT}.46.1.22",
    "last_down": f"{_ONT}.46.1.23",
    "down_cause": f"{_ONT}.46.1.24",
    "tx": f"{_ONT}.51.1.3",
    "rx": f"{_ONT}.51.1.4",
}
NO_READING = 2147483647
_LOS_CAUSES = {1, 2, 3}  # LOS, LOSi, LOFi
_DYING_GASP = 13
_BASE = 0xFA000000


def port_name(if_index: int) -> str:
    offset = if_index - _BASE
    return f"{(offset >> 19) & 0x3F}/{(offset >> 13) & 0x3F}/{(offset >> 8) & 0x1F}"


def port_if_index(port: str) -> int:
    frame, slot, number = (int(part) for part in port.split("/"))
    return _BASE + (frame << 19) + (slot << 13) + (number << 8)


def _status(run: int | None, cause: int | None) -> OnuStatus:
    if run == 1:
        return OnuStatus.ONLINE
    if run != 2:
        return OnuStatus.UNKNOWN
    if cause in _LOS_CAUSES:
        return OnuStatus.LOS
    return OnuStatus.DYING_GASP if cause == _DYING_GASP else OnuStatus.OFFLINE


def parse(tables: Tables) -> Parsed:
    decode = Decoder()
    column = {name: by_index(tables.get(name, [])) for name in COLUMNS}
    onus = []
    for index, raw_serial in column["serial"].items():
        serial = decode.gpon_serial(raw_serial)
        if len(index) != 2 or not serial:
            decode.garbled += len(index) != 2
            continue
        run, cause = column["run_status"].get(index), column["down_cause"].get(index)
        status = _status(decode.integer(run), decode.integer(cause))
        changed = column["last_up" if status is OnuStatus.ONLINE else "last_down"].get(index)
        onus.append(
            OnuRecord(
                port=port_name(index[0]),
                index=index[1],
                serial=serial,
                status=status,
                rx_dbm=decode.scaled(column["rx"].get(index), 100, invalid=(NO_READING,), low=-50, high=10),
                tx_dbm=decode.scaled(column["tx"].get(index), 100, invalid=(NO_READING,), low=-50, high=10),
                distance_m=decode.distance(column["distance"].get(index)),
                description=decode.text(column["description"].get(index)),
                last_change=decode.date_and_time(changed),
            )
        )
    return Parsed(onus, decode.garbled)


def rows(onus: Sequence[OnuRecord]) -> Iterable[RecordingRow]:
    for onu in onus:
        index = f"{port_if_index(onu.port)}.{onu.index}"
        online = onu.status is OnuStatus.ONLINE
        cause = {OnuStatus.LOS: 1, OnuStatus.DYING_GASP: _DYING_GASP}.get(onu.status, 9 if not online else -1)
        yield f"{COLUMNS['serial']}.{index}", gpon_serial_octets(onu.serial)
        yield f"{COLUMNS['description']}.{index}", onu.description.encode()
        yield f"{COLUMNS['run_status']}.{index}", 1 if online else 2
        yield f"{COLUMNS['distance']}.{index}", onu.distance_m if onu.distance_m is not None else -1
        if onu.last_change is not None:
            yield f"{COLUMNS['last_up' if online else 'last_down']}.{index}", date_and_time_octets(onu.last_change)
        yield f"{COLUMNS['down_cause']}.{index}", cause
        yield f"{COLUMNS['tx']}.{index}", round(onu.tx_dbm * 100) if onu.tx_dbm is not None else NO_READING
        yield f"{COLUMNS['rx']}.{index}", round(onu.rx_dbm * 100) if onu.rx_dbm is not None else NO_READING


PROFILE = Profile(
    name="huawei_gpon",
    label="Huawei MA56xx/MA58xx (GPON)",
    columns=COLUMNS,
    parse=parse,
    rows=rows,
    mib="HUAWEI-XPON-MIB (hwGponDeviceOntAuthInfoTable .43, hwGponDeviceOntControlTable .46, "
    "hwGponOntOpticalDdmInfoTable .51)",
)
