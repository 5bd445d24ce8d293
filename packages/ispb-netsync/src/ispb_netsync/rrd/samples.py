"""A poll's reading for one file, checked before rrdtool sees it.

rrdtool itself refuses text that is not a number, but it accepts a negative counter (it becomes the baseline
the next rate is computed from) and rrdcached accepts anything until it writes the file, when a bad value makes
it drop every value queued for that file. So the checks happen here, in Python, per sample: a bad sample is
refused with a reason and the others of the poll go on.

>>> from datetime import UTC, datetime
>>> sample = TrafficSample(Path("/var/rrd/c.rrd"), datetime(2026, 12, 1, 10, 5, tzinfo=UTC), 1_500, 700)
>>> update_value(sample)
'1796119500:1500:700'
>>> update_value(TrafficSample(Path("/var/rrd/c.rrd"), datetime(2026, 12, 1, 10, 5, tzinfo=UTC), -1, 0))
Traceback (most recent call last):
...
ispb_netsync.rrd.errors.InvalidSample: /var/rrd/c.rrd: download octets must be 0 to 2^64-1, not -1
"""

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ispb_netsync.rrd.errors import InvalidSample

COUNTER_LIMIT = 2**64
"""Counters are unsigned 64-bit: RADIUS octets with Gigawords, IF-MIB ifHC*Octets, RouterOS byte counters."""


@dataclass(frozen=True, slots=True)
class TrafficSample:
    """The total octets counted so far in each direction, read at ``when`` (time-zone aware).

    Counters, not rates: rrdtool derives the rate from the difference to the file's previous sample.
    """

    path: Path
    when: datetime
    download_octets: int
    upload_octets: int


def _counter(sample: TrafficSample, direction: str, value: object) -> int:
    # bool is an int in Python; True octets is a bug upstream, not one octet
    if type(value) is not int or not 0 <= value < COUNTER_LIMIT:
        raise InvalidSample(f"{sample.path}: {direction} octets must be 0 to 2^64-1, not {value!r}")
    return value


def update_value(sample: TrafficSample) -> str:
    """The ``time:down:up`` argument of ``rrdtool update`` for a valid sample; `InvalidSample` says why not."""
    when = sample.when
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise InvalidSample(f"{sample.path}: the time must be a datetime with a time zone, not {when!r}")
    download = _counter(sample, "download", sample.download_octets)
    upload = _counter(sample, "upload", sample.upload_octets)
    return f"{int(when.timestamp())}:{download}:{upload}"


def file_argument(path: object) -> str:
    """The absolute file name handed to rrdtool: relative names would be read against rrdcached's base
    directory instead of ours, and a name starting with ``-`` would be taken for an option.

    >>> file_argument(Path("/var/rrd/acme/customer-7.rrd"))
    '/var/rrd/acme/customer-7.rrd'
    """
    if not isinstance(path, str | os.PathLike):
        raise InvalidSample(f"an RRD file name must be a path, not {path!r}")
    name = os.fspath(path)
    if not isinstance(name, str) or "\n" in name or "\0" in name:
        raise InvalidSample(f"{path!r} cannot be an RRD file name")
    return name if name.startswith("/") else os.path.abspath(name)
