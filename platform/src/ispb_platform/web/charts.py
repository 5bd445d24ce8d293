"""Charts drawn on the server as SVG: bar (grouped when there are several series), stacked bar and line.

Why not a chart library: the panel runs under a strict CSP (no inline script or style, no third-party hosts) and
must read on a 390 px phone without script. A chart here is a small SVG whose colours come from classes in
``ispb.css`` (``tone-0`` … ``tone-5``) and whose geometry comes from presentation attributes, which the CSP allows.
Every chart is paired with a real table of its numbers and a CSV export (``charts.html``'s ``chart_figure``), so
nobody depends on reading colours or bar heights.

Values are exact: ``Decimal`` (money in major units, e.g. ``Money.to_decimal()``) or ``int`` (counts); ``None``
means "no figure" (a gap in a line). Only the SVG coordinates are floats.

>>> c = Chart("bills", "Bills by month", "Billed per month.", ChartKind.BAR, ("Jan 26", "Feb 26"),
...           (Series("Billed", (Decimal("1200.50"), Decimal("900"))),), currency="BDT")
>>> [row.cells for row in c.table().rows]
[('1,200.50',), ('900.00',)]
>>> chart_csv(c).decode("utf-8-sig").splitlines()
['Month,Billed (BDT)', 'Jan 26,1200.50', 'Feb 26,900.00']
"""

import csv
import enum
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ispb_billing import Money, exponent, format_money

Value = Decimal | int | None

WIDTH, HEIGHT = 400, 220
"""The viewBox. Narrow on purpose: on a 390 px phone the SVG is drawn near 1:1, so its 11-unit text stays
readable; on a wide screen the figure is capped by ``.chart-svg``'s max-width in ``ispb.css``."""
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 26
"""Room for the y-axis labels (left) and the x labels (bottom)."""
LABEL_ROOM = 44.0
"""x-axis units one category label needs (``Sep 26`` at font size 11); with more labels than fit, every k-th shows."""
TICKS = 4
"""Gridlines wanted on the y axis (the nice scale may give one more or less)."""
TONES = 6
"""Series colours in ``ispb.css`` (``tone-0`` … ``tone-5``); a chart with more series is refused."""


class ChartKind(enum.StrEnum):
    BAR = "bar"
    """Bars side by side per category (one per series)."""
    STACKED = "stacked"
    """One bar per category, the series stacked (positives up, negatives down)."""
    LINE = "line"
    """One line per series through the categories."""


class ChartInvalid(ValueError):
    """A chart built wrongly by its caller (series and labels of different lengths, too many series)."""


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Value, ...]
    """One per category label, in the labels' order."""


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class ChartTable:
    heading: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    tone: int
    tip: str
    """``Jan 26 · Billed: 1,200.50`` (the bar's <title>: a tooltip for mouse users)."""


