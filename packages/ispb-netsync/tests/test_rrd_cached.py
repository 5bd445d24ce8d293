"""The store through a real rrdcached (started here; Debian package ``rrdcached``): values are held by the
daemon, read back through it, refused garbage never reaches it, and a dead daemon is an error, not silence."""

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rrdtool

from ispb_netsync.rrd import (
    STEP,
    GraphPeriod,
    RRDCached,
    RRDCachedUnavailable,
    RRDStore,
    RunningRRDCached,
    TrafficSample,
    ping,
)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def at(poll: int) -> datetime:
    return T0 + timedelta(seconds=STEP * poll)


@pytest.fixture(name="daemon")
def fx_daemon(tmp_path: Path) -> Iterator[RunningRRDCached]:
    # a unix socket path must stay under 108 bytes; pytest's tmp_path can be longer
    with tempfile.TemporaryDirectory(prefix="rrdc-", dir="/tmp") as short:
        config = RRDCached(Path(short) / "rrdcached.sock", base_dir=tmp_path / "rrd", write_interval=3600)
        with config.start() as running:  # fails with "apt-get install -y rrdcached" when it is missing
            yield running


def last_on_disk(path: Path) -> datetime:
    """The last update the file itself records (read without the daemon)."""
    return rrdtool.lastupdate(str(path))["date"].replace(tzinfo=UTC)


def test_three_polls_through_rrdcached_fetch_the_expected_rates(daemon: RunningRRDCached) -> None:
    store = RRDStore(daemon=daemon.address)
    path = daemon.config.base_dir / "acme" / "customer-1.rrd"
    assert store.create(path, start=at(-1))
    for n, (down, up) in enumerate([(0, 0), (300 * 125_000, 300 * 10_000), (300 * 375_000, 300 * 30_000)]):
        assert store.update_many([TrafficSample(path, at(n), down, up)]).updated == 1
    assert last_on_disk(path) == at(-1), "rrdcached holds the values instead of writing each poll"
    rows = {row.at: (row.download, row.upload) for row in store.fetch(path, at(0), at(2))}
    assert [rows[at(1)], rows[at(2)]] == [(125_000.0, 10_000.0), (250_000.0, 20_000.0)]


