"""Benchmark: one customer's NetFlow records for a day, found among a day of capture files, through
`ispb_netsync.netflow.Nfdump.search` against bare ``nfdump`` on the same files (the floor).

Run:  uv run python tests/bench/netflow_search.py [--files 288] [--flows 20000] [--customers 2000]

It writes a day of capture files with the real collector: for each 5-minute interval a fresh nfcapd receives
that interval's flows (NetFlow v9 from ``NetFlowV9Exporter`` on loopback, paced so no datagram is dropped) and
the file it closes is given the interval's name, as nfcapd names it when it runs all day (not timed). Each file
holds ``--flows`` flows spread evenly over ``--customers`` addresses. Then it times, three times each, the
fastest counted (the machine is shared):

1. the search: a `FlowQuery` for one customer's address over the day; nfdump runs with CSV output, which the
   library reads as it streams, parses into `FlowRecord`s and keeps those that overlap the day;
2. the floor: ``nfdump -R first:last -o csv 'ip <address>'`` with its output thrown away.

It checks the search finds exactly the customer's flows. A Python NetFlow parser instead of nfdump would decode
every flow of the day in Python: with the ``netflow`` package importable (``uv run --with netflow ...``), the
time it takes to decode the same flows as packets is printed next to nfdump's (not a figure).
Goal: < 5 s for a day of 288 files of 20,000 flows (5.8 million flows).
"""

import argparse
import asyncio
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import Figure, peak_rss, report

from ispb_netsync.netflow import Flow, FlowQuery, NetFlowV9Exporter, Nfdump, TimeRange, capture_files

DAY = datetime(2026, 12, 2, tzinfo=UTC)
INTERVAL = timedelta(minutes=5)


def address(i: int) -> str:
    return f"100.64.{i // 250}.{i % 250 + 1}"


def interval_flows(k: int, flows: int, customers: int) -> list[Flow]:
    start = DAY + INTERVAL * k
    return [
        Flow(address(n % customers), f"198.51.{n % 200}.{k % 250 + 1}", 40000 + n % 20000, 443, 6,
             1500 + n, 3, start + timedelta(seconds=n % 240), start + timedelta(seconds=n % 240 + 30))
        for n in range(flows)
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_file(directory: Path, k: int, packets: list[bytes]) -> None:
    """One interval's file: a fresh nfcapd receives the packets, closes its file on SIGTERM; renamed to the
    interval's name."""
    port = free_port()
    incoming = directory / "incoming"
    incoming.mkdir(exist_ok=True)
    nfcapd = subprocess.Popen(
        ["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-C", "none", "-B", "8000000",
         "-n", f"bench,127.0.0.1,{incoming}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    time.sleep(0.15)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for n, packet in enumerate(packets):
            udp.sendto(packet, ("127.0.0.1", port))
            if n % 40 == 39:
                time.sleep(0.0005)  # loopback is faster than nfcapd: pace, so nothing is dropped
    time.sleep(0.2)
    nfcapd.terminate()
    nfcapd.wait(10)
    target = directory / f"nfcapd.{(DAY + INTERVAL * k):%Y%m%d%H%M}"
    written = capture_files(incoming)
    if len(written) == 1:
        written[0].path.rename(target)
        return
    # nfcapd rotated while receiving (a clock boundary): one file of both, as nfdump itself writes it
    subprocess.run(["nfdump", "-R", str(incoming), "-w", str(target)], check=True, stdout=subprocess.DEVNULL)
    for file in written:
        file.path.unlink()


SAMPLE_FILES = 12
"""The Python parser decodes the first hour's packets (kept in memory); its day is that time x files / 12."""


def build(directory: Path, files: int, flows: int, customers: int) -> list[list[bytes]]:
    exporter = NetFlowV9Exporter(source_id=1, boot=DAY - timedelta(days=1))
    sample = []
    started = time.perf_counter()
    for k in range(files):
        packets = list(exporter.packets(interval_flows(k, flows, customers), now=DAY + INTERVAL * (k + 1)))
        write_file(directory, k, packets)
        if k < SAMPLE_FILES:
            sample.append(packets)
    shutil.rmtree(directory / "incoming")
    print(f"wrote {files} capture files of {flows:,} flows in {time.perf_counter() - started:.1f} s")
    return sample


def floor_run(directory: Path, first: str, last: str, target: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["nfdump", "-R", f"{directory / first}:{last}", "-o", "csv", f"ip {target}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return time.perf_counter() - started


def python_parser(packets: list[list[bytes]], files: int) -> None:
    """The alternative: decode every packet of the day in Python (``netflow`` package), if it is importable."""
    try:
        import netflow  # type: ignore[import-not-found]
    except ImportError:
        print("python parser: the 'netflow' package is not importable (uv run --with netflow ...); skipped")
        return
    templates: dict[str, dict[int, object]] = {"netflow": {}, "ipfix": {}}
    started = time.perf_counter()
    decoded = 0
    for batch in packets:
        for packet in batch:
            decoded += len(netflow.parse_packet(packet, templates).flows)
    seconds = time.perf_counter() - started
    rate, day = decoded / seconds, seconds * files / len(packets)
    print(f"python parser (netflow package): decoded {decoded:,} flows in {seconds:.2f} s ({rate:,.0f} flows/s);"
          f" the day's {files} files would take {day:.1f} s, before any filtering or storage")  # fmt: skip


def main(files: int, flows: int, customers: int) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="ispb-bench-netflow-"))
    try:
        directory = scratch / "netflow" / "bench" / "router-1"
        directory.mkdir(parents=True)
        packets = build(directory, files, flows, customers)
        target = address(customers // 3)
        expected = files * (flows // customers + (1 if customers // 3 < flows % customers else 0))
        names = [file.path.name for file in capture_files(directory)]
        window = TimeRange(DAY, DAY + INTERVAL * files)
        query = FlowQuery(window, addresses=(ipaddress.ip_address(target),), limit=1_000_000)
        size = f"{files} files x {flows:,} flows, 1 customer of {customers:,}"
        ours, floors, peak_mb = [], [], 0.0
        for _ in range(3):
            floors.append(floor_run(directory, names[0], names[-1], target))
            with peak_rss() as peak:
                started = time.perf_counter()
                found = asyncio.run(Nfdump(timeout_s=600).search([directory], query))
                ours.append(time.perf_counter() - started)
            peak_mb = max(peak_mb, peak.mb)
            assert len(found.flows) == expected and not found.truncated, (len(found.flows), expected)
            assert {str(flow.source) for flow in found.flows} == {target}
        runs = ", ".join(f"{t:.2f}" for t in ours)
        print(f"  search runs {runs} s; floor runs {', '.join(f'{t:.2f}' for t in floors)} s")
        total, fastest = files * flows, min(floors)
        print(f"nfdump read {total:,} flows in {fastest:.2f} s ({total / fastest:,.0f} flows/s); found {expected:,}")
        report(Figure("netflow search, a customer's day", size, min(ours), "s", goal_below=5, floor=min(floors),
                      ratio_goal=1.5, peak_rss_mb=peak_mb))  # fmt: skip
        python_parser(packets, files)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=288)
    parser.add_argument("--flows", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    arguments = parser.parse_args()
    main(arguments.files, arguments.flows, arguments.customers)
