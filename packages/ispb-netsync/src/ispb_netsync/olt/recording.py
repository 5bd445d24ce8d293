"""snmpsim recordings (``.snmprec``) of simulated OLTs, from `OnuRecord`s through a vendor profile.

For tests and demos: ``write_recording(path, profile, onus)`` writes the file an snmpsim
``snmpsim-command-responder --data-dir`` serves under the file's name as community (``olt-1.snmprec`` answers
community ``olt-1``). Lines are ``OID|type|value``, sorted by OID; octet strings as text when they are
printable ASCII, else in hex (``4x``).
"""

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ispb_netsync.olt.client import SYS_DESCR
from ispb_netsync.olt.profiles import Profile, RecordingRow
from ispb_netsync.olt.records import OnuRecord

_INTEGER, _OCTETS, _OCTETS_HEX = "2", "4", "4x"
_PLAIN = re.compile(rb"[ -{}~]*")
"""Printable ASCII without ``|`` is written as text (readable recordings); anything else in hex."""
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


def snmprec_lines(rows: Iterable[RecordingRow]) -> list[str]:
    """Rows as snmprec lines in OID order (snmpsim answers GETNEXT/GETBULK from the file's order)."""
    lines = []
    for oid, value in sorted(rows, key=lambda row: _key(row[0])):
        if isinstance(value, int):
            lines.append(f"{oid}|{_INTEGER}|{value}")
        elif _PLAIN.fullmatch(value):
            lines.append(f"{oid}|{_OCTETS}|{value.decode()}")
        else:
            lines.append(f"{oid}|{_OCTETS_HEX}|{value.hex()}")
    return lines


def recording(profile: Profile, onus: Sequence[OnuRecord], *, description: str, name: str = "olt") -> str:
    """The whole recording: the system group (sysDescr, sysName) and the profile's ONU tables."""
    system: list[RecordingRow] = [(SYS_DESCR, description.encode()), (SYS_NAME, name.encode())]
    return "\n".join(snmprec_lines([*system, *profile.rows(onus)])) + "\n"


def write_recording(
    path: Path, profile: Profile, onus: Sequence[OnuRecord], *, description: str, name: str = "olt"
) -> Path:
    """Write `recording` to ``path`` (readable by all: snmpsim runs as an unprivileged user)."""
    path.write_text(recording(profile, onus, description=description, name=name), encoding="ascii")
    path.chmod(0o644)
    return path
