"""Invoice PDFs: what a customer reads in the file, what the renderer refuses to fetch, and the worker pool.

The PDFs are read back with poppler's real ``pdftotext``/``pdfimages`` (``apt-get install poppler-utils``),
so the assertions are about the text a customer (or a screen reader, or a search) gets out of the file.
"""

import asyncio
import dataclasses
import io
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from ispb_platform.billing.invoices import (
    InvalidLogo,
    InvoiceDocument,
    InvoiceLine,
    InvoiceRenderer,
    RendererClosed,
    RendererCrashed,
)
from ispb_platform.billing.invoices.render import (
    PACKAGE_DIR,
    BlockedURL,
    PackageOnlyFetcher,
    invoice_html,
    render_invoice_pdf,
)


def make_document(**overrides: Any) -> InvoiceDocument:
    """A typical monthly invoice; every amount is distinct so each assertion proves its own field."""
    values: dict[str, Any] = {
        "operator_name": "Dhaka FiberNet Ltd",
        "operator_address": "House 12, Road 5, Dhanmondi, Dhaka 1205",
        "operator_phone": "+880 1711-000000",
        "operator_email": "billing@dhakafiber.example",
        "logo": None,
        "logo_type": "",
        "invoice_number": "INV-2026-000123",
        "kind": "Invoice",
        "issue_date": "1 Jun 2026",
        "due_date": "10 Jun 2026",
        "period": "1-30 Jun 2026",
        "customer_code": "C000123",
        "customer_name": "Rahim Uddin",
        "customer_address": "Flat 4B, 23 Lake Road, Mirpur 10, Dhaka",
        "customer_phone": "+880 1811-123456",
        "lines": (
            InvoiceLine("Home 20 Mbps, June 2026", "৳ 1,043.48", "15%", "৳ 156.52", "৳ 1,200.00"),
            InvoiceLine("Static IP, June 2026", "৳ 260.87", "15%", "৳ 39.13", "৳ 300.00"),
            InvoiceLine("ONU rent, June 2026", "৳ 86.96", "15%", "৳ 13.04", "৳ 100.00"),
        ),
        "net_total": "৳ 1,391.31",
        "vat_total": "৳ 208.69",
        "total": "৳ 1,600.00",
        "amount_paid": "৳ 500.00",
        "balance_due": "৳ 1,100.00",
        "status": "Partly paid",
        "currency": "BDT",
        "notes": "Pay by bKash to 01711-000000 with your customer ID as the reference.",
    }
    return InvoiceDocument(**(values | overrides))


