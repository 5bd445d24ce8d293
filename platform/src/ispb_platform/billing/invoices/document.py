"""What an invoice PDF shows: plain, picklable values with every text already formatted.

The renderer never computes or formats money, dates or numbers: the platform does that with the billing
library (exact decimal money, the tenant's locale) and hands over strings. That keeps one source of truth
for amounts, lets the template stay dumb, and lets the documents cross a process boundary (the render
pool pickles them) without dragging database rows or ``Decimal`` contexts along.
"""

from dataclasses import dataclass

#: The logo formats WeasyPrint can draw; anything else is refused before rendering starts.
LOGO_TYPES = frozenset({"image/png", "image/jpeg", "image/svg+xml"})


class InvalidLogo(ValueError):
    """The logo's mime type is not one WeasyPrint can draw (PNG, JPEG or SVG)."""


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One row of the lines table, e.g. ``InvoiceLine("Home 20 Mbps, June", "৳ 869.57", "15%", "৳ 130.43",
    "৳ 1,000.00")``."""

    description: str
    net: str
    vat_rate: str
    vat: str
    total: str


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """Everything printed on one invoice or credit note.

    ``kind`` is the title ("Invoice" or "Credit note"); for a credit note ``refers_to`` names the invoice
    it reverses. ``logo`` holds PNG, JPEG or SVG bytes with their mime type in ``logo_type``; it is embedded
    as a ``data:`` URL, so the renderer never needs network or disk access for it. ``status`` is the
    caller's label ("Unpaid", "Partly paid", "Paid", "Void"); the badge colour follows those English
    labels and stays neutral for any other text.
    """

    operator_name: str
    operator_address: str
    operator_phone: str
    operator_email: str
    logo: bytes | None
    logo_type: str
    invoice_number: str
    kind: str
    issue_date: str
    due_date: str
    period: str
    customer_code: str
    customer_name: str
    customer_address: str
    customer_phone: str
    lines: tuple[InvoiceLine, ...]
    net_total: str
    vat_total: str
    total: str
    amount_paid: str
    balance_due: str
    status: str
    currency: str
    notes: str = ""
    refers_to: str = ""

    def __post_init__(self) -> None:
        # Checked here, in the caller's process, so a bad upload fails before it reaches a render worker.
        if self.logo is not None and self.logo_type not in LOGO_TYPES:
            raise InvalidLogo(f"logo type {self.logo_type!r} is not one of {', '.join(sorted(LOGO_TYPES))}")
