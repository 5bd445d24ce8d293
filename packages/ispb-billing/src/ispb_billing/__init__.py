"""Pure billing rules for ISPs: money, billing cycles, bills, settlement and dunning decisions.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform, so other projects can use it directly.
"""

from importlib.metadata import version as _version

__version__ = _version("ispb-billing")

__all__ = ("__version__",)
