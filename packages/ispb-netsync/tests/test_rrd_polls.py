"""Polls into a real RRD file and back out: rates, counter resets and wraps, refused garbage, reruns."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rrdtool

from ispb_netsync.rrd import (
    ARCHIVES,
    COUNTER_LIMIT,
    STEP,
    GraphPeriod,
    InvalidSample,
    RRDError,
    RRDStore,
    TrafficRate,
    TrafficSample,
    update_value,
)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # on a 5-minute boundary
POLL = timedelta(seconds=STEP)


def at(poll: int) -> datetime:
    return T0 + poll * POLL


def new_file(store: RRDStore, tmp_path: Path, name: str = "customer-1.rrd", **options: int) -> Path:
    path = tmp_path / "rrd" / "acme" / name
    assert store.create(path, start=T0 - POLL, **options)
    return path


def rates(store: RRDStore, path: Path, last_poll: int) -> list[tuple[float | None, float | None]]:
    """The 5-minute rates of the intervals ending at polls 1 .. last_poll."""
    rows = store.fetch(path, T0, at(last_poll))
    by_time = {row.at: (row.download, row.upload) for row in rows}
    return [by_time[at(poll)] for poll in range(1, last_poll + 1)]


def poll(store: RRDStore, path: Path, n: int, down: int, up: int) -> None:
    report = store.update_many([TrafficSample(path, at(n), down, up)])
    assert report.updated == 1, report


def test_three_polls_give_the_rates_of_their_differences(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    poll(store, path, 0, 1_000_000, 200_000)  # the baseline
    poll(store, path, 1, 1_000_000 + 300 * 125_000, 200_000 + 300 * 10_000)  # 1 Mbit/s down, 80 kbit/s up
    poll(store, path, 2, 1_000_000 + 300 * 375_000, 200_000 + 300 * 30_000)  # then 2 Mbit/s, 160 kbit/s
    assert rates(store, path, 2) == [(125_000.0, 10_000.0), (250_000.0, 20_000.0)]
    row = store.fetch(path, T0, at(1))[0]
    assert row == TrafficRate(at(1), 125_000.0, 10_000.0)
    assert (row.download_bits, row.upload_bits) == (1_000_000.0, 80_000.0)


def test_counters_beyond_2_to_the_53_keep_every_octet(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    high = COUNTER_LIMIT - 1 - 300 * 7  # a float would round these
    poll(store, path, 0, high, 2**60)
    poll(store, path, 1, high + 300 * 7, 2**60 + 300)
    assert rates(store, path, 1) == [(7.0, 1.0)]


def test_a_counter_reset_leaves_one_unknown_point_not_a_spike(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    poll(store, path, 0, 3_000_000_000, 1_000)
    poll(store, path, 1, 3_000_000_000 + 300 * 1_000, 1_000 + 300)
    poll(store, path, 2, 300 * 50, 2_000)  # router rebooted: the download counter starts again
    poll(store, path, 3, 300 * 50 + 300 * 2_000, 2_000 + 300)
    # COUNTER semantics would read poll 2 as a 32-bit wrap: (2^32 - 3e9 + 15000) / 300 = 4.3 MB/s
    assert rates(store, path, 3) == [(1_000.0, 1.0), (None, 700 / 300), (2_000.0, 1.0)]


def test_a_64_bit_wrap_is_an_unknown_point_too(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    poll(store, path, 0, COUNTER_LIMIT - 300, 0)
    poll(store, path, 1, 600, 300)  # past 2^64: indistinguishable from a reset, never a spike
    poll(store, path, 2, 900, 600)
    assert rates(store, path, 2) == [(None, 1.0), (1.0, 1.0)]


def test_a_rate_above_the_files_ceiling_is_unknown(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path, max_bytes_per_second=125_000_000)  # a 1 Gbit/s port
    poll(store, path, 0, 0, 0)
    poll(store, path, 1, 300 * 200_000_000, 300)  # 1.6 Gbit/s on a 1 Gbit/s port: a garbage jump
    poll(store, path, 2, 300 * 200_000_000 + 300 * 1_000, 600)
    assert rates(store, path, 2) == [(None, 1.0), (1_000.0, 1.0)]


@pytest.mark.parametrize(
    ("down", "up", "words"),
    [
        (-1, 0, "download octets must be 0 to 2^64-1, not -1"),
        (0, COUNTER_LIMIT, f"upload octets must be 0 to 2^64-1, not {COUNTER_LIMIT}"),
        (1.5, 0, "download octets must be 0 to 2^64-1, not 1.5"),
        ("12", 0, "download octets must be 0 to 2^64-1, not '12'"),
        (True, 0, "download octets must be 0 to 2^64-1, not True"),
        (None, 0, "download octets must be 0 to 2^64-1, not None"),
        (float("nan"), 0, "download octets must be 0 to 2^64-1, not nan"),
    ],
)
def test_garbage_is_refused_with_its_reason_and_the_file_is_untouched(
    tmp_path: Path, down: object, up: object, words: str
) -> None:
    store = RRDStore()
    path, other = new_file(store, tmp_path), new_file(store, tmp_path, "customer-2.rrd")
    store.update_many([TrafficSample(path, at(0), 1_000, 1_000), TrafficSample(other, at(0), 0, 0)])
    before = path.read_bytes()
    garbage = TrafficSample(path, at(1), down, up)  # type: ignore[arg-type]
    report = store.update_many([garbage, TrafficSample(other, at(1), 300, 300)])
    assert [(r.path, r.reason) for r in report.refused] == [(path, f"{path}: {words}")]
    assert report.updated == 1  # the rest of the poll is recorded
    assert path.read_bytes() == before
    poll(store, path, 2, 1_000 + 600 * 10, 1_000 + 600 * 5)  # the next good poll reads as if it never came
    assert rates(store, path, 2) == [(10.0, 5.0), (10.0, 5.0)]
    with pytest.raises(InvalidSample, match="octets must be"):
        update_value(garbage)


def test_a_time_without_a_zone_is_refused(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    report = store.update_many([TrafficSample(path, datetime(2026, 12, 1, 10, 0), 0, 0)])
    assert report.updated == 0
    assert "the time must be a datetime with a time zone" in report.refused[0].reason


def test_the_same_poll_twice_is_stale_and_changes_nothing(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    samples = [TrafficSample(path, at(0), 0, 0)]
    assert store.update_many(samples).updated == 1
    before = path.read_bytes()
    again = store.update_many(samples)
    assert (again.updated, again.stale) == (0, (path,))
    assert path.read_bytes() == before


def test_a_missing_file_is_reported_or_created(tmp_path: Path) -> None:
    store = RRDStore()
    path = tmp_path / "rrd" / "acme" / "customer-9.rrd"
    report = store.update_many([TrafficSample(path, at(0), 0, 0)])
    assert (report.updated, report.missing) == (0, (path,))
    assert not path.exists()
    report = store.update_many([TrafficSample(path, at(0), 0, 0)], create_missing=True)
    assert (report.updated, report.created) == (1, (path,))
    poll(store, path, 1, 3_000, 600)
    assert rates(store, path, 1) == [(10.0, 2.0)]


def test_create_keeps_an_existing_file(tmp_path: Path) -> None:
    store = RRDStore()
    path = new_file(store, tmp_path)
    poll(store, path, 0, 5, 5)
    before = path.read_bytes()
    assert store.create(path, start=T0) is False
    assert path.read_bytes() == before


def test_fetch_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RRDError, match="No such file"):
        RRDStore().fetch(tmp_path / "nothing.rrd", T0, at(2))


def test_threads_sharing_librrd_lose_nothing(tmp_path: Path) -> None:
    """Eight threads update their own files and graph at once: the store's lock keeps librrd to one call."""
    store = RRDStore()
    paths = [new_file(store, tmp_path, f"customer-{n}.rrd") for n in range(1, 9)]
    failures: list[BaseException] = []

    def work(path: Path) -> None:
        try:
            for n in range(12):
                report = store.update_many([TrafficSample(path, at(n), n * 300 * 100, n * 300 * 50)])
                assert report.updated == 1, report
                store.graph(path, GraphPeriod.DAY, now=at(n))
        except BaseException as error:  # reported to the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for path in paths:
        assert rates(store, path, 11) == [(100.0, 50.0)] * 11


def test_a_new_file_holds_what_the_archive_module_documents(tmp_path: Path) -> None:
    path = new_file(RRDStore(), tmp_path)
    info = rrdtool.info(str(path))
    assert info["step"] == STEP == 300
    for name in ("down", "up"):
        assert (info[f"ds[{name}].type"], info[f"ds[{name}].minimal_heartbeat"]) == ("DERIVE", 600)
        assert (info[f"ds[{name}].min"], info[f"ds[{name}].max"]) == (0.0, None)
    archives = [
        (info[f"rra[{n}].cf"], info[f"rra[{n}].pdp_per_row"], info[f"rra[{n}].rows"]) for n in range(len(ARCHIVES))
    ]
    assert archives == [(a.consolidation, a.steps, a.rows) for a in ARCHIVES]
    assert f"rra[{len(ARCHIVES)}].cf" not in info
    covers = {a.resolution: a.covers for a in ARCHIVES}
    assert covers == {300: 50 * 3600, 1800: 700 * 1800, 7200: 775 * 7200, 86400: 797 * 86400}
    assert path.stat().st_size == 84_928  # the size the archive module states
