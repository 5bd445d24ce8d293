"""Flow records from nfdump's CSV output (``nfdump -o csv``), typed.

Columns are found by the header's names, not by position, so a column added by another nfdump version does not
shift the values. Checked against nfdump 1.7.1 (Debian 12), run with ``TZ=UTC`` so its times are UTC.
"""

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ispb_netsync.netflow.errors import FlowOutputInvalid
from ispb_netsync.netflow.query import Address

COLUMNS = {
    "first": ("ts", "firstSeen"),
    "last": ("te", "lastSeen"),
    "source": ("sa", "srcAddr"),
    "destination": ("da", "dstAddr"),
    "source_port": ("sp", "srcPort"),
    "destination_port": ("dp", "dstPort"),
    "protocol": ("pr", "proto"),
    "packets": ("ipkt", "inPackets"),
    "octets": ("ibyt", "inBytes"),
    "exporter": ("ra", "exporterIP"),
}
_END = ("No matching flows", "Summary", "")


@dataclass(frozen=True)
class FlowRecord:
    """One flow as the collector stored it: who talked to whom, when, how much."""

    first: datetime
    last: datetime
    source: Address
    destination: Address
    source_port: int
    destination_port: int
    protocol: str
    """nfdump's name (``TCP``, ``UDP``, ``ICMP``) or the number for others."""
    packets: int
    octets: int
    exporter: Address | None
    """The router that exported the flow, when nfdump knows it."""

    def touches(self, address: Address) -> bool:
        return address in (self.source, self.destination)


def parse_csv(lines: Iterable[str]) -> Iterator[FlowRecord]:
    """Records from nfdump's CSV lines (header first); stops at nfdump's trailer. `FlowOutputInvalid` on
    anything else, naming the line."""
    iterator = iter(lines)
    header = next(iterator, "").strip()
    if not header:
        return
    columns = CsvColumns.from_header(header)
    for number, raw in enumerate(iterator, start=2):
        line = raw.strip()
        if columns.is_end(line):
            return
        yield columns.record(line, number)


@dataclass(frozen=True)
class CsvColumns:
    """Where each field is in nfdump's CSV, read from its header line."""

    positions: dict[str, int]

    @classmethod
    def from_header(cls, header: str) -> "CsvColumns":
        names = header.strip().split(",")
        positions: dict[str, int] = {}
        for key, aliases in COLUMNS.items():
            found = [names.index(alias) for alias in aliases if alias in names]
            if found:
                positions[key] = found[0]
            elif key != "exporter":
                raise FlowOutputInvalid(f"nfdump's output is not its CSV (no {aliases[0]!r} column): {header[:120]!r}")
        return cls(positions)

    @staticmethod
    def is_end(line: str) -> bool:
        return line in _END or line.startswith(_END[:2])

    def record(self, line: str, number: int) -> FlowRecord:
        return _record(line, self.positions, number)


def _record(line: str, positions: dict[str, int], number: int) -> FlowRecord:
    cells = [cell.strip() for cell in line.split(",")]
    try:
        exporter = positions.get("exporter")
        return FlowRecord(
            first=_time(cells[positions["first"]]),
            last=_time(cells[positions["last"]]),
            source=ipaddress.ip_address(cells[positions["source"]]),
            destination=ipaddress.ip_address(cells[positions["destination"]]),
            source_port=_port(cells[positions["source_port"]]),
            destination_port=_port(cells[positions["destination_port"]]),
            protocol=cells[positions["protocol"]],
            packets=int(cells[positions["packets"]]),
            octets=int(cells[positions["octets"]]),
            exporter=_exporter(cells[exporter]) if exporter is not None else None,
        )
    except (IndexError, ValueError) as error:
        raise FlowOutputInvalid(f"nfdump's CSV line {number} is not a flow ({error}): {line[:120]!r}") from None


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _port(text: str) -> int:
    # ICMP flows carry type.code in the destination port column (e.g. "8.0")
    return int(float(text)) if "." in text else int(text)


def _exporter(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return None if address.is_unspecified else address
