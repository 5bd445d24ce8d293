"""Customer import from a CSV file an operator uploads: reading and checking the file, and the report.

Operators bring lists out of Excel, Google Sheets or another billing system, so the parser forgives what those
tools vary (BOM, delimiter, header spelling) and refuses what would be wrong in the database, with the form's
own messages (`validate_customer`) and the line number a spreadsheet shows, since that is where it gets fixed.
Nothing here touches the database: ``service.import_customers`` stores the checked rows with one
``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`` (``queries.insert_many``), and a row that clashes
with a stored (or concurrently inserted) customer is reported (`clash_errors`) while the others are kept.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ispb_platform.customers.forms import FIELDS, CustomerDraft, validate_customer
from ispb_platform.web.csv_files import csv_records, decode_csv, header_key

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
REQUIRED = {"code": "customer id (“code” or “customer id”)", "name": "name", "phone": "mobile (“phone” or “mobile”)"}
_LABELS = {"code": "Customer id", "pppoe_username": "PPPoE username"}
_SAVE_AS = "In Excel choose Save As → “CSV UTF-8 (Comma delimited)” and upload that file."
_FIELD_ORDER = {field: n for n, field in enumerate(FIELDS)}

# Header names people use, after `header_key` (lower case, punctuation and underscores as single spaces).
ALIASES: dict[str, str] = {field.replace("_", " "): field for field in FIELDS} | {
    **dict.fromkeys(("id", "customer id", "customer code", "customer no", "client id"), "code"),
    **dict.fromkeys(("customer name", "client name", "full name", "নাম"), "name"),
    **dict.fromkeys(("mobile", "mobile no", "mobile number", "phone no", "phone number", "cell", "মোবাইল"), "phone"),
    **dict.fromkeys(("e mail", "email address", "mail"), "email"),
    **dict.fromkeys(("full address", "ঠিকানা"), "address"),
    **dict.fromkeys(("zone", "area zone", "location", "এলাকা"), "area"),
    **dict.fromkeys(("package name", "plan", "package id", "প্যাকেজ"), "package"),
    **dict.fromkeys(("pppoe", "pppoe user", "pppoe id", "username", "user name"), "pppoe_username"),
    **dict.fromkeys(("connection date", "connected on", "activation date", "start date"), "connection_date"),
}


@dataclass(frozen=True)
class RowError:
    """One problem with one cell. ``line`` is the spreadsheet row number: the header is line 1."""

    line: int
    field: str
    message: str
    value: str


@dataclass(frozen=True)
class ParsedImport:
    """What the file holds: the valid rows ready to insert and everything that stops the others."""

    rows: list[tuple[int, CustomerDraft]]
    errors: list[RowError]
    file_errors: list[str]
    ignored_columns: list[str]
    total_rows: int


@dataclass(frozen=True)
class ImportReport:
    """What happened: ``errors`` holds both the file's row errors and the rows the database refused."""

    inserted: int
    errors: list[RowError]
    file_errors: list[str]
    ignored_columns: list[str]

    @property
    def errors_by_line(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.line, _FIELD_ORDER.get(e.field, len(FIELDS))))

    @property
    def rejected(self) -> int:
        """Rows not imported (a row with three bad cells counts once)."""
        return len({error.line for error in self.errors})


class _FileRejected(Exception):
    """The file as a whole cannot be imported; carries the messages for the operator."""


def parse_customer_csv(content: bytes, packages: Mapping[str, int]) -> ParsedImport:
    """Read and check the whole file without touching the database; ``packages`` as `package_lookup` gives."""
    ignored: list[str] = []
    try:
        text = decode_csv(content, max_bytes=MAX_BYTES, save_as=_SAVE_AS, rejected=_FileRejected)
        records = csv_records(text, rejected=_FileRejected)
        header_line, header = next(((n, r) for n, r in records if any(c.strip() for c in r)), (0, []))
        if not header:
            raise _FileRejected("The file is empty: the first row should name the columns (code, name, phone, …).")
        columns, ignored, problems = _columns(header, header_line)
        if problems:
            raise _FileRejected(*problems)
        rows, errors, total = _check_rows(records, columns, packages)
    except _FileRejected as rejected:
        return ParsedImport([], [], list(rejected.args), ignored, 0)
    return ParsedImport(rows, errors, [], ignored, total)