@dataclass(frozen=True)
class Line:
    points: str
    """``x,y x,y …`` for a <polyline>; a gap (a ``None`` value) starts a new Line."""
    tone: int


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    tone: int
    tip: str


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass(frozen=True)
class Drawing:
    """What ``charts.html`` draws: everything computed, the template only places it."""

    bars: tuple[Bar, ...]
    lines: tuple[Line, ...]
    dots: tuple[Dot, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    zero_y: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


@dataclass(frozen=True)
class Chart:
    """A chart's data. ``slug`` names its ids and its CSV file; ``description`` is the SVG's <desc> (one
    sentence saying what is shown, e.g. "Bills issued and payments received per month")."""

    slug: str
    title: str
    description: str
    kind: ChartKind
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    currency: str | None = None
    """Money in this currency: shown grouped as the currency is (lakh for BDT), two places in the CSV."""
    places: int = 0
    """Decimal places of a non-money value (a rate in percent: 1)."""
    unit: str = ""
    """Appended to the column names of a non-money value, e.g. ``%``."""
    heading: str = "Month"
    """The label column's name in the table and the CSV."""

    def __post_init__(self) -> None:
        if len(self.series) > TONES:
            raise ChartInvalid(f"A chart shows at most {TONES} series; {self.slug} has {len(self.series)}.")
        for series in self.series:
            if len(series.values) != len(self.labels):
                raise ChartInvalid(
                    f"{self.slug}: series {series.name!r} has {len(series.values)} values for "
                    f"{len(self.labels)} labels."
                )

    @property
    def is_empty(self) -> bool:
        """No figure at all: the page says so instead of drawing axes around nothing."""
        return all(v is None for s in self.series for v in s.values)

    def columns(self) -> tuple[str, ...]:
        suffix = f" ({self.currency})" if self.currency else (f" ({self.unit})" if self.unit else "")
        return tuple(s.name + suffix for s in self.series)

    def text(self, value: Value) -> str:
        """A value as people read it: ``1,23,456.50`` for BDT, ``1,234`` for a count, ``—`` for none."""
        if value is None:
            return "—"
        if self.currency:
            return format_money(Money.of(_exact(value, self.decimals), self.currency), symbol=False)
        return f"{_exact(value, self.decimals):,}"

    @property
    def decimals(self) -> int:
        """Places shown and exported: the currency's minor unit for money (2 for BDT), else ``places``."""
        return exponent(self.currency) if self.currency else self.places

    def table(self) -> ChartTable:
        rows = tuple(
            TableRow(label, tuple(self.text(s.values[i]) for s in self.series)) for i, label in enumerate(self.labels)
        )
        return ChartTable(self.heading, self.columns(), rows)

    def drawing(self) -> Drawing:
        return draw(self)


def draw(chart: Chart) -> Drawing:
    """The SVG geometry of ``chart``: a nice y scale that always includes zero, bars or lines per category."""
    low, high = _extent(chart)
    lo, hi, step = nice_scale(low, high, minimum_step=Decimal(1).scaleb(-chart.decimals))
    plot_height = HEIGHT - TOP - BOTTOM

    def y(value: Decimal) -> float:
        return round(TOP + float((hi - value) / (hi - lo)) * plot_height, 1)

    count = max(len(chart.labels), 1)
    slot = (WIDTH - LEFT - RIGHT) / count
    if chart.kind is ChartKind.LINE:
        lines, dots = _lines(chart, slot, y)
        bars: tuple[Bar, ...] = ()
    else:
        bars, lines, dots = _bars(chart, slot, y), (), ()
    y_ticks = tuple(Tick(y(lo + step * i), compact_number(lo + step * i)) for i in range(int((hi - lo) / step) + 1))
    every = max(1, math.ceil(count / max(1, int((WIDTH - LEFT - RIGHT) // LABEL_ROOM))))
    x_ticks = tuple(
        Tick(round(LEFT + slot * (i + 0.5), 1), label) for i, label in enumerate(chart.labels) if i % every == 0
    )
    return Drawing(bars, lines, dots, y_ticks, x_ticks, y(Decimal(0)))


def nice_scale(low: Decimal, high: Decimal, *, minimum_step: Decimal = Decimal(1)) -> tuple[Decimal, Decimal, Decimal]:
    """The axis ``(bottom, top, step)``: zero included, steps of 1, 2, 2.5 or 5 times a power of ten, about
    ``TICKS`` of them, never finer than ``minimum_step`` (a count has no half customers).

    >>> nice_scale(Decimal(0), Decimal(937))
    (Decimal('0'), Decimal('1000'), Decimal('250'))
    >>> nice_scale(Decimal(-120), Decimal(380))
    (Decimal('-200'), Decimal('400'), Decimal('200'))
    >>> nice_scale(Decimal(0), Decimal(0))
    (Decimal('0'), Decimal('4'), Decimal('1'))
    """
    low, high = min(low, Decimal(0)), max(high, Decimal(0))
    raw = (high - low) / TICKS
    if raw <= 0:
        return Decimal(0), minimum_step * TICKS, minimum_step
    power = Decimal(1).scaleb(raw.adjusted())
    step = next(
        f * power for f in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)) if f * power >= raw
    )
    step = max(step, minimum_step)
    bottom = (low / step).to_integral_value(ROUND_FLOOR) * step
    top = (high / step).to_integral_value(ROUND_CEILING) * step
    return _plain(bottom), _plain(top), _plain(step)


def compact_number(value: Decimal) -> str:
    """An axis label short enough for a phone: ``950``, ``12.5k``, ``1.2M``, ``-3k``.

    >>> [compact_number(Decimal(v)) for v in ("0", "950", "12500", "1250000", "-3000", "0.25")]
    ['0', '950', '12.5k', '1.25M', '-3k', '0.25']
    """
    for size, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k")):
        if abs(value) >= size:
            return f"{_plain(value / size):f}{suffix}"
    return f"{_plain(value):f}"


def chart_csv(chart: Chart) -> bytes:
    """The chart's table as a CSV file: plain numbers (no grouping, ``.`` decimals) a spreadsheet reads as
    numbers, the currency or unit in the column names, an empty cell for no figure."""
    rows = (
        [label, *("" if s.values[i] is None else str(_exact(s.values[i], chart.decimals)) for s in chart.series)]
        for i, label in enumerate(chart.labels)
    )
    return rows_csv([chart.heading, *chart.columns()], rows)


def rows_csv(header: Sequence[str], rows: Iterable[Sequence[str | int | Decimal]]) -> bytes:
    """A CSV file for a spreadsheet: UTF-8 with a BOM (Excel then reads Bengali names right), CRLF line ends.
    A text cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a leading
    ``'``, so a customer named ``=HYPERLINK(...)`` stays text; numbers are written as they are."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe_text(h) for h in header])
    for row in rows:
        writer.writerow([cell if isinstance(cell, int | Decimal) else _safe_text(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode()


def _safe_text(text: str) -> str:
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


def _exact(value: Decimal | int | None, places: int) -> Decimal:
    return Decimal(value or 0).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> Decimal:
    """``Decimal('2.50E+2')`` → ``Decimal('250')``: normalized without an exponent, for labels and tests."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _extent(chart: Chart) -> tuple[Decimal, Decimal]:
    """The lowest and highest point drawn: the values, or for a stacked chart each category's stacked sums."""
    if chart.kind is ChartKind.STACKED:
        ups = [
            sum((Decimal(s.values[i] or 0) for s in chart.series if (s.values[i] or 0) > 0), Decimal(0))
            for i in range(len(chart.labels))
        ]
        downs = [
            sum((Decimal(s.values[i] or 0) for s in chart.series if (s.values[i] or 0) < 0), Decimal(0))
            for i in range(len(chart.labels))
        ]
        return min(downs, default=Decimal(0)), max(ups, default=Decimal(0))
    values = [Decimal(v) for s in chart.series for v in s.values if v is not None]
    return min(values, default=Decimal(0)), max(values, default=Decimal(0))


def _bars(chart: Chart, slot: float, y: Callable[[Decimal], float]) -> tuple[Bar, ...]:
    """Grouped bars fill 70% of a category's slot side by side; stacked bars are one bar of that width whose
    segments start where the previous same-sign segment ended. A zero value draws nothing."""
    group = slot * 0.7
    bars: list[Bar] = []
    for i, label in enumerate(chart.labels):
        start = LEFT + slot * i + (slot - group) / 2
        up = down = Decimal(0)
        for tone, series in enumerate(chart.series):
            value = series.values[i]
            if value is None or value == 0:
                continue
            amount = Decimal(value)
            if chart.kind is ChartKind.STACKED:
                base = up if amount > 0 else down
                x, width = start, group
                top, end = y(base + amount), y(base)
                up, down = (up + amount, down) if amount > 0 else (up, down + amount)
            else:
                width = group / len(chart.series)
                x = start + width * tone
                top, end = y(amount), y(Decimal(0))
            tip = f"{label} · {series.name}: {chart.text(value)}"
            bars.append(Bar(round(x, 1), min(top, end), round(max(width, 1.0), 1), round(abs(end - top), 1), tone, tip))
    return tuple(bars)


def _lines(chart: Chart, slot: float, y: Callable[[Decimal], float]) -> tuple[tuple[Line, ...], tuple[Dot, ...]]:
    """One polyline per unbroken run of values; a dot on each value, so a lone month between gaps still shows."""
    lines: list[Line] = []
    dots: list[Dot] = []
    for tone, series in enumerate(chart.series):
        run: list[str] = []
        for i, value in enumerate(series.values):
            if value is None:
                if len(run) > 1:
                    lines.append(Line(" ".join(run), tone))
                run = []
                continue
            x, at = round(LEFT + slot * (i + 0.5), 1), y(Decimal(value))
            run.append(f"{x},{at}")
            dots.append(Dot(x, at, tone, f"{chart.labels[i]} · {series.name}: {chart.text(value)}"))
        if len(run) > 1:
            lines.append(Line(" ".join(run), tone))
    return tuple(lines), tuple(dots)
