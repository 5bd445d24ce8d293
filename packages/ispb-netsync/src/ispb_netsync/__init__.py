"""Network adapters for ISPs: MikroTik RouterOS API, RADIUS, OLT/ONU over SNMP and RRD graphs.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform, so other projects can use it directly.

Import the adapter you need from its subpackage: ``ispb_netsync.routeros`` (MikroTik RouterOS API sessions,
typed results, idempotent "ensure" operations), ``ispb_netsync.radius`` (RADIUS packets, Disconnect and
CoA requests, rows for FreeRADIUS's SQL tables) and ``ispb_netsync.rrd`` (traffic RRD files and graphs; the
``rrd`` extra).
"""

from importlib.metadata import version as _version

__version__ = _version("ispb-netsync")

__all__ = ("__version__",)
