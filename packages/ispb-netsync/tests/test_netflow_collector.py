"""Flows from a NetFlow v9 exporter on loopback reach a real nfcapd (Debian ``nfdump``) and come back from a
real nfdump search; an unknown exporter and garbage packets are dropped without losing the known router's
flows; retention removes old files and never the current one."""

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ispb_netsync.netflow import (
    ExporterSource,
    Flow,
    FlowQuery,
    NetFlowV9Exporter,
    NfcapdCollector,
    Nfdump,
    NfdumpFailed,
    NfdumpMissing,
    TimeRange,
    capture_files,
    flow_query,
    purge_before,
    unknown_exporter,
)

ROUTER = "127.0.0.2"
STRANGER = "127.0.0.9"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def send(packets: list[bytes], port: int, source: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.bind((source, 0))
        for packet in packets:
            sender.sendto(packet, ("127.0.0.1", port))


def flows(now: datetime, count: int, customer: str = "100.64.0.7") -> list[Flow]:
    return [
        Flow(customer, "198.51.100.10", 40000 + n, 443, 6, 1500 * (n + 1), n + 1, now - timedelta(minutes=3), now)
        for n in range(count)
    ]


class Collected:
    def __init__(self, collector: NfcapdCollector, port: int, log: list[str], directory: Path) -> None:
        self.collector, self.port, self.log, self.directory = collector, port, log, directory

    async def settle(self) -> None:
        """Until nfcapd has read what was sent: its statistics are printed when it stops."""
        await asyncio.sleep(0.5)
        await self.collector.stop()


@pytest.fixture(name="collected")
async def fx_collected(tmp_path: Path) -> AsyncIterator[Collected]:
    log: list[str] = []

    async def keep(line: str) -> None:
        log.append(line)

    port = free_udp_port()
    collector = NfcapdCollector(host="127.0.0.1", port=port, log=keep)
    directory = tmp_path / "acme" / "router-1"
    await collector.apply([ExporterSource("acme-r1", ipaddress.ip_address(ROUTER), directory)])
    for _ in range(50):  # until it has bound its port
        if any("Startup" in line for line in log):
            break
        await asyncio.sleep(0.05)
    try:
        yield Collected(collector, port, log, directory)
    finally:
        await collector.stop()


async def test_flows_reach_nfcapd_and_nfdump_finds_them(collected: Collected) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    exporter = NetFlowV9Exporter(source_id=1, boot=now - timedelta(hours=1))
    send(list(exporter.packets(flows(now, 30), now=now)), collected.port, ROUTER)
    send(list(exporter.packets(flows(now, 5, "100.64.0.8"), now=now)), collected.port, ROUTER)
    await collected.settle()

    window = TimeRange(now - timedelta(minutes=10), now + timedelta(minutes=1))
    search = await Nfdump().search([collected.directory], flow_query(window, addresses=["100.64.0.7"]))
    assert len(search.flows) == 30 and not search.truncated and search.files >= 1
    assert {str(flow.source) for flow in search.flows} == {"100.64.0.7"}
    assert sorted(flow.octets for flow in search.flows) == [1500 * (n + 1) for n in range(30)]
    assert search.flows[0].first == now - timedelta(minutes=3)
    assert str(search.flows[0].exporter) == ROUTER

    limited = await Nfdump().search([collected.directory], flow_query(window, addresses=["100.64.0.7"], limit=10))
    assert len(limited.flows) == 10 and limited.truncated

    # a second exporter's directory (a copy of the first's file): both are read, in parallel, merged by time
    twin = collected.directory.parent / "router-2"
    twin.mkdir()
    for file in capture_files(collected.directory):
        (twin / file.path.name).write_bytes(file.path.read_bytes())
    both = await Nfdump().search([collected.directory, twin], flow_query(window, addresses=["100.64.0.7"]))
    assert len(both.flows) == 60 and both.files == 2 * search.files
    assert [flow.first for flow in both.flows] == sorted(flow.first for flow in both.flows)
    # nfdump failing for the exporters (here: out of time) is one typed error, not a group of them
    with pytest.raises(NfdumpFailed, match="took longer than"):
        await Nfdump(timeout_s=0.000_001).search([collected.directory, twin], flow_query(window))

    earlier = TimeRange(now - timedelta(hours=2), now - timedelta(hours=1))
    assert (await Nfdump().search([collected.directory], flow_query(earlier, addresses=["100.64.0.7"]))).flows == ()


async def test_unknown_exporter_and_garbage_are_dropped_and_nothing_else_is_lost(collected: Collected) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    exporter = NetFlowV9Exporter(source_id=1, boot=now - timedelta(hours=1))
    send([b"\x00\x09garbage", b"\xff" * 40, b""], collected.port, ROUTER)
    send(
        list(NetFlowV9Exporter(source_id=7, boot=now - timedelta(hours=1)).packets(flows(now, 3), now=now)),
        collected.port,
        STRANGER,
    )
    send(list(exporter.packets(flows(now, 4), now=now)), collected.port, ROUTER)
    await collected.settle()

    assert ipaddress.ip_address(STRANGER) in {unknown_exporter(line) for line in collected.log}
    window = TimeRange(now - timedelta(minutes=10), now + timedelta(minutes=1))
    search = await Nfdump().search([collected.directory], flow_query(window))
    assert len(search.flows) == 4
    assert {str(flow.exporter) for flow in search.flows} == {ROUTER}


async def test_purge_removes_old_files_only_and_twice_is_harmless(tmp_path: Path) -> None:
    directory = tmp_path / "router-1"
    directory.mkdir()
    for name in ("nfcapd.202611010000", "nfcapd.202612021155", "nfcapd.202612021200", "nfcapd.current.4242"):
        (directory / name).write_bytes(b"x")
    (directory / "nfcapd.202610010000").mkdir()  # not a capture file, whatever its name: left alone
    cutoff = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    report = purge_before(directory, cutoff)
    assert (report.removed, report.kept) == (2, 1)
    assert sorted(path.name for path in directory.iterdir()) == [
        "nfcapd.202610010000",
        "nfcapd.202612021200",
        "nfcapd.current.4242",
    ]
    assert purge_before(directory, cutoff).removed == 0
    assert purge_before(directory, cutoff + timedelta(days=3650)).removed == 1
    assert sorted(path.name for path in directory.iterdir()) == ["nfcapd.202610010000", "nfcapd.current.4242"]
    assert capture_files(tmp_path / "missing") == []


async def test_unreadable_files_are_warnings_and_the_rest_is_searched(tmp_path: Path) -> None:
    directory = tmp_path / "router-1"
    directory.mkdir()
    (directory / "nfcapd.202612030700").write_bytes(b"garbage, not a capture file")
    window = TimeRange(datetime(2026, 12, 3, 7, tzinfo=UTC), datetime(2026, 12, 3, 8, tzinfo=UTC))
    search = await Nfdump().search([directory], flow_query(window, addresses=["100.64.0.7"]))
    assert search.flows == () and search.files == 1
    assert search.warnings and "router-1" in search.warnings[0]


async def test_missing_programs_and_refused_filters_are_typed_errors(tmp_path: Path) -> None:
    window = TimeRange(datetime(2026, 12, 3, 7, tzinfo=UTC), datetime(2026, 12, 3, 8, tzinfo=UTC))
    (tmp_path / "nfcapd.202612030700").write_bytes(b"")
    with pytest.raises(NfdumpMissing, match="apt-get install nfdump"):
        await Nfdump(binary="/nonexistent/nfdump").search([tmp_path], FlowQuery(window))

    async def ignore(line: str) -> None:
        pass

    collector = NfcapdCollector("127.0.0.1", free_udp_port(), ignore, binary="/nonexistent/nfcapd")
    source = ExporterSource("r1", ipaddress.ip_address(ROUTER), tmp_path / "r1")
    with pytest.raises(NfdumpMissing, match="nfcapd"):
        await collector.apply([source])
    with pytest.raises(NfdumpFailed, match="Unknown protocol"):
        await Nfdump().check_filter("proto bogus")
    assert "1.7" in await Nfdump().version()


async def test_a_port_in_use_ends_nfcapd_with_its_reason(tmp_path: Path) -> None:
    log: list[str] = []

    async def keep(line: str) -> None:
        log.append(line)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = int(taken.getsockname()[1])
        collector = NfcapdCollector(host="127.0.0.1", port=port, log=keep)
        assert await collector.apply([ExporterSource("r1", ipaddress.ip_address(ROUTER), tmp_path / "r1")])
        status = await asyncio.wait_for(collector.wait(), 10)
        await collector.stop()
    assert status != 0 and not collector.running
    assert any("bind" in line.lower() or "address already in use" in line.lower() for line in log), log