def pdf_text(pdf: bytes) -> str:
    """The text ``pdftotext`` extracts (reading order, UTF-8)."""
    return subprocess.run([_poppler("pdftotext"), "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def pdf_images(pdf: bytes, folder: Path) -> list[list[str]]:
    """One row per embedded image from ``pdfimages -list``: page, num, type, width, height, ..."""
    path = folder / "invoice.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run([_poppler("pdfimages"), "-list", str(path)], capture_output=True, check=True, text=True)
    return [row.split() for row in listing.stdout.splitlines()[2:]]  # skip the two header lines


def _poppler(tool: str) -> str:
    binary = shutil.which(tool)
    if binary is None:
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils")
    return binary


def _squeezed(text: str) -> str:
    return "".join(text.split())


def test_invoice_shows_number_customer_amounts_due_date_and_status():
    pdf = render_invoice_pdf(make_document())

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in ("INV-2026-000123", "Rahim Uddin", "৳ 1,600.00", "৳ 208.69", "10 Jun 2026", "Partly paid"):
        assert expected in text, f"{expected!r} missing from the PDF text"
    for expected in ("৳ 1,391.31", "৳ 500.00", "৳ 1,100.00", "Static IP, June 2026", "C000123", "Page 1 of 1"):
        assert expected in text


def test_credit_note_names_itself_and_the_invoice_it_reverses():
    pdf = render_invoice_pdf(
        make_document(kind="Credit note", invoice_number="CN-2026-000007", refers_to="INV-2026-000123")
    )

    text = pdf_text(pdf)
    assert "Credit note" in text
    assert "CN-2026-000007" in text and "INV-2026-000123" in text
    assert "Invoice INV" not in text


def test_bangla_customer_name_survives_into_the_pdf_text():
    pdf = render_invoice_pdf(make_document(customer_name="রহিম উদ্দিন", customer_address="মিরপুর ১০, ঢাকা"))

    # Every code point arrives in order; pdftotext adds spaces between Bangla glyph clusters because the
    # shaped glyphs are positioned individually, so compare without whitespace.
    text = _squeezed(pdf_text(pdf))
    assert _squeezed("রহিম উদ্দিন") in text
    assert _squeezed("মিরপুর ১০, ঢাকা") in text


def test_line_breaks_in_addresses_and_notes_are_kept():
    doc = make_document(customer_address="Flat 4B\nMirpur 10, Dhaka", notes="First line\nSecond line")

    lines = pdf_text(render_invoice_pdf(doc)).splitlines()

    assert {"Flat 4B", "Mirpur 10, Dhaka", "First line", "Second line"} <= set(lines)


def test_long_invoice_flows_onto_a_second_page_with_totals():
    lines = tuple(InvoiceLine(f"Line {n}", "৳ 1.00", "15%", "৳ 0.15", "৳ 1.15") for n in range(1, 41))

    text = pdf_text(render_invoice_pdf(make_document(lines=lines)))

    assert "Line 40" in text and "Page 2 of 2" in text and "৳ 1,100.00" in text


def test_markup_in_a_field_is_printed_as_text(tmp_path: Path):
    name = '<img src="http://example.com/x.png"> Rahim'

    pdf = render_invoice_pdf(make_document(customer_name=name))

    assert name in pdf_text(pdf)
    assert pdf_images(pdf, tmp_path) == []


def test_png_logo_is_embedded(tmp_path: Path):
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (15, 118, 110)).save(buffer, format="PNG")

    pdf = render_invoice_pdf(make_document(logo=buffer.getvalue(), logo_type="image/png"))

    [image] = pdf_images(pdf, tmp_path)
    assert image[3:5] == ["120", "40"]


def test_svg_logo_pointing_at_a_url_renders_without_any_connection(monkeypatch: pytest.MonkeyPatch):
    attempts: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: attempts.append(address))
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: attempts.append(address))
    logo = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="90" height="30"><rect width="90" height="30"/>'
        b'<image href="http://example.com/tracker.png" width="9" height="9"/></svg>'
    )

    pdf = render_invoice_pdf(make_document(logo=logo, logo_type="image/svg+xml"))

    assert "INV-2026-000123" in pdf_text(pdf)
    assert attempts == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/font.ttf",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        (PACKAGE_DIR / "templates" / ".." / ".." / ".." / ".." / "pyproject.toml").as_uri(),
        "file://attacker.example" + (PACKAGE_DIR / "fonts" / "OFL.txt").as_posix(),
        (PACKAGE_DIR / "fonts").as_uri(),
    ],
)
def test_fetcher_refuses_urls_outside_data_and_the_package(url: str):
    with pytest.raises(BlockedURL):
        PackageOnlyFetcher()(url)


