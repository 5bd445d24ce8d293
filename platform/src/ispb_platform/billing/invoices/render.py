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
import re
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import cssselect2  # type: ignore[import-untyped]
import jinja2
import weasyprint.pdf.fonts  # type: ignore[import-untyped]  # WeasyPrint ships no type information
from weasyprint import CSS, HTML
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


_SIZED_ARRAY = re.compile(r"(\w+)\[(\d+)\]")


class _OpenArrayFFI:
    """WeasyPrint's cffi handle for font subsetting, asking for open arrays (``hb_codepoint_t[]``) where WeasyPrint
    writes the length into the type (``hb_codepoint_t[412]``).

    cffi caches C types by their text and parses each new text with pycparser, ~2 ms. WeasyPrint 70 subsets
    every font of every PDF with arrays typed by their length (glyphs used, highest glyph id), so a worker
    parsed two or three new types per invoice for its first few hundred invoices, and again after each
    recycle. An open array takes its length from the values: the same memory, one cached type. A test
    fails if WeasyPrint stops calling ``new`` through this module's ``ffi``.
    """

    def __init__(self, ffi: Any) -> None:
        self._ffi = ffi

    def new(self, cdecl: Any, init: Any = None) -> Any:
        sized = _SIZED_ARRAY.fullmatch(cdecl) if isinstance(cdecl, str) and init is not None else None
        if sized and int(sized[2]) == len(init):
            cdecl = f"{sized[1]}[]"
        return self._ffi.new(cdecl, init)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ffi, name)


if not isinstance(weasyprint.pdf.fonts.ffi, _OpenArrayFFI):
    weasyprint.pdf.fonts.ffi = _OpenArrayFFI(weasyprint.pdf.fonts.ffi)


class _InvoiceHTML(HTML):  # type: ignore[misc]  # HTML is untyped (Any)
    """WeasyPrint's HTML with two shortcuts for the invoice, each checked by a test that renders invoices with and
    without it and compares the pages pixel by pixel:

    - its own user-agent stylesheet (``templates/invoice_ua.css``): matching WeasyPrint's full HTML5 defaults
      against every element took 16% of each render, and the invoice uses a dozen elements.
      ``_ua_stylesheets`` is WeasyPrint's hook for this (70.x; a test fails if it goes away);
    - :meth:`from_xhtml`: the template is well-formed XHTML, so the C XML parser reads it in ~0.1 ms where
      WeasyPrint's pure-Python HTML5 parser takes ~2.8 ms (5% of a render).
    """

    ua_stylesheet: CSS | None = None

    @classmethod
    def from_xhtml(cls, root: ElementTree.Element, base_url: str, url_fetcher: URLFetcher) -> "_InvoiceHTML":
        """An HTML document from an already parsed tree: what ``HTML.__init__`` sets after parsing (70.x)."""
        html = cls.__new__(cls)
        html.base_url = base_url
        html.url_fetcher = url_fetcher
        html.media_type = "print"
        html.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        html.etree_element = html.wrapper_element.etree_element
        return html

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


def _parse(source: str, fetcher: URLFetcher, *, reference: bool) -> _InvoiceHTML:
    base_url = TEMPLATES_DIR.as_uri() + "/"
    if not reference:
        try:
            # Our own template's output: every value in it went through autoescape, so it cannot declare entities.
            root = ElementTree.fromstring(source)  # noqa: S314
            return _InvoiceHTML.from_xhtml(root, base_url, fetcher)
        except ElementTree.ParseError:
            # Text that XML forbids (a control character pasted into an address) is still HTML: parse it as HTML.
            pass
    return _InvoiceHTML(string=source, base_url=base_url, url_fetcher=fetcher)


def render_invoice_pdf(doc: InvoiceDocument, *, reference: bool = False) -> bytes:
    """Render ``doc`` as an A4 PDF and return the file's bytes.

    Blocking and CPU-bound (tens of milliseconds): from async code use
    :class:`ispb_platform.billing.invoices.pool.InvoiceRenderer`, which also keeps WeasyPrint's memory in check.

    >>> pdf = render_invoice_pdf(document)  # doctest: +SKIP
    >>> pdf[:5]  # doctest: +SKIP
    b'%PDF-'

    ``reference`` renders without the shortcuts of :class:`_InvoiceHTML`: WeasyPrint's own HTML parser and HTML5
    user-agent stylesheet (slower, the same pages). The tests that keep the shortcuts honest compare the two.
    """
    toolkit = _toolkit()
    html = _parse(invoice_html(doc), toolkit.fetcher, reference=reference)
    html.ua_stylesheet = None if reference else toolkit.ua_stylesheet
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
