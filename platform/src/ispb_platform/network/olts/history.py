"""An ONU's Rx power over time as an inline SVG line chart (no script, no style attribute: CSP-safe).

Readings are kept on change or hourly (``writes.py``), so the points are uneven in time: x is time, not
the reading's number.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

WIDTH, HEIGHT, PAD = 600, 200, 30
LOW, HIGH = Decimal(-35), Decimal(-5)


@dataclass(frozen=True)
class Chart:
    points: str
    threshold_y: float
    first: str
    last: str
    ticks: list[tuple[float, str]]
    gaps: list[tuple[float, float]]
    """x ranges where the ONU had no reading (offline)."""
    width: int = WIDTH
    height: int = HEIGHT


def _y(dbm: Decimal) -> float:
    clamped = min(max(dbm, LOW), HIGH)
    return round(PAD + float((HIGH - clamped) / (HIGH - LOW)) * (HEIGHT - 2 * PAD), 1)


def rx_chart(readings: list[dict[str, Any]], threshold: Decimal) -> Chart | None:
    """The chart of ``readings`` (oldest first), or None with fewer than two."""
    if len(readings) < 2:
        return None
    start: datetime = readings[0]["at"]
    end: datetime = readings[-1]["at"]
    span: float = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        seconds: float = (moment - start).total_seconds()
        return round(PAD + seconds / span * (WIDTH - 2 * PAD), 1)

    points, gaps, gap_start = [], [], None
    for row in readings:
        if row["rx_dbm"] is None:
            gap_start = x(row["at"]) if gap_start is None else gap_start
            continue
        if gap_start is not None:
            gaps.append((gap_start, x(row["at"])))
            gap_start = None
        points.append(f"{x(row['at'])},{_y(row['rx_dbm'])}")
    if gap_start is not None:
        gaps.append((gap_start, WIDTH - PAD))
    ticks = [(_y(Decimal(level)), f"{level} dBm") for level in (-10, -20, -30)]
    return Chart(
        " ".join(points), _y(threshold), start.strftime("%Y-%m-%d %H:%M"), end.strftime("%Y-%m-%d %H:%M"), ticks, gaps
    )
