"""Invoice and credit note PDFs: a document model, a WeasyPrint renderer and an async worker pool.

The platform builds an :class:`InvoiceDocument` with every amount and date already formatted, then
``await renderer.render(doc)`` on the application's :class:`InvoiceRenderer`; scripts and tests may call
:func:`render_invoice_pdf` directly.
"""

from ispb_platform.invoices.document import InvoiceDocument, InvoiceLine
from ispb_platform.invoices.pool import InvoiceRenderer, RendererClosed, RendererCrashed, RendererStats
from ispb_platform.invoices.render import BlockedURL, InvalidLogo, render_invoice_pdf

__all__ = (
    # The document
    "InvoiceDocument",
    "InvoiceLine",
    # Rendering
    "render_invoice_pdf",
    "InvoiceRenderer",
    "RendererStats",
    # Errors
    "BlockedURL",
    "InvalidLogo",
    "RendererClosed",
    "RendererCrashed",
)
