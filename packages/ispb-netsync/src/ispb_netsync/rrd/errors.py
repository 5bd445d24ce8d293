"""Typed RRD errors; each carries the text a person reads (``message``)."""


class RRDError(Exception):
    """Anything that went wrong with an RRD file or rrdcached; ``message`` is rrdtool's (or our) own text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidSample(RRDError):
    """A traffic sample that must not reach a file: a counter that is not a whole number of octets in the
    64-bit range, a time without a time zone, a name that is not a file. Raised before rrdtool sees it, because
    rrdtool stores a negative counter as the new baseline and rrdcached accepts any text and drops the file's
    queued values when it later fails to write it."""


class InvalidName(RRDError):
    """A tenant, interface or label that cannot become part of a file name or a graph definition."""


class RRDCachedUnavailable(RRDError):
    """rrdcached does not answer on its address. librrd would carry on without it and report success for
    updates it never made (checked with rrdtool 1.7.2), so the store stops and says so instead; retrying the
    whole poll is safe (updates already recorded come back as stale)."""
