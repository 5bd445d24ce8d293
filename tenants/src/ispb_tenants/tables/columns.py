"""Column classes PostgreSQL has and Piccolo lacks."""

from piccolo.columns import Text


class Inet(Text):
    """A PostgreSQL ``inet`` (an IP address, optionally with a prefix length).

    Piccolo has no inet column. This one is a `Text` for Piccolo (same comparisons and ``like``), named ``INET``
    in DDL. asyncpg reads ``ipaddress`` objects (`IPv4Address`, or `IPv4Interface` with a prefix) and writes
    those or strings; ``host(column)`` in SQL gives the bare address as text.
    """
