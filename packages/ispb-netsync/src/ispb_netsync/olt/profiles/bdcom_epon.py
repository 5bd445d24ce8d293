"""BDCOM EPON (P3310, P3608, P3616): NMS-EPON-ONU-MIB and IF-MIB (enterprise 3320.101).

Every ONU is an interface of the OLT; its tables are indexed by the ONU's ifIndex, and ``ifDescr`` names it
``EPON0/1:5`` (PON port ``EPON0/1``, ONU 5). The description is the interface's ``ifAlias`` (``description``
on the ONU interface in BDCOM's CLI). Power is in 0.1 dBm.

| column | OID | MIB object | value |
|---|---|---|---|
| name | 1.3.6.1.2.1.2.2.1.2 | ifDescr | ``EPON0/1:5`` |
| description | 1.3.6.1.2.1.31.1.1.1.18 | ifAlias | text |
| mac | 1.3.6.1.4.1.3320.101.10.1.1.3 | onuMacAddress | 6 octets |
| status | 1.3.6.1.4.1.3320.101.10.1.1.26 | onuStatus | see `STATUSES` |
| distance | 1.3.6.1.4.1.3320.101.10.1.1.27 | onuDistance | metres |
| rx | 1.3.6.1.4.1.3320.101.10.5.1.5 | onuReceivedOpticalPower | 0.1 dBm |
| tx | 1.3.6.1.4.1.3320.101.10.5.1.6 | onuTransmittedOpticalPower | 0.1 dBm |
"""

import re
from collections.abc import Iterable, Sequence

from ispb_netsync.olt.profiles.base import Decoder, Parsed, Profile, RecordingRow, Tables, mac_octets
from ispb_netsync.olt.records import OnuRecord, OnuStatus

COLUMNS = {
    "name": "1.3.6.1.2.1.2.2.1.2",
    "description": "1.3.6.1.2.1.31.1.1.1.18",
    "mac": "1.3.6.1.4.1.3320.101.10.1.1.3",
    "status": "1.3.6.1.4.1.3320.101.10.1.1.26",
    "distance": "1.3.6.1.4.1.3320.101.10.1.1.27",
    "rx": "1.3.6.1.4.1.3320.101.10.5.1.5",
    "tx": "1.3.6.1.4.1.3320.101.10.5.1.6",
}
STATUSES = {  # 0 authenticated, 1 registered, 2 deregistered, 3 auto-configured, 4 lost, 5 standby
    0: OnuStatus.ONLINE,
    1: OnuStatus.ONLINE,
    2: OnuStatus.OFFLINE,
    3: OnuStatus.ONLINE,
    4: OnuStatus.LOS,
    5: OnuStatus.OFFLINE,
}
_NAME = re.compile(r"(EPON\d+/\d+):(\d+)")
_NO_READING = (-65535, 65535)
ONU_IF_INDEX_BASE = 10_000
"""Recordings number ONU interfaces from here (real OLTs choose their own; only ifDescr says which is which)."""


def parse(tables: Tables) -> Parsed:
    decode = Decoder()
    column = {name: dict(tables.get(name, [])) for name in COLUMNS}
    onus = []
    for index, raw_name in column["name"].items():
        place = _NAME.fullmatch(decode.text(raw_name))
        if place is None:  # an uplink or a PON port itself, not an ONU
            continue
        mac = decode.mac(column["mac"].get(index))
        if not mac:
            continue
        status = decode.integer(column["status"].get(index))
        onus.append(
            OnuRecord(
                port=place[1],
                index=int(place[2]),
                serial=mac,
                status=STATUSES.get(status, OnuStatus.UNKNOWN) if status is not None else OnuStatus.UNKNOWN,
                rx_dbm=decode.scaled(column["rx"].get(index), 10, invalid=_NO_READING, low=-50, high=10),
                tx_dbm=decode.scaled(column["tx"].get(index), 10, invalid=_NO_READING, low=-50, high=10),
                distance_m=decode.distance(column["distance"].get(index)),
                description=decode.text(column["description"].get(index)),
            )
        )
    return Parsed(onus, decode.garbled)


def rows(onus: Sequence[OnuRecord]) -> Iterable[RecordingRow]:
    status = {OnuStatus.ONLINE: 3, OnuStatus.LOS: 4, OnuStatus.OFFLINE: 2, OnuStatus.DYING_GASP: 2}
    yield f"{COLUMNS['name']}.1", b"GigaEthernet0/1"  # an uplink: not an ONU, skipped by parse
    for number, onu in enumerate(onus):
        index = ONU_IF_INDEX_BASE + number
        yield f"{COLUMNS['name']}.{index}", onu.place.encode()
        yield f"{COLUMNS['description']}.{index}", onu.description.encode()
        yield f"{COLUMNS['mac']}.{index}", mac_octets(onu.serial)
        yield f"{COLUMNS['status']}.{index}", status.get(onu.status, 1)
        yield f"{COLUMNS['distance']}.{index}", onu.distance_m if onu.distance_m is not None else 0
        yield f"{COLUMNS['rx']}.{index}", round(onu.rx_dbm * 10) if onu.rx_dbm is not None else -65535
        yield f"{COLUMNS['tx']}.{index}", round(onu.tx_dbm * 10) if onu.tx_dbm is not None else -65535


PROFILE = Profile(
    name="bdcom_epon",
    label="BDCOM P3310/P36xx (EPON)",
    columns=COLUMNS,
    parse=parse,
    rows=rows,
    mib="NMS-EPON-ONU-MIB (onuInfoTable .101.10.1, onuOpticalPowerTable .101.10.5), IF-MIB (ifDescr, ifAlias)",
)