def _columns(header: list[str], line: int) -> tuple[dict[str, int], list[str], list[str]]:
    """Field → column index, unknown names (shown as ignored, not refused) and what makes the header unusable."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for index, name in enumerate(header):
        field = ALIASES.get(header_key(name))
        if field is None:
            if name.strip():
                ignored.append(name.strip())
        elif field in columns:
            first = header[columns[field]].strip()
            problems.append(f"Columns “{first}” and “{name.strip()}” both mean {field}; keep one of them.")
        else:
            columns[field] = index
    for field, label in REQUIRED.items():
        if field not in columns:
            problems.append(f"The header row (line {line}) has no column for the {label}.")
    return columns, ignored, problems


def _check_rows(
    records: Iterator[tuple[int, list[str]]], columns: dict[str, int], packages: Mapping[str, int]
) -> tuple[list[tuple[int, CustomerDraft]], list[RowError], int]:
    rows: list[tuple[int, CustomerDraft]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    total = 0
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        total += 1
        if total > MAX_ROWS:
            raise _FileRejected(f"The file has more than {MAX_ROWS:,} customers; split it into smaller files.")
        data = {field: record[i].strip() if i < len(record) else "" for field, i in columns.items()}
        checked = validate_customer(data, packages)
        row_errors = [RowError(line, f, message, data.get(f, "")) for f, message in checked.errors.items()]
        row_errors += _repeats(line, data, checked.errors, seen)
        if row_errors:
            errors += row_errors
        elif checked.draft is not None:
            rows.append((line, checked.draft))
    return rows, errors, total


def _repeats(
    line: int, data: dict[str, str], invalid: Mapping[str, str], seen: dict[tuple[str, str], int]
) -> list[RowError]:
    """Codes and PPPoE usernames are unique: a value repeated in the file is refused on every later line.

    Rows refused for other reasons still claim their value, so the operator sees the clash in one upload.
    """
    found: list[RowError] = []
    for field, label in _LABELS.items():
        value = data.get(field, "")
        if not value or field in invalid:
            continue
        first = seen.setdefault((field, value), line)
        if first != line:
            found.append(RowError(line, field, f"{label} {value} is repeated: line {first} already has it.", value))
    return found


def skipped_rows(rows: list[tuple[int, CustomerDraft]], inserted: set[str]) -> list[tuple[int, CustomerDraft]]:
    """The rows the insert skipped as conflicts, given the codes that went in.

    A code given twice went in from its first row (the insert keeps file order); its later rows are skipped.
    """
    unclaimed = set(inserted)
    skipped: list[tuple[int, CustomerDraft]] = []
    for line, draft in rows:
        if draft.code in unclaimed:
            unclaimed.discard(draft.code)
        else:
            skipped.append((line, draft))
    return skipped


def clash_errors(skipped: list[tuple[int, CustomerDraft]], taken: set[tuple[str, str]]) -> list[RowError]:
    """Say which unique value each skipped row collided with; ``taken`` holds the (field, value) pairs stored
    customers have (read after the insert, READ COMMITTED: concurrent winners are visible)."""
    errors: list[RowError] = []
    for line, draft in skipped:
        values = [("code", draft.code)] + ([("pppoe_username", draft.pppoe_username)] if draft.pppoe_username else [])
        clashes = [(field, value) for field, value in values if (field, value) in taken]
        errors += [RowError(line, f, f"{_LABELS[f]} {value} already exists.", value) for f, value in clashes]
        if not clashes:  # the clashing row is gone again (deleted meanwhile): never drop the row without a word
            retry = f"Customer id {draft.code} clashed with a change made at the same time; import this row again."
            errors.append(RowError(line, "code", retry, draft.code))
    return errors
