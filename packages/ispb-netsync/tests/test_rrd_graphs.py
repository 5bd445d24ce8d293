"""Graphs are PNG images in the operator's look, for every period; a bad look is refused before drawing."""

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ispb_netsync.rrd import (
    STEP,
    GraphLook,
    GraphPeriod,
    InvalidName,
    RRDError,
    RRDStore,
    TrafficSample,
    graph_arguments,
)

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(image: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (it follows the magic bytes)."""
    assert image[:8] == PNG_MAGIC, image[:16]
    assert image[12:16] == b"IHDR"
    width, height = struct.unpack(">II", image[16:24])
    return width, height


def a_day_of_traffic(tmp_path: Path) -> tuple[RRDStore, Path]:
    store = RRDStore()
    path = tmp_path / "customer-1.rrd"
    store.create(path, start=T0 - timedelta(seconds=STEP))
    down = up = 0
    for n in range(288):
        down += 300 * (100_000 + 1_000 * (n % 60))
        up += 300 * 20_000
        store.update_many([TrafficSample(path, T0 + timedelta(seconds=STEP * n), down, up)])
    return store, path


@pytest.mark.parametrize("period", list(GraphPeriod))
def test_a_graph_is_a_png_of_the_looks_size(tmp_path: Path, period: GraphPeriod) -> None:
    store, path = a_day_of_traffic(tmp_path)
    sizes = {
        (width, height): store.graph(path, period, now=T0 + timedelta(days=1), look=GraphLook(width, height))
        for width, height in ((600, 100), (600, 250), (800, 100))
    }
    (width, height), taller, wider = (png_size(image) for image in sizes.values())
    assert width > 600 and height > 100, "the plot area plus axes and legend"
    assert (taller[0], taller[1] - height) == (width, 150), "the look's height is the plot area's"
    assert (wider[0] - width, wider[1]) == (200, height), "the look's width is the plot area's"
    assert all(len(image) > 2_000 for image in sizes.values())


def test_the_looks_colours_and_title_change_the_image(tmp_path: Path) -> None:
    store, path = a_day_of_traffic(tmp_path)
    now = T0 + timedelta(days=1)
    plain = store.graph(path, GraphPeriod.DAY, now=now)
    assert plain == store.graph(path, GraphPeriod.DAY, now=now)
    styled = GraphLook(title="Rahim: download and upload", download_colour="#FF6F00", background_colour="#FAFAFA")
    assert store.graph(path, GraphPeriod.DAY, now=now, look=styled) != plain


@pytest.mark.parametrize(
    ("look", "words"),
    [
        ({"download_colour": "green"}, "download_colour 'green': use #RRGGBB or #RRGGBBAA"),
        ({"upload_colour": "#12345"}, "upload_colour '#12345': use #RRGGBB or #RRGGBBAA"),
        ({"canvas_colour": "#FFFFFF\n"}, "canvas_colour '#FFFFFF\\n': use #RRGGBB or #RRGGBBAA"),
        ({"download_label": "a\\lLINE:x"}, "no backslash or percent sign"),
        ({"upload_label": "%s%s%n"}, "no backslash or percent sign"),
        ({"upload_label": ""}, "printable text of 1 to 40 characters"),
        ({"title": "two\nlines"}, "printable text of at most 200 characters"),
        ({"width": 10}, "width 10: 100 to 3000 pixels"),
        ({"height": 10_000}, "height 10000: 50 to 2000 pixels"),
    ],
)
def test_a_bad_look_is_refused_saying_why(look: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidName) as refused:
        GraphLook(**look)  # type: ignore[arg-type]
    assert words in refused.value.message


def test_a_label_with_a_colon_is_drawn_not_parsed(tmp_path: Path) -> None:
    store, path = a_day_of_traffic(tmp_path)
    look = GraphLook(download_label="In: ether1", upload_label="Out: ether1")
    assert png_size(store.graph(path, GraphPeriod.DAY, now=T0 + timedelta(days=1), look=look))[0] > 600


def test_a_file_name_with_a_colon_is_graphed(tmp_path: Path) -> None:
    store = RRDStore()
    path = tmp_path / "router-1-vlan%3A10:x.rrd"
    store.create(path, start=T0)
    store.update_many([TrafficSample(path, T0 + timedelta(seconds=STEP), 0, 0)])
    assert store.graph(path, GraphPeriod.DAY, now=T0 + timedelta(hours=1))[:8] == PNG_MAGIC


def test_graphing_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RRDError, match="no such RRD file"):
        RRDStore().graph(tmp_path / "customer-404.rrd", GraphPeriod.DAY, now=T0)


def test_the_time_axis_reads_in_the_operators_zone(tmp_path: Path) -> None:
    """Traffic at 04:00 UTC is drawn at 10:00 on a Dhaka (UTC+6) axis: the data moves, the window with it."""
    now = T0 + timedelta(days=1)
    dhaka = graph_arguments("/r/c.rrd", GraphPeriod.DAY, now, GraphLook(time_zone="Asia/Dhaka"))
    utc = graph_arguments("/r/c.rrd", GraphPeriod.DAY, now, GraphLook())
    real = (int(T0.timestamp()), int(now.timestamp()))
    assert utc[3:7] == ("--start", str(real[0]), "--end", str(real[1]))
    assert dhaka[3:7] == ("--start", str(real[0] + 21_600), "--end", str(real[1] + 21_600))
    assert f"DEF:down_octets=/r/c.rrd:down:AVERAGE:start={real[0]}:end={real[1]}" in dhaka
    assert "SHIFT:down_octets:21600" in dhaka and "SHIFT:up_octets:21600" in dhaka
    store, path = a_day_of_traffic(tmp_path)
    image = store.graph(path, GraphPeriod.DAY, now=now, look=GraphLook(time_zone="Asia/Dhaka"))
    assert image[:8] == PNG_MAGIC and image != store.graph(path, GraphPeriod.DAY, now=now)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(InvalidName, match="time_zone 'Mars/Olympus': use an IANA name"):
        GraphLook(time_zone="Mars/Olympus")
