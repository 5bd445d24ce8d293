"""Benchmark: one 5-minute poll into 100,000 customer RRD files, through `ispb_netsync.rrd.RRDStore`, against a
bare ``rrdtool.update`` loop over the same files (the floor), written directly and through rrdcached.

Run:  uv run python tests/bench/rrd_update.py [--files 100000] [--dir /tmp]

It creates the files (not timed; 85 kB each, so 8.5 GB at 100,000: ``--dir`` picks the disk) under a scratch
directory removed at the end, sets the counters' baseline with one poll, then times polls that alternate
between the floor and the store, three times each, and counts the fastest of each (the machine is shared):

1. direct: the floor is ``rrdtool.update(path, "time:down:up")`` per file; the store's ``update_many`` checks
   every sample (whole octets in the 64-bit range, a time with a zone), takes the process-wide librrd lock per
   1,000 files, classifies failures per file;
2. rrdcached (started here, as the platform would start it): the same two loops with ``--daemon``; the store
   also pings the daemon before and after the batch (librrd reports success for updates a dead daemon never
   got). The daemon's writes happen later, spread over its write interval; the time ``rrdcached`` takes to
   write everything it holds when it stops (``-F``) is printed, not a figure.

The samples (``TrafficSample`` values, what the platform job will hand over) are built before the clock starts
for both. It checks that every file then holds the rates the polls imply. Goal: < 10 s for 100,000 files.
"""

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import rrdtool
from common import Figure, peak_rss, report

from ispb_netsync.rrd import STEP, RRDCached, RRDStore, TrafficSample

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def poll(paths: list[Path], n: int) -> list[TrafficSample]:
    """Poll ``n``: customer i has downloaded i octets/s and uploaded 1 octet/s since poll 0."""
    when = T0 + timedelta(seconds=STEP * n)
    return [TrafficSample(path, when, i * STEP * n, STEP * n) for i, path in enumerate(paths)]


def bare_loop(samples: list[TrafficSample], daemon: tuple[str, ...]) -> None:
    """The floor: nothing but the binding's call per file."""
    stamp = int(samples[0].when.timestamp())
    for sample in samples:
        rrdtool.update(*daemon, str(sample.path), f"{stamp}:{sample.download_octets}:{sample.upload_octets}")


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(store: RRDStore, paths: list[Path], first_poll: int) -> tuple[float, float, float]:
    """Store and floor times (the fastest of three polls each) and the store's peak RSS; polls first_poll..+5."""
    daemon = ("--daemon", store.daemon) if store.daemon else ()
    floors, ours, peak_mb = [], [], 0.0
    for n in range(first_poll, first_poll + 6):
        samples = poll(paths, n)
        if n % 2:
            floors.append(timed(lambda samples=samples: bare_loop(samples, daemon)))
            continue
        with peak_rss() as peak:
            started = time.perf_counter()
            result = store.update_many(samples)
            ours.append(time.perf_counter() - started)
        peak_mb = max(peak_mb, peak.mb)
        assert result.updated == len(paths), result
    print(f"  store runs {', '.join(f'{t:.2f}' for t in ours)} s; floor runs {', '.join(f'{t:.2f}' for t in floors)} s")
    return min(ours), min(floors), peak_mb


def check(store: RRDStore, paths: list[Path], last_poll: int) -> None:
    """Every 997th file holds its customer's rates for the last poll (i octets/s down, 1 up)."""
    end = T0 + timedelta(seconds=STEP * last_poll)
    for i in range(0, len(paths), 997):
        row = next(r for r in store.fetch(paths[i], end - timedelta(seconds=STEP), end) if r.at == end)
        assert (row.download, row.upload) == (float(i), 1.0), (paths[i], row)


def main(files: int, base: Path) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="ispb-bench-rrd-", dir=base))
    try:
        paths = [scratch / "bench" / f"customer-{i}.rrd" for i in range(files)]
        store = RRDStore()
        started = time.perf_counter()
        for path in paths:
            store.create(path, start=T0 - timedelta(seconds=STEP))
        assert store.update_many(poll(paths, 0)).updated == files
        print(f"created {files:,} files and their baseline in {time.perf_counter() - started:.1f} s")
        size = f"{files:,} files, one poll"
        direct, floor, peak_mb = measure(store, paths, 1)
        check(store, paths, 6)
        print(f"direct: store {direct:.2f} s ({files / direct:,.0f} files/s), floor {floor:.2f} s")
        report(Figure("rrd update, direct", size, direct, "s", goal_below=10, floor=floor, peak_rss_mb=peak_mb))
        with tempfile.TemporaryDirectory(prefix="rrdc-", dir="/tmp") as short:
            daemon = RRDCached(Path(short) / "rrdcached.sock", base_dir=scratch, write_interval=3600)
            running = daemon.start()
            try:
                cached = RRDStore(daemon=running.address)
                through, cached_floor, cached_peak = measure(cached, paths, 7)
                check(cached, paths, 12)
            finally:
                flush = timed(running.stop)
            print(f"rrdcached: store {through:.2f} s, floor {cached_floor:.2f} s; its flush on stop {flush:.1f} s")
        report(
            Figure(
                "rrd update, rrdcached", size, through, "s", goal_below=10, floor=cached_floor, peak_rss_mb=cached_peak
            )
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where the files go")
    arguments = parser.parse_args()
    main(arguments.files, arguments.dir)
