"""Network adapters for ISPs: MikroTik RouterOS API, RADIUS, OLT/ONU over SNMP and RRD graphs.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform, so other projects can use it directly.
"""

from importlib.metadata import version as _version

__version__ = _version("ispb-netsync")

__all__ = ("__version__",)