def test_fetcher_serves_data_urls_and_package_files():
    fetcher = PackageOnlyFetcher()

    assert fetcher("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    assert fetcher((PACKAGE_DIR / "fonts" / "NotoSansBengali-Regular.ttf").as_uri()).read()[:4] == b"\x00\x01\x00\x00"


def test_unsupported_logo_type_is_refused_when_the_document_is_built():
    with pytest.raises(InvalidLogo, match="image/gif"):
        make_document(logo=b"GIF89a", logo_type="image/gif")


def test_document_crosses_a_process_boundary_unchanged():
    doc = make_document(customer_name="রহিম উদ্দিন")

    assert pickle.loads(pickle.dumps(doc)) == doc


def test_importing_the_package_does_not_load_weasyprint():
    code = "import sys, ispb_platform.billing.invoices; print('weasyprint' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"


async def test_pool_renders_concurrently_and_survives_recycling():
    numbers = [f"INV-2026-{n:06d}" for n in range(1, 6)]

    async with InvoiceRenderer(workers=1, recycle_after=2) as renderer:
        pdfs = await asyncio.gather(*(renderer.render(make_document(invoice_number=n)) for n in numbers))
        stats = renderer.stats

    for number, pdf in zip(numbers, pdfs, strict=True):
        assert number in pdf_text(pdf)
    assert (stats.rendered, stats.pools_started, stats.crashes) == (5, 3, 0)


async def test_two_workers_render_a_batch_across_a_recycle():
    async with InvoiceRenderer(workers=2, recycle_after=3) as renderer:
        pdfs = await asyncio.gather(*(renderer.render(make_document()) for _ in range(8)))
        stats = renderer.stats

    assert all(pdf.startswith(b"%PDF-") for pdf in pdfs)
    assert (stats.rendered, stats.pools_started) == (8, 2)


async def test_spawned_workers_render_too():
    async with InvoiceRenderer(start_method="spawn") as renderer:
        pdf = await renderer.render(make_document(invoice_number="INV-2026-000042"))

    assert "INV-2026-000042" in pdf_text(pdf)


class _KillsWorkerOnce:
    """Stands in for a document. Unpickling it in a worker kills that worker the first time (a marker
    file remembers), then yields the real document. Only stdlib callables travel, so the worker needs
    no test code: this is what a segfault in a C library looks like to the pool."""

    def __init__(self, doc: InvoiceDocument, marker: Path) -> None:
        self.doc, self.marker = doc, marker
        self.kind, self.invoice_number = doc.kind, doc.invoice_number

    def __reduce__(self) -> tuple[Any, ...]:
        marker = str(self.marker)
        expression = (
            f"__import__('pickle').loads({pickle.dumps(self.doc)!r}) if __import__('os').path.exists({marker!r}) "
            f"else (open({marker!r}, 'w').close(), __import__('os')._exit(3))"
        )
        return (eval, (expression,))


class _KillsWorkerAlways:
    kind, invoice_number = "Invoice", "INV-POISON"

    def __reduce__(self) -> tuple[Any, ...]:
        return (os._exit, (3,))


async def test_pool_replaces_a_dead_worker_and_renders_again(tmp_path: Path):
    doc = make_document(invoice_number="INV-2026-000777")

    async with InvoiceRenderer() as renderer:
        pdf = await renderer.render(_KillsWorkerOnce(doc, tmp_path / "killed"))  # type: ignore[arg-type]
        stats = renderer.stats

    assert (tmp_path / "killed").exists()
    assert "INV-2026-000777" in pdf_text(pdf)
    assert (stats.rendered, stats.pools_started, stats.crashes) == (1, 2, 1)


async def test_document_that_kills_every_worker_raises_and_the_pool_recovers():
    async with InvoiceRenderer() as renderer:
        with pytest.raises(RendererCrashed, match="crashed twice rendering invoice INV-POISON"):
            await renderer.render(_KillsWorkerAlways())  # type: ignore[arg-type]
        pdf = await renderer.render(make_document())

    assert pdf.startswith(b"%PDF-")
    assert renderer.stats.crashes == 2


async def test_render_needs_a_started_renderer():
    renderer = InvoiceRenderer()

    with pytest.raises(RendererClosed):
        await renderer.render(make_document())

    await renderer.start()
    await renderer.close()
    with pytest.raises(RendererClosed):
        await renderer.render(make_document())


def test_documents_are_plain_values():
    doc = make_document()

    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.total = "৳ 0.00"  # type: ignore[misc]


def _png_logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 80), (15, 118, 110)).save(buffer, format="PNG")
    return buffer.getvalue()


