"""RADIUS for ISPs, without a database: packets, a Dynamic Authorization client, and the FreeRADIUS rows.

- `packet`: RFC 2865/2866/3579/5176 encoding, decoding and authenticators.
- `client`: `disconnect` and `coa` towards a NAS (RFC 5176), and `send_request` for any request.
- `rows`: a customer's radcheck/radreply/radusergroup rows and the suspended group's rows.

Example::

    from ispb_netsync.radius import coa, customer_rows

    rows = customer_rows("rahim", "s3cret", rate_limit="10M/10M", suspended=False)
    result = await coa("10.0.0.1", 3799, "nas-secret", user_name="rahim",
                       attributes={"Mikrotik-Rate-Limit": "20M/20M"})
"""

from ispb_netsync.radius.client import (
    COA_PORT,
    CoaResult,
    DisconnectResult,
    NasUnreachable,
    RadiusError,
    coa,
    disconnect,
    send_request,
)
from ispb_netsync.radius.dictionary import MIKROTIK_VENDOR, AcctStatusType, ErrorCause
from ispb_netsync.radius.packet import (
    Attr,
    Code,
    Packet,
    PacketError,
    attr,
    build_request,
    build_response,
    decode,
    encode,
    hide_password,
    unhide_password,
    verify_request,
    verify_response,
)
from ispb_netsync.radius.rows import (
    SUSPENDED_GROUP,
    CheckRow,
    CustomerRows,
    GroupRows,
    InvalidRadiusValue,
    ReplyRow,
    SuspendedMode,
    UserGroupRow,
    customer_rows,
    suspended_group_rows,
)

__all__ = (
    # Dynamic Authorization and the client
    "COA_PORT",
    "CoaResult",
    "DisconnectResult",
    "NasUnreachable",
    "RadiusError",
    "coa",
    "disconnect",
    "send_request",
    # packets
    "MIKROTIK_VENDOR",
    "AcctStatusType",
    "Attr",
    "Code",
    "ErrorCause",
    "Packet",
    "PacketError",
    "attr",
    "build_request",
    "build_response",
    "decode",
    "encode",
    "hide_password",
    "unhide_password",
    "verify_request",
    "verify_response",
    # FreeRADIUS SQL rows
    "SUSPENDED_GROUP",
    "CheckRow",
    "CustomerRows",
    "GroupRows",
    "InvalidRadiusValue",
    "ReplyRow",
    "SuspendedMode",
    "UserGroupRow",
    "customer_rows",
    "suspended_group_rows",
)
