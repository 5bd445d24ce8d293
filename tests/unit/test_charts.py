"""Server-side SVG charts (web/charts.py): scales, geometry, empty and negative series, many months, exact money,
the CSV export, and the macro's markup (no style attribute, named image, a table of every number)."""

import csv
import io
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment

from ispb_platform.web.charts import (
    HEIGHT,
    LEFT,
    TOP,
    WIDTH,
    Chart,
    ChartInvalid,
    ChartKind,
    Series,
    chart_csv,
    compact_number,
    draw,
    nice_scale,
    rows_csv,
)
from ispb_platform.web.templating import DomainLoader

MONTHS = ("Jan 26", "Feb 26", "Mar 26")


def money_chart(kind: ChartKind = ChartKind.BAR, *series: Series) -> Chart:
    series = series or (
        Series("Billed", (Decimal("1000.00"), Decimal("2500.50"), Decimal("0"))),
        Series("Paid", (Decimal("800.25"), Decimal("2500.50"), None)),
    )
    return Chart("bills", "Bills and payments", "Billed and paid per month.", kind, MONTHS, series, currency="BDT")


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ("0", "937", ("0", "1000", "250")),
        ("0", "1", ("0", "1", "0.25")),
        ("-120", "380", ("-200", "400", "200")),
        ("-50", "0", ("-60", "0", "20")),
        ("0", "123456789.12", ("0", "150000000", "50000000")),
    ],
)
def test_nice_scale_includes_zero_and_round_steps(low: str, high: str, expected: tuple[str, str, str]) -> None:
    got = nice_scale(Decimal(low), Decimal(high), minimum_step=Decimal("0.01"))
    assert got == tuple(Decimal(x) for x in expected)


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    st.decimals(min_value=-(10**9), max_value=10**9, places=2),
)
def test_nice_scale_covers_every_value_in_about_four_steps(a: Decimal, b: Decimal) -> None:
    low, high = min(a, b), max(a, b)
    bottom, top, step = nice_scale(low, high, minimum_step=Decimal("0.01"))
    assert bottom <= min(low, 0) and top >= max(high, 0) and step > 0
    assert 1 <= (top - bottom) / step <= 10
    assert (bottom / step) == (bottom / step).to_integral_value()


def test_a_count_axis_never_steps_by_fractions_of_a_customer() -> None:
    assert nice_scale(Decimal(0), Decimal(2))[2] == 1
    chart = Chart("c", "Customers", "Active customers.", ChartKind.LINE, MONTHS, (Series("Active", (1, 2, 2)),))
    assert [t.text for t in draw(chart).y_ticks] == ["0", "1", "2"]


def test_grouped_bars_sit_side_by_side_with_heights_in_proportion() -> None:
    d = draw(money_chart())
    billed_jan, paid_jan, billed_feb, paid_feb = d.bars  # March: 0 billed draws nothing, paid is None
    assert billed_jan.tone == 0 and paid_jan.tone == 1
    assert paid_jan.x == pytest.approx(billed_jan.x + billed_jan.width, abs=0.11)
    assert billed_feb.height == paid_feb.height
    # 1000 on a 0..3000 axis: a third of the plot's height
    assert billed_jan.height == pytest.approx((HEIGHT - TOP - 26) / 3, abs=0.2)
    assert billed_jan.y + billed_jan.height == pytest.approx(d.zero_y, abs=0.1)
    assert billed_jan.tip == "Jan 26 · Billed: 1,000.00"


def test_negative_values_hang_below_the_zero_line() -> None:
    chart = money_chart(ChartKind.BAR, Series("Net", (Decimal("-300"), Decimal("600"), Decimal("0"))))
    d = draw(chart)
    down, up = d.bars
    assert down.y == pytest.approx(d.zero_y, abs=0.1) and down.height > 0
    assert up.y + up.height == pytest.approx(d.zero_y, abs=0.1)
    assert up.height == pytest.approx(2 * down.height, abs=0.2)
    assert d.y_ticks[0].text.startswith("-")


def test_stacked_segments_start_where_the_previous_one_ended() -> None:
    chart = Chart(
        "s",
        "Customers",
        "By state.",
        ChartKind.STACKED,
        ("Jan",),
        (Series("Active", (30,)), Series("Suspended", (10,))),
    )
    active, suspended = draw(chart).bars
    assert suspended.y + suspended.height == pytest.approx(active.y, abs=0.1)
    assert active.x == suspended.x and active.width == suspended.width
    assert active.height == pytest.approx(3 * suspended.height, abs=0.2)


def test_a_line_breaks_at_a_month_without_a_figure() -> None:
    labels = tuple(f"M{i}" for i in range(6))
    chart = Chart("l", "Rate", "Collection rate.", ChartKind.LINE, labels, (Series("Rate", (1, 2, None, 4, 5, None)),))
    d = draw(chart)
    assert [len(line.points.split()) for line in d.lines] == [2, 2]
    assert len(d.dots) == 4


