"""Run every bench in tests/bench/ at one size and print ONE table: figure, size, result, floor, ratio, goal, met.

Run:  scripts/bench [--quick] [--only NAME ...] [--markdown FILE]

Each bench runs in its own process (its own scratch database, its own memory) with ``ISPB_BENCH_REPORT`` naming
a file where it appends its rows (``common.report``); its own output goes to ``var/bench/<name>.log`` and a line
per figure to the terminal. The full size is the one the goals are stated for (100k customers); ``--quick`` is
about a tenth of it, for a laptop or a first look. A bench that crashes or finds wrong work (each checks its
counts) makes the run fail; a goal not met does not, it says "NOT met" in the table.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import Figure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class Bench:
    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    needs: str | None = None  # a module the bench imports that the workspace may not install

    def script(self) -> Path:
        return HERE / f"{self.name}.py"


BENCHES = (
    Bench("customer_search", ("--customers", "100000"), ("--customers", "10000", "--requests", "180")),
    Bench("bill_generation", ("--parallel", "2"), ("--tenants", "10", "--parallel", "2", "--months", "2")),
    Bench("auto_suspend", ("--customers", "100000"), ("--customers", "10000")),
    Bench("advance_debit", ("--customers", "100000"), ("--customers", "10000")),
    Bench("reports", ("--customers", "100000"), ("--customers", "10000")),
    Bench("invoice_pdf", ("--invoices", "200"), ("--invoices", "60")),
    Bench("notify_reminders", (), ("--tenants", "10")),
    Bench("reactivation", ("--payments", "100"), ("--payments", "30")),
    Bench("payment_import", (), ("--lines", "10000", "--customers", "10000", "--single", "100")),
    Bench("package_rollout", (), ("--customers", "2000")),
    Bench("rrd_update", ("--files", "100000"), ("--files", "10000")),
    Bench("olt_sync", (), ("--olts", "10"), needs="snmpsim"),
    Bench("radacct", ("--rows", "10000000"), ("--rows", "1000000")),
    Bench("netflow_search", ("--files", "288"), ("--files", "48", "--flows", "5000")),
    Bench("radius_accounting", ("--sessions", "20000"), ("--sessions", "3000")),
    Bench("status_checks", ("--checks", "10000"), ("--checks", "2000", "--tenants", "4")),
    Bench("backup_requests", ("--customers", "100000"), ("--customers", "10000")),
    Bench("scale_drill", ("--operators", "1000"), ("--operators", "50")),
    Bench("run_records", ("--operators", "1000", "--days", "30"), ("--operators", "100", "--days", "3")),
    Bench("notify_http_clients", ("--client", "all"), ("--client", "all", "--messages", "5000"), needs="aiohttp"),
)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    memory_kb = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    # The interpreter's path says which build ran (a distribution's PGO+LTO python3 or a plain source build):
    # pure-Python figures such as the invoice PDF differ by ~15% between the two.
    python = f"Python {platform.python_version()} ({os.path.realpath(sys.executable)})"
    return f"{os.cpu_count()} CPU ({cpu}), {memory_kb / 1024 / 1024:.0f} GB RAM, {python}"


def run(bench: Bench, quick: bool, logs: Path) -> tuple[list[Figure], str]:
    """Run one bench; its figures and how it ended ("ok", "failed (exit N)", "skipped: ...")."""
    if bench.needs:
        try:
            __import__(bench.needs)
        except ImportError:
            return [], f"skipped: needs {bench.needs} (scripts/bench adds it)"
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as rows_file:
        rows = Path(rows_file.name)
    log = logs / f"{bench.name}.log"
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(bench.script()), *(bench.quick if quick else bench.full)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=os.environ | {"ISPB_BENCH_REPORT": str(rows), "PYTHONUNBUFFERED": "1"},
            cwd=ROOT,
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if line.startswith("[bench]"):
                print("  " + line.rstrip(), flush=True)
        status = process.wait()
    figures = [Figure(**json.loads(line)) for line in rows.read_text().splitlines() if line.strip()]
    rows.unlink()
    took = f"{time.perf_counter() - started:.0f} s"
    if status != 0:
        return figures, f"failed (exit {status}, {took}): see {log.relative_to(ROOT)}"
    if not figures:
        return figures, f"failed: reported no figure ({took}), see {log.relative_to(ROOT)}"
    return figures, f"ok ({took})"


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    head = ("figure", "size", "result", "floor", "ratio", "goal", "met", "peak RSS")
    body = [
        (
            f.figure,
            f.size,
            _number(f.result, f.unit),
            _number(f.floor, f.unit),
            _number(f.ratio),
            f.goal,
            "yes" if f.met else "NO",
            "-" if f.peak_rss_mb is None else f"{f.peak_rss_mb:,.0f} MB",
        )
        for f in figures
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a tenth of the full size")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES], help="run these benches only")
    parser.add_argument("--markdown", type=Path, help="also write the table, dated, to this file")
    arguments = parser.parse_args()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    endings: list[tuple[str, str]] = []
    for bench in BENCHES:
        if arguments.only and bench.name not in arguments.only:
            continue
        print(f"{bench.name} ...", flush=True)
        found, ending = run(bench, arguments.quick, logs)
        figures += found
        endings.append((bench.name, ending))
        print(f"  {ending}", flush=True)
    size = "quick size" if arguments.quick else "full size"
    title = f"Bench table, {datetime.now(UTC):%Y-%m-%d}, {size}, {machine()}"
    text = f"{title}\n\n{table(figures)}\n"
    print("\n" + text)
    for name, ending in endings:
        print(f"{name:22s} {ending}")
    if arguments.markdown:
        arguments.markdown.write_text(text)
    return 0 if all(ending.startswith(("ok", "skipped")) for _, ending in endings) else 1


if __name__ == "__main__":
    sys.exit(main())
