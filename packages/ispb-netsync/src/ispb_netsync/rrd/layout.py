"""Where a tenant's RRD files live, and removing a customer's when the customer is deleted.

One directory per tenant under the data directory, one file per customer and per router interface::

    <data_dir>/rrd/<tenant>/customer-<id>.rrd
    <data_dir>/rrd/<tenant>/router-<id>-<interface>.rrd

The names are built here, never from text pasted together elsewhere, because an interface name is the
router's (RouterOS allows ``/``, spaces, ``<pppoe-rahim>`` and any Unicode) and a tenant name ends up in a
path: interface names are percent-encoded (reversibly, so two interfaces never share a file) and a tenant must
be a plain directory name.

>>> customer_rrd(Path("/var/ispb"), "dhaka-net", 42)
PosixPath('/var/ispb/rrd/dhaka-net/customer-42.rrd')
>>> interface_rrd(Path("/var/ispb"), "dhaka-net", 3, "sfp-sfpplus1")
PosixPath('/var/ispb/rrd/dhaka-net/router-3-sfp-sfpplus1.rrd')
>>> interface_rrd(Path("/var/ispb"), "dhaka-net", 3, "<pppoe-rahim/1>").name
'router-3-%3Cpppoe-rahim%2F1%3E.rrd'
>>> customer_rrd(Path("/var/ispb"), "../etc", 1)
Traceback (most recent call last):
...
ispb_netsync.rrd.errors.InvalidName: tenant '../etc': use lowercase letters, digits, '-' and '_' (at most 63)
"""

import re
from pathlib import Path
from urllib.parse import quote

from ispb_netsync.rrd.errors import InvalidName

_TENANT = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_MAX_FILE_NAME = 255  # bytes, ext4 and most others


def tenant_dir(data_dir: Path, tenant: str) -> Path:
    """The tenant's RRD directory: ``<data_dir>/rrd/<tenant>``."""
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise InvalidName(f"tenant {tenant!r}: use lowercase letters, digits, '-' and '_' (at most 63)")
    return data_dir / "rrd" / tenant


def _identifier(kind: str, value: int) -> int:
    if type(value) is not int or value < 1:
        raise InvalidName(f"{kind} id must be a positive whole number, not {value!r}")
    return value


def customer_rrd(data_dir: Path, tenant: str, customer_id: int) -> Path:
    """The customer's traffic file."""
    return tenant_dir(data_dir, tenant) / f"customer-{_identifier('customer', customer_id)}.rrd"


def interface_rrd(data_dir: Path, tenant: str, router_id: int, interface: str) -> Path:
    """One router interface's traffic file; the interface name as the router spells it."""
    if not isinstance(interface, str) or not interface:
        raise InvalidName(f"interface name must be non-empty text, not {interface!r}")
    name = f"router-{_identifier('router', router_id)}-{quote(interface, safe='')}.rrd"
    if len(name.encode()) > _MAX_FILE_NAME:
        raise InvalidName(f"interface name {interface!r} is too long for a file name")
    return tenant_dir(data_dir, tenant) / name


def customer_files(data_dir: Path, tenant: str, customer_id: int) -> tuple[Path, ...]:
    """Every file the library keeps for a customer (today: the traffic RRD)."""
    return (customer_rrd(data_dir, tenant, customer_id),)


def remove_customer_files(data_dir: Path, tenant: str, customer_id: int) -> int:
    """Delete a customer's files (when the customer's data is deleted); how many there were. Safe twice.

    With rrdcached, values it still holds for a deleted file are dropped when it next writes (it logs the
    missing file); the platform stops sending samples for a deleted customer, so nothing recreates the file.
    """
    removed = 0
    for path in customer_files(data_dir, tenant, customer_id):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
    return removed
