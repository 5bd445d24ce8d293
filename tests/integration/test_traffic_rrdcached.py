"""Traffic graphs through rrdcached (ISPB_RRDCACHED_SOCKET): a worker starts the daemon, every write and graph
goes through it, a second worker uses the running one, and stopping flushes every value to disk."""

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rrdtool

from ispb_netsync.rrd import RRDCachedUnavailable, TrafficSample, customer_rrd, ping
from ispb_platform.network.traffic.files import customer_graph, rrd_files, store
from ispb_platform.settings import SettingsError, parse_settings
from ispb_tenants import TenantRef


@pytest.fixture(autouse=True)
def _rrdcached_installed() -> None:
    """A missing daemon fails these tests loudly (scripts/bootstrap and CI install it): a skip would let the
    rrdcached path go untested without anyone seeing."""
    if shutil.which("rrdcached") is None:
        pytest.fail("these tests need Debian's rrdcached (scripts/bootstrap installs it)")


TENANT = TenantRef(id=1, slug="cached", schema="tenant_cached", timezone="Asia/Dhaka")


def _daemons(socket: Path) -> int:
    found = subprocess.run(["pgrep", "-f", f"rrdcached .*{socket}"], capture_output=True, text=True, check=False)
    return len(found.stdout.split())


async def test_a_worker_starts_rrdcached_writes_through_it_and_flushes_when_it_stops(tmp_path: Path):
    short = Path(tempfile.mkdtemp(prefix="ispb-rrdc-", dir="/tmp"))  # a unix socket path is at most 107 bytes
    socket, data_dir = short / "rrdcached.sock", tmp_path / "data"
    path = customer_rrd(data_dir, TENANT.slug, 7)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        async with rrd_files(socket, data_dir, owner=True) as address:
            assert address == f"unix:{socket}" and store().daemon == address
            ping(address)
            async with rrd_files(socket, data_dir, owner=True):  # a second worker: uses it, starts none
                assert _daemons(socket) == 1
            ping(address)  # the second one's exit left the first one's daemon running
            store().update_many([TrafficSample(path, start, 0, 0)], create_missing=True)
            for n in (1, 2, 3):
                store().update_many([TrafficSample(path, start + timedelta(seconds=300 * n), n * 300_000, n * 3_000)])
            rates = [r for r in store().fetch(path, start, start + timedelta(seconds=900)) if r.download is not None]
            assert rates and all(
                round(r.download) == 1_000 and round(r.upload) == 10 for r in rates
            )  # flushed for reads
            graph = customer_graph(data_dir, TENANT, 7, "day", "C7")
            assert graph is not None and graph[:4] == b"\x89PNG"
        with pytest.raises(RRDCachedUnavailable):
            ping(f"unix:{socket}")
        assert _daemons(socket) == 0 and store().daemon is None
        last = rrdtool.lastupdate(str(path))["date"]
        assert abs(last.timestamp() - (start + timedelta(seconds=900)).timestamp()) < 1  # on disk after the stop
    finally:
        shutil.rmtree(short, ignore_errors=True)


async def test_a_web_process_only_uses_the_daemon(tmp_path: Path):
    socket = Path(tempfile.mkdtemp(prefix="ispb-rrdc-", dir="/tmp")) / "rrdcached.sock"
    async with rrd_files(socket, tmp_path, owner=False) as address:
        assert store().daemon == address and _daemons(socket) == 0
        assert customer_graph(tmp_path, TENANT, 1, "day", "C1") is None  # no daemon: no graph, no crash
    shutil.rmtree(socket.parent, ignore_errors=True)


async def test_without_the_setting_files_are_written_directly(tmp_path: Path):
    async with rrd_files(None, tmp_path, owner=True) as address:
        assert address is None and store().daemon is None


def test_the_socket_setting_is_checked():
    assert parse_settings({"ISPB_RRDCACHED_SOCKET": "/run/ispb/rrdcached.sock"}).rrdcached_socket == Path(
        "/run/ispb/rrdcached.sock"
    )
    assert parse_settings({}).rrdcached_socket is None
    for bad in ("relative.sock", "/" + "x" * 120):
        with pytest.raises(SettingsError, match="ISPB_RRDCACHED_SOCKET"):
            parse_settings({"ISPB_RRDCACHED_SOCKET": bad})
