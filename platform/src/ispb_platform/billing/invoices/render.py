"""Invoice HTML to PDF with WeasyPrint: fonts shipped in this package, no network, one setup per process.

Why it looks like this (DESIGN 9): WeasyPrint keeps memory after each render, so the web app calls this
through :class:`ispb_platform.billing.invoices.pool.InvoiceRenderer`, whose worker processes are recycled. Inside
a process the expensive parts (Fontconfig setup, loading the @font-face files, parsing the CSS, compiling
the template) happen once and are reused for every invoice. The URL fetcher only serves ``data:`` URLs
and files inside this package, so text that reaches the HTML can never make the renderer fetch a URL or
read another file on the server.
"""

import base64
import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from weasyprint import CSS, HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type information
from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

from ispb_platform.billing.invoices.document import InvoiceDocument, InvoiceLine

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"

# Badge colours for the platform's English status labels; any other label gets the neutral badge.
_TONES = {"paid": "paid", "unpaid": "unpaid", "partly paid": "partly", "void": "void"}


class BlockedURL(ValueError):
    """The renderer was asked for a URL outside ``data:`` and this package's own files."""


def is_allowed_url(url: str, root: Path = PACKAGE_DIR) -> bool:
    """True for ``data:`` URLs and ``file:`` URLs naming a file under ``root`` (after resolving ``..``
    and symlinks); False for everything else, including ``http:``, ``ftp:`` and other local files.

    >>> is_allowed_url("data:image/png;base64,iVBORw0KGgo=")
    True
    >>> is_allowed_url("http://example.com/x.png")
    False
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return True
    if scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()
    return path.is_file() and path.is_relative_to(root.resolve())


class PackageOnlyFetcher(URLFetcher):  # type: ignore[misc]  # URLFetcher is untyped (Any)
    """WeasyPrint's fetcher restricted by :func:`is_allowed_url`; a refused URL raises :class:`BlockedURL`.

    WeasyPrint catches the error, logs it and draws the page without that resource, so a hostile URL
    costs a missing image, never a request.
    """

    def __init__(self, root: Path = PACKAGE_DIR) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self._root = root

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if not is_allowed_url(url, self._root):
            raise BlockedURL(f"invoice renderer refuses to fetch {url[:80]!r}")
        return super().fetch(url, headers)


# Measured on a 5-line invoice (WeasyPrint 70): ``dpi=300`` caps embedded images at print resolution, so a
# 1200x400 photo-like logo makes a 0.3 MB PDF instead of 1.4 MB and renders faster; small logos are
# untouched. WeasyPrint's defaults are right for the rest: ``optimize_images`` re-encodes every image
# (+15 ms), ``full_fonts`` embeds whole fonts (3x slower, ~1.4 MB), ``uncompressed_pdf`` saves ~1 ms for
# a 3x larger file, and subsetting with HarfBuzz keeps an invoice at ~15 KB.
_PDF_OPTIONS = {"dpi": 300}


class _InvoiceHTML(HTML):  # type: ignore[misc]  # HTML is untyped (Any)
    """WeasyPrint's HTML with the invoice's own user-agent stylesheet (``templates/invoice_ua.css``).

    Matching WeasyPrint's full HTML5 defaults against every element took 16% of each render; the invoice uses a
    dozen elements. ``_ua_stylesheets`` is WeasyPrint's hook for this (70.x; a test fails if it goes away), and
    a test renders an invoice both ways and compares the pages pixel by pixel.
    """

    ua_stylesheet: CSS | None = None

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        if self.ua_stylesheet is None:
            return list(super()._ua_stylesheets(forms))
        return [self.ua_stylesheet]


@dataclass(frozen=True)
class _Toolkit:
    """Per-process rendering state: built once because building it costs more than a render."""

    template: jinja2.Template
    stylesheet: CSS
    ua_stylesheet: CSS
    font_config: FontConfiguration
    fetcher: PackageOnlyFetcher
    # Pango's font map inside FontConfiguration is not thread-safe; the pool runs one render per process,
    # this lock covers direct calls from threads.
    lock: threading.Lock


@functools.cache
def _toolkit() -> _Toolkit:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
        # Fewer whitespace-only text nodes means fewer anonymous boxes for WeasyPrint to style and lay out.
        trim_blocks=True,
        lstrip_blocks=True,
    )
    fetcher = PackageOnlyFetcher()
    font_config = FontConfiguration()
    stylesheet = CSS(filename=TEMPLATES_DIR / "invoice.css", url_fetcher=fetcher, font_config=font_config)
    ua_stylesheet = CSS(filename=TEMPLATES_DIR / "invoice_ua.css", url_fetcher=fetcher)
    template = environment.get_template("invoice.html")
    return _Toolkit(template, stylesheet, ua_stylesheet, font_config, fetcher, threading.Lock())


def _logo_url(doc: InvoiceDocument) -> str:
    if doc.logo is None:
        return ""
    return f"data:{doc.logo_type};base64,{base64.b64encode(doc.logo).decode('ascii')}"


def invoice_html(doc: InvoiceDocument) -> str:
    """The invoice as HTML (what WeasyPrint lays out); useful to preview the template in a browser."""
    tone = _TONES.get(doc.status.strip().lower(), "neutral")
    return _toolkit().template.render(doc=doc, logo_url=_logo_url(doc), tone=tone)


def render_invoice_pdf(doc: InvoiceDocument, *, html5_defaults: bool = False) -> bytes:
    """Render ``doc`` as an A4 PDF and return the file's bytes.

    Blocking and CPU-bound (tens of milliseconds): from async code use
    :class:`ispb_platform.billing.invoices.pool.InvoiceRenderer`, which also keeps WeasyPrint's memory in check.

    >>> pdf = render_invoice_pdf(document)  # doctest: +SKIP
    >>> pdf[:5]  # doctest: +SKIP
    b'%PDF-'

    ``html5_defaults`` renders with WeasyPrint's full HTML5 user-agent stylesheet instead of the invoice's own
    (slower, the same pages): the test that keeps ``invoice_ua.css`` complete uses it.
    """
    toolkit = _toolkit()
    html = _InvoiceHTML(string=invoice_html(doc), base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=toolkit.fetcher)
    html.ua_stylesheet = None if html5_defaults else toolkit.ua_stylesheet
    with toolkit.lock:
        pdf = html.write_pdf(stylesheets=[toolkit.stylesheet], font_config=toolkit.font_config, **_PDF_OPTIONS)
    return bytes(pdf)


_WARM_UP_DOCUMENT = InvoiceDocument(
    operator_name="ISPB",
    operator_address="Dhaka",
    operator_phone="",
    operator_email="",
    logo=None,
    logo_type="",
    invoice_number="WARM-UP",
    kind="Invoice",
    issue_date="",
    due_date="",
    period="",
    customer_code="",
    customer_name="গ্রাহক",  # Bangla, so the Bengali font is loaded too
    customer_address="",
    customer_phone="",
    lines=(InvoiceLine("Warm-up", "৳ 0.00", "0%", "৳ 0.00", "৳ 0.00"),),
    net_total="৳ 0.00",
    vat_total="৳ 0.00",
    total="৳ 0.00",
    amount_paid="৳ 0.00",
    balance_due="৳ 0.00",
    status="Paid",
    currency="BDT",
)


def warm_up() -> None:
    """Pay the one-off costs of a fresh process now: the first render takes ~3x a normal one (fonts,
    Pango caches, lazy imports). The render pool calls this when a worker starts, before it takes work."""
    render_invoice_pdf(_WARM_UP_DOCUMENT)
