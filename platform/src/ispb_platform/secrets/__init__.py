"""Sealed secrets at rest: which columns hold them, and re-sealing them (``ispb secrets reseal|rotate``)."""
