"""Invoice and credit note PDFs: a document model, a WeasyPrint renderer and an async worker pool.

The platform builds an :class:`InvoiceDocument` with every amount and date already formatted, then
``await renderer.render(doc)`` on the application's :class:`InvoiceRenderer`. Scripts and tests may call
``ispb_platform.billing.invoices.render.render_invoice_pdf`` in-process; it is not re-exported here because
importing it loads WeasyPrint, which the web process itself never needs.
"""

from ispb_platform.billing.invoices.document import InvalidLogo, InvoiceDocument, InvoiceLine
from ispb_platform.billing.invoices.pool import InvoiceRenderer, RendererClosed, RendererCrashed, RendererStats

__all__ = (
    # The document
    "InvoiceDocument",
    "InvoiceLine",
    # Rendering in worker processes
    "InvoiceRenderer",
    "RendererStats",
    # Errors
    "InvalidLogo",
    "RendererClosed",
    "RendererCrashed",
)
