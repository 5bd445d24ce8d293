"""The RouterOS API peer for tests: ``ispb_netsync.routeros.simulator`` (real wire protocol, faults on demand).

It lives in the library so ``ispb demo`` can run a simulated router too and other projects can test against
it; tests import it from here, next to the other peers.
"""

from ispb_netsync.routeros.simulator import (
    Fault,
    Received,
    RouterOSPeer,
    decode_length,
    encode_length,
    encode_sentence,
    extra_length_bytes,
    matches,
    read_sentence,
)

__all__ = (
    "Fault",
    "Received",
    "RouterOSPeer",
    "decode_length",
    "encode_length",
    "encode_sentence",
    "extra_length_bytes",
    "matches",
    "read_sentence",
)
