"""Customer notifications for ISPs: templates, reminder rules and SMS/WhatsApp gateway clients.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform, so other projects can use it directly.
"""

from importlib.metadata import version as _version

__version__ = _version("ispb-notify")

__all__ = ("__version__",)
