"""What an OLT says about one ONU, the same for every vendor: `OnuRecord` and `OnuStatus`."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OnuStatus(StrEnum):
    """An ONU's state as the OLT reports it. ``LOS`` and ``DYING_GASP`` only where the vendor's MIB says why an
    ONU went down (loss of signal: a cut or dirty fibre; dying gasp: the ONU lost power)."""

    ONLINE = "online"
    OFFLINE = "offline"
    LOS = "los"
    DYING_GASP = "dying_gasp"
    UNKNOWN = "unknown"

    @property
    def down(self) -> bool:
        return self in {OnuStatus.OFFLINE, OnuStatus.LOS, OnuStatus.DYING_GASP}


@dataclass(frozen=True)
class OnuRecord:
    """One ONU of an OLT.

    ``port`` is the PON port as the vendor's CLI names it (``0/1/3`` on Huawei, ``EPON0/1`` on BDCOM) and
    ``index`` the ONU's number on that port: together they are the ONU's place on the OLT. ``serial`` is the
    GPON serial (``HWTC1A2B3C4D``) or the EPON MAC (``a8:5e:45:01:02:03``), the ONU's identity. Optical power is
    in dBm rounded to 0.01 (``None`` when the OLT has no reading, e.g. the ONU is offline), ``distance_m`` the
    ranging distance in metres. ``last_change`` is when the ONU last came up or went down, where the vendor's
    MIB keeps it (Huawei); else ``None``.
    """

    port: str
    index: int
    serial: str
    status: OnuStatus
    rx_dbm: float | None = None
    tx_dbm: float | None = None
    distance_m: int | None = None
    description: str = ""
    last_change: datetime | None = None

    @property
    def place(self) -> str:
        """``0/1/3:12``: the port and the ONU's number, the way operators write it."""
        return f"{self.port}:{self.index}"
