"""The arguments of ``rrdtool graph`` for a traffic graph: period, size, colours, title and labels.

Pure, so the look is checked without drawing: colours must be ``#RRGGBB`` or ``#RRGGBBAA`` and labels plain
text, because both end up inside rrdtool's ``AREA:vname#colour:label`` mini-language, where a stray ``:``
or a word like ``LINE`` would change the graph or fail it. The graph shows bits per second (rrdtool stores
octets per second; operators and customers speak in Mbit/s), download as a filled area and upload as a line,
each with its last, average and highest value under the graph.

Time zone: rrdtool labels the time axis in the process's local time and has no option for another zone, and
setting ``TZ`` in a threaded process is unsafe, so a graph for an operator in another zone is drawn shifted:
the data is read for the real window and moved by the zone's offset at ``now`` (``SHIFT``), the axis drawn
over the moved window. In a zone with daylight saving time, points from before the last change are off by
that change (an hour) on the axis.

>>> from datetime import UTC, datetime
>>> arguments = graph_arguments("/r/c.rrd", GraphPeriod.DAY, datetime(2026, 12, 1, tzinfo=UTC), GraphLook())
>>> arguments[3:7]  # a day back from 1 December 2026 00:00 UTC
('--start', '1795996800', '--end', '1796083200')
>>> [a for a in arguments if a.startswith("DEF:")]
['DEF:down_octets=/r/c.rrd:down:AVERAGE', 'DEF:up_octets=/r/c.rrd:up:AVERAGE']
>>> GraphLook(download_colour="red")
Traceback (most recent call last):
...
ispb_netsync.rrd.errors.InvalidName: download_colour 'red': use #RRGGBB or #RRGGBBAA
"""

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ispb_netsync.rrd.archive import DOWNLOAD, UPLOAD
from ispb_netsync.rrd.errors import InvalidName

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?")
_LABEL_MAX = 40


class GraphPeriod(StrEnum):
    """How far back a graph reaches; rrdtool picks the archive whose resolution fits the width."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def seconds(self) -> int:
        return {"day": 86_400, "week": 7 * 86_400, "month": 31 * 86_400, "year": 365 * 86_400}[self.value]


@dataclass(frozen=True)
class GraphLook:
    """The operator's look: size in pixels (of the plot area), colours, title and the two labels.

    For a router interface pass ``download_label="In"``, ``upload_label="Out"`` or whatever its direction is.
    ``time_zone`` (IANA name) is the zone of the time axis, the operator's.
    """

    width: int = 600
    height: int = 200
    title: str = ""
    download_label: str = "Download"
    upload_label: str = "Upload"
    download_colour: str = "#2E7D32"
    upload_colour: str = "#1565C0"
    background_colour: str = "#FFFFFF"
    canvas_colour: str = "#FFFFFF"
    font_colour: str = "#212121"
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_colour") and not (isinstance(value, str) and _COLOUR.fullmatch(value)):
                raise InvalidName(f"{field.name} {value!r}: use #RRGGBB or #RRGGBBAA")
            if field.name.endswith("_label"):
                _check_label(field.name, value)
        if not (type(self.width) is int and 100 <= self.width <= 3000):
            raise InvalidName(f"width {self.width!r}: 100 to 3000 pixels")
        if not (type(self.height) is int and 50 <= self.height <= 2000):
            raise InvalidName(f"height {self.height!r}: 50 to 2000 pixels")
        if not isinstance(self.title, str) or len(self.title) > 200 or not self.title.isprintable():
            raise InvalidName(f"title {self.title!r}: printable text of at most 200 characters")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidName(f"time_zone {self.time_zone!r}: use an IANA name such as 'Asia/Dhaka'") from None

    def axis_shift(self, now: datetime) -> int:
        """Seconds to move the graph so that the process's local-time axis reads in ``time_zone``.

        >>> GraphLook(time_zone="Asia/Dhaka").axis_shift(datetime(2026, 12, 1, tzinfo=ZoneInfo("UTC")))
        21600
        """
        wanted = now.astimezone(ZoneInfo(self.time_zone)).utcoffset() or timedelta(0)
        local = now.astimezone().utcoffset() or timedelta(0)  # the zone rrdtool labels in (the process's TZ)
        return int((wanted - local).total_seconds())


def _check_label(name: str, value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > _LABEL_MAX or not value.isprintable():
        raise InvalidName(f"{name} {value!r}: printable text of 1 to {_LABEL_MAX} characters")
    if "\\" in value or "%" in value:
        raise InvalidName(f"{name} {value!r}: no backslash or percent sign")


def _escaped(text: str) -> str:
    """A colon inside a graph element is rrdtool's separator unless escaped."""
    return text.replace(":", "\\:")


def _series(vname: str, look_label: str, colour: str, shape: str) -> tuple[str, ...]:
    # GPRINT formats are rrdtool's printf: %s scales to k/M/G with --base 1000
    return (
        f"{shape}:{vname}{colour}:{_escaped(look_label):<10}",
        f"GPRINT:{vname}:LAST:now %6.1lf %sbit/s",
        f"GPRINT:{vname}:AVERAGE:average %6.1lf %sbit/s",
        f"GPRINT:{vname}:MAX:highest %6.1lf %sbit/s\\l",
    )


def graph_arguments(path: str, period: GraphPeriod, now: datetime, look: GraphLook) -> tuple[str, ...]:
    """``rrdtool graph`` arguments drawing ``path`` (an absolute file name) over ``period`` up to ``now``."""
    end = int(now.timestamp())
    start, shift = end - period.seconds, look.axis_shift(now)
    source = _escaped(path)
    window = f":start={start}:end={end}" if shift else ""
    moved = (f"SHIFT:down_octets:{shift}", f"SHIFT:up_octets:{shift}") if shift else ()
    return (
        "-",
        "--imgformat",
        "PNG",
        "--start",
        str(start + shift),
        "--end",
        str(end + shift),
        "--width",
        str(look.width),
        "--height",
        str(look.height),
        "--title",
        look.title,
        "--vertical-label",
        "bits per second",
        "--base",
        "1000",
        "--lower-limit",
        "0",
        "--color",
        f"BACK{look.background_colour}",
        "--color",
        f"CANVAS{look.canvas_colour}",
        "--color",
        f"FONT{look.font_colour}",
        f"DEF:down_octets={source}:{DOWNLOAD}:AVERAGE{window}",
        f"DEF:up_octets={source}:{UPLOAD}:AVERAGE{window}",
        *moved,
        "CDEF:down_bits=down_octets,8,*",
        "CDEF:up_bits=up_octets,8,*",
        *_series("down_bits", look.download_label, look.download_colour, "AREA"),
        *_series("up_bits", look.upload_label, look.upload_colour, "LINE1"),
    )