def test_stopping_rrdcached_writes_what_it_held(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rrdc-", dir="/tmp") as short:
        config = RRDCached(Path(short) / "s", base_dir=tmp_path / "rrd", write_interval=3600)
        path = config.base_dir / "acme" / "customer-1.rrd"
        with config.start() as running:
            store = RRDStore(daemon=running.address)
            store.create(path, start=at(-1))
            report = store.update_many(TrafficSample(path, at(n), n * 300, n * 600) for n in range(3))
            assert report.updated == 3
        assert last_on_disk(path) == at(2)
        rows = {row.at: (row.download, row.upload) for row in RRDStore().fetch(path, at(0), at(2))}
        assert [rows[at(1)], rows[at(2)]] == [(1.0, 2.0), (1.0, 2.0)]


def test_garbage_never_reaches_rrdcached_and_the_files_queue_survives(daemon: RunningRRDCached) -> None:
    store = RRDStore(daemon=daemon.address)
    path = daemon.config.base_dir / "acme" / "customer-1.rrd"
    store.create(path, start=at(-1))
    store.update_many([TrafficSample(path, at(0), 0, 0), TrafficSample(path, at(1), 3_000, 3_000)])
    report = store.update_many([TrafficSample(path, at(2), -5, 0)])  # rrdcached would queue "-5" as is
    assert report.updated == 0 and "download octets must be 0 to 2^64-1" in report.refused[0].reason
    store.update_many([TrafficSample(path, at(3), 9_000, 9_000)])
    rows = {row.at: row.download for row in store.fetch(path, at(0), at(3))}
    assert [rows[at(1)], rows[at(2)], rows[at(3)]] == [10.0, 10.0, 10.0]


def test_the_same_poll_twice_through_rrdcached_is_stale(daemon: RunningRRDCached) -> None:
    store = RRDStore(daemon=daemon.address)
    path = daemon.config.base_dir / "acme" / "customer-1.rrd"
    store.create(path, start=at(-1))
    samples = [TrafficSample(path, at(0), 0, 0)]
    assert store.update_many(samples).updated == 1
    assert store.update_many(samples).stale == (path,)


def test_missing_files_through_rrdcached_are_reported_or_created(daemon: RunningRRDCached) -> None:
    store = RRDStore(daemon=daemon.address)
    path = daemon.config.base_dir / "acme" / "customer-7.rrd"
    assert store.update_many([TrafficSample(path, at(0), 0, 0)]).missing == (path,)
    assert store.update_many([TrafficSample(path, at(0), 0, 0)], create_missing=True).created == (path,)
    store.update_many([TrafficSample(path, at(1), 600, 300)])
    rows = {row.at: (row.download, row.upload) for row in store.fetch(path, at(0), at(1))}
    assert rows[at(1)] == (2.0, 1.0)


def test_a_graph_through_rrdcached_shows_values_not_yet_on_disk(daemon: RunningRRDCached) -> None:
    store = RRDStore(daemon=daemon.address)
    path = daemon.config.base_dir / "acme" / "customer-1.rrd"
    store.create(path, start=at(-1))
    store.update_many(TrafficSample(path, at(n), n * 300_000, n * 30_000) for n in range(12))
    assert last_on_disk(path) == at(-1)
    image = store.graph(path, GraphPeriod.DAY, now=at(12))
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 2_000
    assert last_on_disk(path) == at(11), "rrdcached flushed the file before rrdtool drew it"


def test_a_dead_rrdcached_is_an_error_not_a_silent_success(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rrdc-", dir="/tmp") as short:
        config = RRDCached(Path(short) / "s", base_dir=tmp_path / "rrd")
        path = config.base_dir / "customer-1.rrd"
        running = config.start()
        store = RRDStore(daemon=running.address)
        store.create(path, start=at(-1))
        running.stop()
        with pytest.raises(RRDCachedUnavailable, match="rrdcached at unix:"):
            store.update_many([TrafficSample(path, at(0), 0, 0)])
        with pytest.raises(RRDCachedUnavailable):
            ping(running.address)
        # librrd alone: one "socket error", then "ok" for updates it never made (see ispb_netsync.rrd.cached)
        value = f"{int(at(0).timestamp())}:1:1"
        with pytest.raises(rrdtool.OperationalError, match="socket error"):
            rrdtool.update("--daemon", running.address, str(path), value)
        rrdtool.update("--daemon", running.address, str(path), value)
        assert last_on_disk(path) == at(-1)


def test_rrdcached_dying_in_the_middle_of_a_poll_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ispb_netsync.rrd.store.CHUNK", 1)  # the poll below stops the daemon after 5 files
    with tempfile.TemporaryDirectory(prefix="rrdc-", dir="/tmp") as short:
        config = RRDCached(Path(short) / "s", base_dir=tmp_path / "rrd")
        paths = [config.base_dir / f"customer-{n}.rrd" for n in range(1, 11)]
        running = config.start()
        store = RRDStore(daemon=running.address)
        for path in paths:
            store.create(path, start=at(-1))

        def poll() -> Iterator[TrafficSample]:
            for n, path in enumerate(paths):
                if n == 5:
                    running.stop()
                yield TrafficSample(path, at(0), 0, 0)

        with pytest.raises(RRDCachedUnavailable):
            store.update_many(poll())
        assert [last_on_disk(path) for path in paths] == [at(0)] * 5 + [at(-1)] * 5  # -F wrote what it held


def test_rrdcached_missing_names_the_apt_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without rrdcached
    monkeypatch.setattr("shutil.which", lambda *_args, **_kwargs: None)
    with pytest.raises(RRDCachedUnavailable, match="apt-get install -y rrdcached"):
        RRDCached(tmp_path / "s", base_dir=tmp_path).start()
