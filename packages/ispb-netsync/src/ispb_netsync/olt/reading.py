"""Reading an OLT's ONUs: walk the profile's columns, parse them into `OnuRecord`s."""

from dataclasses import dataclass

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from ispb_netsync.olt.client import OltAddress, OltSession
from ispb_netsync.olt.profiles import Profile, profile_for
from ispb_netsync.olt.records import OnuRecord


@dataclass(frozen=True)
class OltReading:
    """Every ONU the OLT listed, from one complete walk of every column; ``garbled`` counts values that did not
    decode (left out, see `Parsed`); ``values`` how many values were walked."""

    onus: list[OnuRecord]
    garbled: int
    values: int


async def read_onus(address: OltAddress, profile: Profile | str, *, engine: SnmpEngine | None = None) -> OltReading:
    """Walk ``profile``'s columns on the OLT at ``address`` and return its ONUs.

    A reading is all or nothing: any error (`OLTTimedOut`, `OLTWalkCut`, `OLTAuthFailed`, `OLTGarbage`, ...)
    raises, so a partial walk is never mistaken for the OLT's whole ONU list. ``engine`` lets many SNMPv2c
    readings share one pysnmp engine.

    >>> reading = await read_onus(OltAddress("10.0.0.2", community="public"), "huawei_gpon")  # doctest: +SKIP
    """
    chosen = profile_for(profile) if isinstance(profile, str) else profile
    async with OltSession(address, engine=engine) as olt:
        walked = await olt.walk_columns(list(chosen.columns.values()))
    tables = {name: walked[root] for name, root in chosen.columns.items()}
    parsed = chosen.parse(tables)
    return OltReading(parsed.onus, parsed.garbled, sum(len(rows) for rows in tables.values()))
