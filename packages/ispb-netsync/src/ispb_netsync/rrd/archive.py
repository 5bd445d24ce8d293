"""What one traffic RRD holds: two 64-bit octet counters sampled every 5 minutes and four archives.

Data sources (``DS``), both ``DERIVE`` with a minimum of 0 and a heartbeat of two steps:

- ``down``: octets towards the customer (their download; for a router interface, whichever direction the
  caller calls download, usually transmit on a customer-facing interface and receive on an uplink);
- ``up``: octets from the customer (their upload).

Why DERIVE with min=0 and not COUNTER: the counters fed here are 64-bit (RADIUS octets with Gigawords, IF-MIB
``ifHCInOctets``, RouterOS byte counters). A 64-bit counter never wraps in practice (2^64 octets at 100 Gbit/s
take 46 years), but it *resets* every time a session restarts or a router reboots. COUNTER treats any decrease
as a wrap and first tries a 32-bit one: a counter at 1 GB falling back to 0 reads as (2^32 - 1 GB) / 300 s, a
false 88 Mbit/s spike. DERIVE computes the plain difference and min=0 turns a decrease into "unknown" for that
one interval: a reset costs one 5-minute point, never a spike. A true 64-bit wrap would be read the same way
(one unknown point), which is the right trade. Differences are exact: rrdtool subtracts counters as decimal
text, so values above 2^53 keep every octet.

The heartbeat (600 s) lets one poll be late or missed; two missed polls make the interval unknown instead of
smearing an average over it.

Archives (the resolutions behind the day, week, month and year graphs; the row counts are MRTG's and Cacti's,
so a 600-pixel-wide graph reads one row per pixel or fewer):

=========  ===============  =========  ===============  ==========================
graph      resolution       rows       covers           consolidations
=========  ===============  =========  ===============  ==========================
day        5 min (1 step)   600        50 hours         AVERAGE
week       30 min (6)       700        14.6 days        AVERAGE, MAX
month      2 h (24)         775        64.6 days        AVERAGE, MAX
year       1 day (288)      797        2.2 years        AVERAGE, MAX
=========  ===============  =========  ===============  ==========================

MAX keeps the peaks that averaging over 30 minutes or a day would flatten; at 5 minutes MAX equals AVERAGE,
so it is not stored. A file is 84,928 bytes (100,000 customers: 8.5 GB).

>>> definition()[:3]
('DS:down:DERIVE:600:0:U', 'DS:up:DERIVE:600:0:U', 'RRA:AVERAGE:0.5:1:600')
>>> definition(max_bytes_per_second=125_000_000)[0]
'DS:down:DERIVE:600:0:125000000'
"""

from dataclasses import dataclass

STEP = 300
"""Seconds between two polls (the schedule's 5 minutes)."""

HEARTBEAT = 2 * STEP
DOWNLOAD, UPLOAD = "down", "up"
"""The data source names (rrdtool allows 19 characters of ``[a-zA-Z0-9_]``)."""


@dataclass(frozen=True)
class Archive:
    """One round-robin archive: ``rows`` consolidated points of ``steps`` polls each."""

    consolidation: str
    steps: int
    rows: int

    @property
    def resolution(self) -> int:
        """Seconds per row."""
        return self.steps * STEP

    @property
    def covers(self) -> int:
        """Seconds of history the archive keeps."""
        return self.resolution * self.rows

    def argument(self) -> str:
        # xff 0.5: a consolidated point is known when at least half of its polls are
        return f"RRA:{self.consolidation}:0.5:{self.steps}:{self.rows}"


ARCHIVES = (
    Archive("AVERAGE", 1, 600),
    Archive("AVERAGE", 6, 700),
    Archive("MAX", 6, 700),
    Archive("AVERAGE", 24, 775),
    Archive("MAX", 24, 775),
    Archive("AVERAGE", 288, 797),
    Archive("MAX", 288, 797),
)


def definition(max_bytes_per_second: int | None = None) -> tuple[str, ...]:
    """The data source and archive arguments of ``rrdtool create``.

    ``max_bytes_per_second`` (e.g. a link's speed / 8) makes a rate above it unknown instead of recorded: a
    garbage counter jump from a router then leaves a gap, not a spike that flattens every later graph.
    """
    if max_bytes_per_second is not None and max_bytes_per_second <= 0:
        raise ValueError(f"max_bytes_per_second must be positive, not {max_bytes_per_second}")
    ceiling = "U" if max_bytes_per_second is None else str(max_bytes_per_second)
    sources = tuple(f"DS:{name}:DERIVE:{HEARTBEAT}:0:{ceiling}" for name in (DOWNLOAD, UPLOAD))
    return sources + tuple(archive.argument() for archive in ARCHIVES)
