"""Reading a CSV file an operator exported from a spreadsheet, a bank portal or bKash: the one reader behind the
customer import and the payment statement import.

What people upload varies: a UTF-8 BOM (Excel's "CSV UTF-8"), UTF-16 ("Unicode text"), an Excel workbook by
mistake, `;` or tab instead of `,` (a comma is a decimal sign in many locales), CRLF or old Mac line ends, a
quote left open. Each is either read or refused with a sentence that says what to do; the caller chooses the
size limit, the advice and the exception its page shows (``rejected``).
"""

import csv
import itertools
import re
from collections.abc import Callable, Iterator

Rejected = Callable[[str], Exception]
"""Makes the exception the caller's page turns into a message (its ``*args`` are shown)."""

SNIFF_LINES = 20
"""Non-blank lines looked at to choose the delimiter (a statement may have account lines above its header)."""


def decode_csv(content: bytes, *, max_bytes: int, save_as: str, rejected: Rejected) -> str:
    """The file's text, or ``rejected(why)`` for an empty, oversize, Excel, undecodable or NUL-holding file.
    ``save_as`` is the advice appended where another export would help."""
    if not content.strip():
        raise rejected("The file is empty.")
    if len(content) > max_bytes:
        limit = f"{max_bytes / 1048576:.0f} MB"
        raise rejected(f"The file is {len(content) / 1048576:.1f} MB; the limit is {limit}. Split it in parts.")
    if content.startswith(b"PK\x03\x04"):
        raise rejected(f"This is an Excel workbook, not a CSV file. {save_as}")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" and some bank portals
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            raise rejected(f"The file is not readable UTF-16 text. {save_as}") from None
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = content[: error.start].count(b"\n") + 1
            raise rejected(f"The file is not UTF-8 text (unreadable bytes on line {line}). {save_as}") from None
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        line = text[: text.index("\x00")].count("\n") + 1
        raise rejected(f"The file has NUL characters (line {line}): it is not plain CSV text. {save_as}")
    return text


def csv_records(text: str, *, rejected: Rejected) -> Iterator[tuple[int, list[str]]]:
    """Records numbered as a spreadsheet shows them (a quoted cell spanning lines is still one record). The
    delimiter is the one the first non-blank lines use most; a quote left open is ``rejected`` (a lenient reader
    would silently swallow the rest of the file into one cell)."""
    if "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line ends
    sample = "".join(itertools.islice((x for x in _physical_lines(text) if x.strip()), SNIFF_LINES))
    delimiter = max(",;\t", key=sample.count)  # ties (no delimiter at all) keep the comma
    reader = csv.reader(_physical_lines(text), delimiter=delimiter, strict=True)
    line = 0
    try:
        for line, record in enumerate(reader, start=1):
            yield line, record
    except csv.Error as error:
        raise rejected(f"Line {line + 1} cannot be read ({error}); check its quotes.") from None


def header_key(name: str) -> str:
    """A column name as alias tables spell it: lower case, punctuation and underscores as single spaces."""
    return re.sub(r"[\s_\-.:/#*()\[\]]+", " ", name.replace("\ufeff", "").lower()).strip()


def _physical_lines(text: str) -> Iterator[str]:
    """The text's lines with their line ends, one at a time (the csv reader joins a quoted cell's lines itself).
    Not a StringIO: that would hold the whole file once more, at up to four bytes a character."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end