def test_an_empty_chart_is_flagged_and_still_drawable() -> None:
    for chart in (
        Chart("e", "Nothing", "None.", ChartKind.BAR, (), ()),
        Chart("e", "Nothing", "None.", ChartKind.BAR, (), (Series("Billed", ()),)),
        Chart("e", "Nothing", "None.", ChartKind.LINE, MONTHS, (Series("Billed", (None, None, None)),)),
    ):
        assert chart.is_empty
        d = draw(chart)
        assert d.bars == () and d.lines == ()
    zeros = Chart("z", "Zero", "Zero.", ChartKind.BAR, MONTHS, (Series("Billed", (0, 0, 0)),))
    assert not zeros.is_empty and draw(zeros).bars == ()


def test_many_months_show_every_kth_label_and_fit_the_plot() -> None:
    labels = tuple(f"{m:02d}/{y}" for y in range(20, 26) for m in range(1, 13))  # 72 months
    chart = Chart("m", "Long", "Six years.", ChartKind.BAR, labels, (Series("Billed", tuple(range(72))),))
    d = draw(chart)
    assert 4 <= len(d.x_ticks) <= (WIDTH - LEFT) // 44
    assert all(b.x >= LEFT and b.x + b.width <= WIDTH for b in d.bars)
    gaps = {round(b.at - a.at, 1) for a, b in zip(d.x_ticks, d.x_ticks[1:], strict=False)}
    assert len(gaps) <= 2  # evenly spaced (rounding aside)


def test_series_and_labels_must_agree_and_tones_are_limited() -> None:
    with pytest.raises(ChartInvalid, match="2 values for 3 labels"):
        Chart("x", "X", "X.", ChartKind.BAR, MONTHS, (Series("Billed", (1, 2)),))
    with pytest.raises(ChartInvalid, match="at most 6"):
        Chart("x", "X", "X.", ChartKind.BAR, ("a",), tuple(Series(str(i), (1,)) for i in range(7)))


def test_money_stays_exact_and_grouped_as_the_currency_is() -> None:
    chart = money_chart(ChartKind.BAR, Series("Billed", (Decimal("12345678.905"), Decimal("0.1"), 7)))
    assert [r.cells[0] for r in chart.table().rows] == ["1,23,45,678.91", "0.10", "7.00"]
    assert csv_rows(chart_csv(chart))[1:] == [["Jan 26", "12345678.91"], ["Feb 26", "0.10"], ["Mar 26", "7.00"]]


def test_the_csv_has_the_table_with_units_and_blank_for_no_figure() -> None:
    rows = csv_rows(chart_csv(money_chart()))
    assert rows == [
        ["Month", "Billed (BDT)", "Paid (BDT)"],
        ["Jan 26", "1000.00", "800.25"],
        ["Feb 26", "2500.50", "2500.50"],
        ["Mar 26", "0.00", ""],
    ]
    rate = Chart(
        "r", "Rate", "Rate.", ChartKind.LINE, ("Jan",), (Series("Collected", (Decimal("80.04"),)),), places=1, unit="%"
    )
    assert csv_rows(chart_csv(rate)) == [["Month", "Collected (%)"], ["Jan", "80.0"]]


def test_csv_text_that_a_spreadsheet_would_run_stays_text() -> None:
    data = rows_csv(["Customer", "Owed"], [['=HYPERLINK("x")', Decimal("-5.00")], ["-12", 3], ["@SUM(A1)", "+1"]])
    assert csv_rows(data)[1:] == [['\'=HYPERLINK("x")', "-5.00"], ["-12", "3"], ["'@SUM(A1)", "+1"]]


def test_compact_axis_labels() -> None:
    assert [compact_number(Decimal(v)) for v in ("1000", "2500000", "-750")] == ["1k", "2.5M", "-750"]


def test_the_macro_renders_a_named_image_a_table_and_no_inline_style() -> None:
    env = Environment(loader=DomainLoader(), autoescape=True)
    html = env.from_string('{% from "charts.html" import chart_figure %}{{ chart_figure(c, "/x.csv") }}').render(
        c=money_chart()
    )
    assert 'role="img"' in html and 'aria-labelledby="chart-bills-title chart-bills-desc"' in html
    assert "<desc" in html and "Jan 26 to Mar 26" in html
    assert "style=" not in html and "<script" not in html
    assert re.search(r"<td class=\"num\">2,500.50</td>", html)
    assert '<a href="/x.csv" download>' in html
    assert 'class="swatch tone-1"' in html  # a legend for two series
    empty = env.from_string('{% from "charts.html" import chart_figure %}{{ chart_figure(c) }}').render(
        c=Chart("e", "Nothing", "None.", ChartKind.BAR, (), ())
    )
    assert "<svg" not in empty and "No figures yet" in empty
