"""nfcapd's capture files: which ones a search reads, which ones retention removes.

nfcapd writes into ``nfcapd.current.<pid>`` and, at the end of each rotation interval (``-t``, 5 minutes by
default), renames it to ``nfcapd.YYYYMMDDhhmm`` after the interval's start. The collector runs nfcapd with
``TZ=UTC`` so those names are UTC. A flow is written when the router exports it: when it ends, or at the
router's active timeout for a long one (RouterOS: 30 minutes), so a flow that overlaps a time range may sit in a
file named up to `EXPORT_LAG` after the range ends.

Layout: ``<data_dir>/netflow/<tenant>/<source>/``, one directory per exporter (router), because nfcapd keeps
one current file per source and directory.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ispb_netsync.netflow.query import TimeRange

ROTATION = timedelta(minutes=5)
EXPORT_LAG = timedelta(hours=1)
_NAME = re.compile(r"nfcapd\.(\d{12})")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


@dataclass(frozen=True)
class CaptureFile:
    path: Path
    start: datetime
    """Start of the rotation interval the file holds (UTC)."""


def netflow_dir(data_dir: Path, tenant: str) -> Path:
    """``<data_dir>/netflow/<tenant>``; a tenant slug that is not a plain name is refused."""
    if not _SLUG.fullmatch(tenant):
        raise ValueError(f"not a tenant slug: {tenant!r}")
    return data_dir / "netflow" / tenant


def source_dir(data_dir: Path, tenant: str, source: int) -> Path:
    """Where the flows of one exporter (a router, by id) go."""
    return netflow_dir(data_dir, tenant) / f"router-{int(source)}"


def capture_files(directory: Path) -> list[CaptureFile]:
    """The finished files in ``directory``, oldest first; the current file and anything else (a directory with a
    file's name included) are not listed."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.fullmatch(path.name)
        if match and path.is_file():
            start = datetime.strptime(match.group(1), "%Y%m%d%H%M").replace(tzinfo=UTC)
            found.append(CaptureFile(path, start))
    return sorted(found, key=lambda file: file.start)


def files_for(directory: Path, window: TimeRange, rotation: timedelta = ROTATION) -> list[CaptureFile]:
    """The files that can hold flows overlapping ``window`` (see the module's note on export lag)."""
    earliest = window.start - rotation
    latest = window.end + EXPORT_LAG
    return [file for file in capture_files(directory) if earliest <= file.start <= latest]


@dataclass(frozen=True)
class PurgeReport:
    removed: int
    kept: int


def purge_before(directory: Path, cutoff: datetime, rotation: timedelta = ROTATION) -> PurgeReport:
    """Remove the finished files whose whole interval ends at or before ``cutoff``.

    Safe to run twice or twice at once: a file another run removed first is not an error. The current file
    (``nfcapd.current.*``) is never touched, whatever its age.
    """
    removed = kept = 0
    for file in capture_files(directory):
        if file.start + rotation > cutoff:
            kept += 1
            continue
        try:
            file.path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return PurgeReport(removed, kept)
