"""OLT and ONU status over SNMP: an asyncio client (SNMPv2c, SNMPv3 authPriv, GETBULK walks) and vendor
profiles that map each vendor's ONU tables to one `OnuRecord`.

Three lines walk an OLT::

    from ispb_netsync.olt import OltAddress, read_onus
    reading = await read_onus(OltAddress("10.0.0.2", community="public"), "huawei_gpon")
    print([(onu.place, onu.serial, onu.status, onu.rx_dbm) for onu in reading.onus])
"""

from ispb_netsync.olt.client import OltAddress, OltSession, SNMPv3User, new_engine
from ispb_netsync.olt.errors import (
    OLTAuthFailed,
    OLTCommunityRejected,
    OLTError,
    OLTGarbage,
    OLTTimedOut,
    OLTUnreachable,
    OLTWalkCut,
)
from ispb_netsync.olt.profiles import PROFILES, Profile, profile_for
from ispb_netsync.olt.reading import OltReading, read_onus
from ispb_netsync.olt.recording import recording, write_recording
from ispb_netsync.olt.records import OnuRecord, OnuStatus

__all__ = (
    # reading an OLT
    "OltAddress",
    "SNMPv3User",
    "OltSession",
    "new_engine",
    "read_onus",
    "OltReading",
    # what it says
    "OnuRecord",
    "OnuStatus",
    # vendors
    "PROFILES",
    "Profile",
    "profile_for",
    # errors
    "OLTError",
    "OLTUnreachable",
    "OLTTimedOut",
    "OLTWalkCut",
    "OLTAuthFailed",
    "OLTCommunityRejected",
    "OLTGarbage",
    # simulated OLTs for tests and demos
    "recording",
    "write_recording",
)
