"""Typed NetFlow errors; each carries the text a person reads (``message``)."""


class NetFlowError(Exception):
    """Anything that went wrong with a flow search; ``message`` says what, in words an operator can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidFlowQuery(NetFlowError):
    """A search that cannot become an nfdump filter: a malformed address or network, a port outside 0-65535,
    a time range that ends before it starts or a time without a zone. Raised before nfdump runs."""


class NfdumpMissing(NetFlowError):
    """The ``nfdump`` program is not installed (Debian package ``nfdump``) or not on the path given."""


class NfdumpFailed(NetFlowError):
    """nfdump ran and refused: a bad file, a filter it rejects, a time-out. ``message`` holds its own words."""


class FlowOutputInvalid(NetFlowError):
    """nfdump's output is not the CSV this module reads (another nfdump version, or a corrupt file)."""
