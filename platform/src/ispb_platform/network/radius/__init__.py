"""FreeRADIUS for every tenant: the generated configuration (``ispb radius config``). See docs/radius.md."""
