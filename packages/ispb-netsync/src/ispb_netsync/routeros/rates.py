"""MikroTik rate strings: PPP ``rate-limit``, RADIUS ``Mikrotik-Rate-Limit`` and simple-queue ``max-limit``.

All three read ``rx/tx`` **from the router's point of view**: the router *receives* what the customer uploads
and *transmits* what the customer downloads. So "upload/download" for the customer: a 20 Mbps down, 10 Mbps up
package is ``10M/20M``. Getting the order wrong silently swaps every customer's speeds, hence one helper.
Suffixes are decimal, as RouterOS counts them: ``k`` = 1 000, ``M`` = 1 000 000, ``G`` = 1 000 000 000 bit/s.
"""

import re

_UNITS = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}
_RATE = re.compile(r"(\d+)([kKMG]?)")


def _kbps_text(kbps: int) -> str:
    if kbps == 0:
        return "0"
    if kbps % 1_000_000 == 0:
        return f"{kbps // 1_000_000}G"
    if kbps % 1_000 == 0:
        return f"{kbps // 1_000}M"
    return f"{kbps}k"


def rate_limit(download_kbps: int, upload_kbps: int) -> str:
    """The ``rx/tx`` string for a customer's download and upload speeds in kbit/s (0 means unlimited).

    Takes the customer's view (download first, as packages are sold) and returns the router's view
    (upload first), for PPP profiles, ``Mikrotik-Rate-Limit`` and simple-queue ``max-limit`` alike.

    >>> rate_limit(download_kbps=20_000, upload_kbps=10_000)
    '10M/20M'
    >>> rate_limit(1_500, 512)
    '512k/1500k'
    >>> rate_limit(1_000_000, 0)
    '0/1G'
    """
    for name, value in (("download", download_kbps), ("upload", upload_kbps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"the {name} speed must be a whole number of kbit/s >= 0, got {value!r}")
    return f"{_kbps_text(upload_kbps)}/{_kbps_text(download_kbps)}"


def bits_per_second(rate: str) -> int | None:
    """A single rate (``10M``, ``512k``, ``1500000``) in bit/s; None when it is not a rate.

    >>> bits_per_second("10M"), bits_per_second("512k"), bits_per_second("8"), bits_per_second("1h")
    (10000000, 512000, 8, None)
    """
    match = _RATE.fullmatch(rate.strip())
    if match is None:
        return None
    return int(match[1]) * _UNITS[match[2]]


def same_rates(left: str, right: str) -> bool:
    """Whether two rate strings mean the same limits, however the router wrote them back.

    RouterOS stores ``max-limit=10M/20M`` and prints ``10000000/20000000``; comparing text would make every
    sync "change" a queue that is already right.

    >>> same_rates("10M/20M", "10000000/20000000")
    True
    >>> same_rates("10M/20M", "20M/10M")
    False
    >>> same_rates("2M/4M 4M/8M 1500k/3M 8/8", "2000000/4000000 4000000/8000000 1500000/3000000 8/8")
    True
    """
    left_parts, right_parts = re.split(r"[\s/]+", left.strip()), re.split(r"[\s/]+", right.strip())
    if len(left_parts) != len(right_parts):
        return False
    for one, other in zip(left_parts, right_parts, strict=True):
        one_bits, other_bits = bits_per_second(one), bits_per_second(other)
        if (one_bits, other_bits) == (None, None):
            if one != other:
                return False
        elif one_bits != other_bits:
            return False
    return True
