"""`RRDStore`: every rrdtool call of a process goes through here, one at a time, optionally via rrdcached.

librrd is not thread-safe (its option parsing and error text are process-wide, and the Python module releases
the GIL), so the store holds one process-wide lock around every call into it: callers may use it from any
thread, e.g. ``await asyncio.to_thread(store.update_many, samples)`` from async code. A batch takes the lock
per chunk of files, so a graph request waits for one chunk, not a whole poll. Between processes (web and
worker), librrd's own file lock refuses a second concurrent writer of the same file (reported per file); with
rrdcached every write is made by the daemon, which is the one owner of the files.

>>> store = RRDStore()            # direct writes; RRDStore(daemon="unix:/run/ispb/rrdcached.sock") for rrdcached
"""

import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ispb_netsync.rrd.archive import DOWNLOAD, STEP, UPLOAD, definition
from ispb_netsync.rrd.cached import ping
from ispb_netsync.rrd.errors import InvalidSample, RRDCachedUnavailable, RRDError
from ispb_netsync.rrd.graph import GraphLook, GraphPeriod, graph_arguments
from ispb_netsync.rrd.samples import TrafficSample, file_argument, update_value

try:
    import rrdtool
except ModuleNotFoundError as error:  # pragma: no cover - the extra is installed wherever the tests run
    raise ModuleNotFoundError(
        "ispb_netsync.rrd needs the rrdtool binding: pip install 'ispb-netsync[rrd]' (Debian: librrd-dev first)"
    ) from error

_LIBRRD = threading.Lock()
"""Process-wide because librrd's state is: one lock per store would let two stores call it at once."""

CHUNK = 1000
"""Files updated per turn of the lock."""

# librrd's words for the outcomes a poll handles itself (local file / through rrdcached)
_MISSING = ("No such file or directory", "No such file:")
_STALE = "illegal attempt to update using time"
_DAEMON_GONE = ("socket error", "Unable to connect to rrdcached", "Broken pipe", "Connection reset")