def _pages(pdf: bytes, folder: Path, name: str) -> list[Image.Image]:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run([_poppler("pdftoppm"), "-r", "100", "-png", str(path), str(folder / name)], check=True)
    return [Image.open(page).convert("RGB") for page in sorted(folder.glob(f"{name}-*.png"))]


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # the typical invoice: header, facts, lines, totals, notes, footer with "Page 1 of 1"
        {"kind": "Credit note", "refers_to": "INV-2026-000122", "status": "Void", "notes": ""},
        {"lines": tuple(InvoiceLine(f"Line {n}", "৳ 1.00", "15%", "৳ 0.15", "৳ 1.15") for n in range(60))},  # 3 pages
        {"logo": _png_logo(), "logo_type": "image/png", "customer_name": '<Rahim & "Sons">\'s'},
    ],
    ids=["invoice", "credit-note", "three-pages", "logo-and-markup-in-text"],
)
def test_the_renderer_shortcuts_draw_the_same_pages_as_weasyprint_as_shipped(overrides, tmp_path: Path):
    """The XML parser and ``invoice_ua.css`` replace WeasyPrint's HTML5 parser and defaults for speed; the pages must
    not change by a pixel. An element added to the template without its defaults in ``invoice_ua.css`` fails here."""
    document = make_document(customer_address="Flat 4B\n23 Lake Road", **overrides)
    own = _pages(render_invoice_pdf(document), tmp_path, "own")
    shipped = _pages(render_invoice_pdf(document, reference=True), tmp_path, "shipped")
    assert len(own) == len(shipped) >= 1
    for number, (mine, theirs) in enumerate(zip(own, shipped, strict=True), start=1):
        assert ImageChops.difference(mine, theirs).getbbox() is None, f"page {number} differs"


def test_the_template_stays_well_formed_xml():
    """Otherwise every invoice silently falls back to the slower HTML5 parser."""
    for document in (
        make_document(),
        make_document(logo=_png_logo(), logo_type="image/png", refers_to="INV-1", notes="a < b & c > d"),
        make_document(customer_name="রহিম উদ্দিন", notes=""),
    ):
        ElementTree.fromstring(invoice_html(document))


def test_text_the_xml_parser_refuses_still_renders():
    """A control character pasted into an address is not XML, but the invoice must still print."""
    text = pdf_text(render_invoice_pdf(make_document(customer_address="Road 5\x0bMirpur", customer_name="Karim\x01")))

    assert "Karim" in text and "Mirpur" in text


def test_font_subsetting_parses_no_c_type_per_invoice():
    """WeasyPrint sizes its glyph arrays in the C type text; ``render._OpenArrayFFI`` keeps cffi from parsing a new
    type (~2 ms each) for every new glyph count. Fails if WeasyPrint stops going through ``pdf.fonts.ffi``."""
    import weasyprint.pdf.fonts
    from weasyprint.text.ffi import ffi

    from ispb_platform.billing.invoices.render import _OpenArrayFFI

    assert isinstance(weasyprint.pdf.fonts.ffi, _OpenArrayFFI)
    for count in (3, 7, 11):
        lines = tuple(InvoiceLine(f"Item {n} {'x' * n}", "৳ 1.00", "15%", "৳ 0.15", "৳ 1.15") for n in range(count))
        render_invoice_pdf(make_document(lines=lines, customer_name=f"Customer {'ABCDEFGHIJ'[:count]}"))

    sized = [cdecl for cdecl in ffi._parsed_types if re.fullmatch(r"hb_codepoint_t\[\d+\]", cdecl)]
    assert sized == [], "WeasyPrint asked cffi for sized arrays again: the open-array shim no longer applies"


def test_weasyprint_still_has_the_user_agent_hook_the_renderer_overrides():
    """If WeasyPrint renames ``HTML._ua_stylesheets`` the override is silently skipped (slower, same pages)."""
    from weasyprint import HTML

    assert callable(getattr(HTML, "_ua_stylesheets", None))
