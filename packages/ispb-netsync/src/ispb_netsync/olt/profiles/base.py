"""What a vendor profile is, and the value decoders profiles share.

A profile names the columns (numeric OIDs of the vendor's MIB tables) to walk, turns the walked tables into
`OnuRecord`s (`parse`), and, for tests and demos, turns records back into the rows an OLT of that vendor would
serve (`rows`, written as a snmpsim recording by ``ispb_netsync.olt.recording``). Adding a vendor is one module
in this package with a `Profile` and its recording; see docs/olt.md in the ISPB repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from ispb_netsync.olt.client import Row, Value
from ispb_netsync.olt.records import OnuRecord

Tables = Mapping[str, list[Row]]
"""Walked columns by the profile's column name."""

RecordingRow = tuple[str, int | bytes]
"""One value an OLT serves: the full numeric OID and an integer or octet string."""


@dataclass
class Parsed:
    """A profile's reading of an OLT: the ONUs and how many values did not decode (``garbled``): a value of the
    wrong type or out of range is left out of its record (``None``), never guessed; a row without the ONU's
    identity is left out whole."""

    onus: list[OnuRecord] = field(default_factory=list)
    garbled: int = 0


@dataclass(frozen=True)
class Profile:
    """One vendor's MIB mapping. ``name`` is stored with each OLT (``huawei_gpon``); ``label`` is shown."""

    name: str
    label: str
    columns: Mapping[str, str]
    parse: Callable[[Tables], Parsed]
    rows: Callable[[Sequence[OnuRecord]], Iterable[RecordingRow]]
    mib: str
    """The MIB modules the OIDs come from, for the documentation."""


class Decoder:
    """Value decoding that counts what it could not decode (`Parsed.garbled`) instead of raising."""

    def __init__(self) -> None:
        self.garbled = 0

    def integer(self, value: Value) -> int | None:
        if isinstance(value, int):
            return value
        if value is not None:
            self.garbled += 1
        return None

    def text(self, value: Value) -> str:
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace").strip("\x00").strip()
        if value is not None:
            self.garbled += 1
        return ""

    def scaled(
        self, value: Value, divisor: int, *, invalid: Iterable[int] = (), low: float, high: float
    ) -> float | None:
        """A power reading stored as an integer in 1/``divisor`` dBm; ``invalid`` values and readings outside
        [``low``, ``high``] dBm (vendors' "no reading" sentinels) are ``None``."""
        raw = self.integer(value)
        if raw is None or raw in set(invalid):
            return None
        dbm = raw / divisor
        if not low <= dbm <= high:
            return None
        return round(dbm, 2)

    def distance(self, value: Value) -> int | None:
        metres = self.integer(value)
        if metres is None or metres <= 0:  # 0 and -1: no ranging (offline)
            return None
        if metres > 100_000:
            self.garbled += 1
            return None
        return metres

    def gpon_serial(self, value: Value) -> str:
        """A GPON serial from its 8 octets: the vendor id as letters, the rest as hex (``HWTC1A2B3C4D``), as
        OLT CLIs print it. Text already in that form is kept."""
        if isinstance(value, bytes) and len(value) == 8:
            vendor = value[:4]
            if all(0x30 <= b <= 0x5A for b in vendor):
                return vendor.decode() + value[4:].hex().upper()
            return value.hex().upper()
        if isinstance(value, bytes) and re.fullmatch(rb"[A-Za-z0-9]{12,16}", value):
            return value.decode().upper()
        if value is not None:
            self.garbled += 1
        return ""

    def mac(self, value: Value) -> str:
        """An EPON ONU's MAC as ``aa:bb:cc:dd:ee:ff`` from 6 octets or from text in any common notation."""
        if isinstance(value, bytes) and len(value) == 6:
            return ":".join(f"{b:02x}" for b in value)
        if isinstance(value, bytes):
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", value)
            if len(digits) == 12:
                return ":".join(digits[i : i + 2].decode().lower() for i in range(0, 12, 2))
        if value is not None:
            self.garbled += 1
        return ""

    def date_and_time(self, value: Value) -> datetime | None:
        """SNMPv2-TC DateAndTime (8 or 11 octets) as an aware datetime; the all-zero "never" is ``None``."""
        if not isinstance(value, bytes) or len(value) not in {8, 11}:
            if value is not None:
                self.garbled += 1
            return None
        year = int.from_bytes(value[:2], "big")
        if year == 0:
            return None
        zone = UTC
        if len(value) == 11:
            sign = -1 if value[8:9] == b"-" else 1
            zone = timezone(sign * timedelta(hours=value[9], minutes=value[10]))
        try:
            return datetime(year, value[2], value[3], value[4], value[5], value[6], value[7] * 100_000, tzinfo=zone)
        except ValueError:
            self.garbled += 1
            return None


def by_index(rows: list[Row]) -> dict[tuple[int, ...], Value]:
    return dict(rows)


def date_and_time_octets(moment: datetime) -> bytes:
    """The 11-octet DateAndTime of an aware datetime (for recordings)."""
    offset = moment.utcoffset() or timedelta()
    minutes = int(abs(offset.total_seconds()) // 60)
    return (
        moment.year.to_bytes(2, "big")
        + bytes([moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond // 100_000])
        + (b"-" if offset < timedelta() else b"+")
        + bytes([minutes // 60, minutes % 60])
    )


def mac_octets(mac: str) -> bytes:
    return bytes.fromhex(re.sub(r"[^0-9A-Fa-f]", "", mac))


def gpon_serial_octets(serial: str) -> bytes:
    """``HWTC1A2B3C4D`` → 8 octets (vendor id letters, then 4 octets from hex)."""
    return serial[:4].encode() + bytes.fromhex(serial[4:12])