@dataclass(frozen=True)
class Refusal:
    """A sample that was not recorded, and why (the check's or rrdtool's words)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class UpdateReport:
    """What one `RRDStore.update_many` did, per file.

    ``stale`` samples were not after the file's last update: the same poll run twice, or out of order.
    ``missing`` files did not exist (and ``create_missing`` was off); ``created`` ones were made for the poll.
    """

    updated: int = 0
    created: tuple[Path, ...] = ()
    stale: tuple[Path, ...] = ()
    missing: tuple[Path, ...] = ()
    refused: tuple[Refusal, ...] = ()


@dataclass(frozen=True)
class TrafficRate:
    """One consolidated point: octets per second over the interval that ends at ``at``; None when unknown
    (no poll, a counter reset, a rate above the file's ceiling)."""

    at: datetime
    download: float | None
    upload: float | None

    @property
    def download_bits(self) -> float | None:
        return None if self.download is None else self.download * 8

    @property
    def upload_bits(self) -> float | None:
        return None if self.upload is None else self.upload * 8


@dataclass
class _Tally:
    updated: int = 0
    created: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def report(self) -> UpdateReport:
        return UpdateReport(
            self.updated, tuple(self.created), tuple(self.stale), tuple(self.missing), tuple(self.refused)
        )


def _chunks(samples: Iterable[TrafficSample]) -> Iterator[list[TrafficSample]]:
    chunk: list[TrafficSample] = []
    for sample in samples:
        chunk.append(sample)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RRDStore:
    """Creates, updates, fetches and graphs traffic RRDs (layout in `ispb_netsync.rrd.archive`).

    ``daemon`` is rrdcached's address (``unix:/path``); None writes the files directly.
    """

    def __init__(self, daemon: str | None = None) -> None:
        self.daemon = daemon
        self._daemon_options: tuple[str, ...] = ("--daemon", daemon) if daemon else ()

    def create(self, path: Path, *, start: datetime, max_bytes_per_second: int | None = None) -> bool:
        """Create the file (and its directory) unless it exists; whether it was created. Samples at or
        before ``start`` (time-zone aware) are refused as stale; the first one after it is the counters'
        baseline."""
        if start.tzinfo is None:
            raise RRDError(f"{path}: the start must be a datetime with a time zone, not {start!r}")
        with _LIBRRD:
            self._check_daemon()
            return self._create(file_argument(path), int(start.timestamp()), max_bytes_per_second)

    def _create(self, name: str, start: int, max_bytes_per_second: int | None = None) -> bool:
        os.makedirs(os.path.dirname(name), exist_ok=True)
        arguments = ("--start", str(start), "--step", str(STEP), "--no-overwrite")
        try:
            rrdtool.create(*self._daemon_options, name, *arguments, *definition(max_bytes_per_second))
        except rrdtool.OperationalError as error:
            if os.path.exists(name):  # created by someone else meanwhile (or before): the same file
                return False
            raise RRDError(str(error)) from None
        return True

    def update_many(self, samples: Iterable[TrafficSample], *, create_missing: bool = False) -> UpdateReport:
        """Record one poll: each sample into its file. A bad sample or file is reported and skipped; the
        others are recorded. Raises only `RRDCachedUnavailable` (then nothing after the first failure was
        recorded; running the same poll again records the rest and reports the rest as stale)."""
        tally = _Tally()
        with _LIBRRD:
            self._check_daemon()
        for chunk in _chunks(samples):
            with _LIBRRD:
                for sample in chunk:
                    self._update_one(sample, tally, create_missing)
        with _LIBRRD:
            self._check_daemon()  # librrd reports success for updates sent to a daemon that died meanwhile
        return tally.report()

    def _update_one(self, sample: TrafficSample, tally: _Tally, create_missing: bool) -> None:
        try:
            name, value = file_argument(sample.path), update_value(sample)
            rrdtool.update(*self._daemon_options, name, value)
        except InvalidSample as error:
            tally.refused.append(Refusal(sample.path, error.message))
            return
        except rrdtool.OperationalError as error:
            self._failed(sample, str(error), tally, create_missing)
            return
        tally.updated += 1

    def _failed(self, sample: TrafficSample, message: str, tally: _Tally, create_missing: bool) -> None:
        if any(words in message for words in _DAEMON_GONE):
            raise RRDCachedUnavailable(f"rrdcached at {self.daemon}: {message}")
        if _STALE in message:
            tally.stale.append(sample.path)
        elif any(words in message for words in _MISSING) and not os.path.exists(sample.path):
            if not create_missing:
                tally.missing.append(sample.path)
                return
            name = file_argument(sample.path)
            try:  # a file another poll created meanwhile is used as it is
                created = self._create(name, int(sample.when.timestamp()) - 1)
                rrdtool.update(*self._daemon_options, name, update_value(sample))
            except (RRDError, rrdtool.OperationalError) as error:
                tally.refused.append(Refusal(sample.path, str(error)))
                return
            if created:
                tally.created.append(sample.path)
            tally.updated += 1
        else:
            tally.refused.append(Refusal(sample.path, message))

    def _check_daemon(self) -> None:
        if self.daemon:
            ping(self.daemon)

    def fetch(
        self, path: Path, start: datetime, end: datetime, *, resolution: int = STEP, consolidation: str = "AVERAGE"
    ) -> list[TrafficRate]:
        """The rates between ``start`` and ``end`` at the finest archive that covers ``start`` and is at least
        ``resolution`` seconds per row; ``consolidation`` "AVERAGE" or "MAX" (MAX from 30-minute rows up)."""
        if consolidation not in ("AVERAGE", "MAX"):
            raise RRDError(f"consolidation must be AVERAGE or MAX, not {consolidation!r}")
        window = (str(int(start.timestamp())), str(int(end.timestamp())))
        arguments = ("--resolution", str(resolution), "--start", window[0], "--end", window[1])
        try:
            with _LIBRRD:
                self._check_daemon()
                (first, _, step), names, rows = rrdtool.fetch(
                    *self._daemon_options, file_argument(path), consolidation, *arguments
                )
        except rrdtool.OperationalError as error:
            raise RRDError(str(error)) from None
        down, up = names.index(DOWNLOAD), names.index(UPLOAD)
        # row i holds the interval that ends at first + (i + 1) * step (rrdtool fetch's own printing)
        return [
            TrafficRate(datetime.fromtimestamp(first + (i + 1) * step, UTC), row[down], row[up])
            for i, row in enumerate(rows)
        ]

    def graph(self, path: Path, period: GraphPeriod, *, now: datetime, look: GraphLook | None = None) -> bytes:
        """A PNG of the file's download and upload over ``period`` up to ``now``, drawn in ``look``."""
        arguments = graph_arguments(file_argument(path), period, now, look or GraphLook())
        if not os.path.exists(path):  # rrdtool would draw an empty frame with an error in its log only
            raise RRDError(f"{path}: no such RRD file")
        try:
            with _LIBRRD:
                self._check_daemon()
                drawn = rrdtool.graphv(arguments[0], *self._daemon_options, *arguments[1:])
        except rrdtool.OperationalError as error:
            raise RRDError(str(error)) from None
        image = drawn.get("image")  # graphv("-") returns the PNG in memory (DESIGN 9)
        if not isinstance(image, bytes):
            raise RRDError(f"{path}: rrdtool drew no image")
        return image
