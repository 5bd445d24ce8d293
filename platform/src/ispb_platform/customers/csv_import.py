"""Customer import from a CSV file an operator uploads: check every row first, then insert in one statement.

Operators bring lists out of Excel, Google Sheets or another billing system, so the parser forgives what those
tools vary (BOM, delimiter, header spelling) and refuses what would be wrong in the database, with the form's
own messages (`validate_customer`) and the line number a spreadsheet shows, since that is where it gets fixed.
One ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`` stores any number of rows in one round trip;
a row that clashes with a stored (or concurrently inserted) customer is reported and the others are kept.
"""

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import asyncpg

from ispb_platform.customers.forms import FIELDS, CustomerDraft, validate_customer
from ispb_tenants import TenantScope

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
REQUIRED = {"code": "customer id (“code” or “customer id”)", "name": "name", "phone": "mobile (“phone” or “mobile”)"}
_LABELS = {"code": "Customer id", "pppoe_username": "PPPoE username"}
_SAVE_AS = "In Excel choose Save As → “CSV UTF-8 (Comma delimited)” and upload that file."
_FIELD_ORDER = {field: n for n, field in enumerate(FIELDS)}

# Header names people use, after `_header_key` (lower case, punctuation and underscores as single spaces).
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
        text = _decode(content)
        records = _records(text)
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


def _decode(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise _FileRejected(f"The file is {len(content) / 1048576:.1f} MB; the limit is 5 MB. Split it in parts.")
    if content.startswith(b"PK\x03\x04"):
        raise _FileRejected(f"This is an Excel workbook, not a CSV file. {_SAVE_AS}")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise _FileRejected(f"The file is not UTF-8 text (unreadable bytes on line {line}). {_SAVE_AS}") from None
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; seen in UTF-16 ("Unicode text") exports
        line = text[: text.index("\x00")].count("\n") + 1
        raise _FileRejected(f"The file has NUL characters (line {line}): it is not plain CSV text. {_SAVE_AS}")
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Records numbered as a spreadsheet shows them: a quoted cell spanning lines is still one row."""
    first = text.lstrip("\r\n").partition("\n")[0]
    delimiter = max(",;\t", key=first.count)  # ties (no delimiter at all) keep the comma
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 0
    try:
        for line, record in enumerate(reader, start=1):
            yield line, record
    except csv.Error as error:
        raise _FileRejected(f"Line {line + 1} cannot be read ({error}); check its quotes.") from None


def _header_key(name: str) -> str:
    return re.sub(r"[\s_\-.:/#*()]+", " ", name.replace("\ufeff", "").lower()).strip()


def _columns(header: list[str], line: int) -> tuple[dict[str, int], list[str], list[str]]:
    """Field → column index, unknown names (shown as ignored, not refused) and what makes the header unusable."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[str] = []
    for index, name in enumerate(header):
        field = ALIASES.get(_header_key(name))
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


_COLUMNS = tuple("package_id" if field == "package" else field for field in FIELDS)  # CustomerDraft, in _INSERT order
_INSERT = """
INSERT INTO customer (code, name, phone, email, address, area, package_id, status, pppoe_username,
                      connection_date, billing_profile_id)
SELECT code, name, phone, email, address, area, package_id, status, pppoe_username,
       coalesce(connection_date, current_date), (SELECT id FROM billing_profile WHERE is_default)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[],
            $9::text[], $10::date[]) WITH ORDINALITY
     AS t(code, name, phone, email, address, area, package_id, status, pppoe_username, connection_date, n)
ORDER BY n
ON CONFLICT DO NOTHING
RETURNING code
"""


async def import_customers(
    scope: TenantScope, parsed: ParsedImport, *, actor: str, actor_user_id: int | None = None, ip: str | None = None
) -> ImportReport:
    """Insert the valid rows in the caller's transaction; rows that clash with stored customers become errors.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same code and then skips the row, and every
    skipped row is looked up and reported, so a row that loses a race is never dropped silently. A file with
    file-level errors inserts and logs nothing.
    """
    if parsed.file_errors:
        return ImportReport(0, list(parsed.errors), list(parsed.file_errors), list(parsed.ignored_columns))
    skipped = await _insert(scope.connection, parsed.rows) if parsed.rows else []
    errors = parsed.errors + await _clashes(scope.connection, skipped)
    report = ImportReport(len(parsed.rows) - len(skipped), errors, [], list(parsed.ignored_columns))
    rejected = f"{report.rejected} row{'' if report.rejected == 1 else 's'} rejected"
    await scope.connection.execute(
        "INSERT INTO activity_log (actor, actor_user_id, action, object_type, summary, details, ip)"
        " VALUES ($1, $2, 'customer.imported', 'customer', $3, $4::jsonb, $5)",
        actor,
        actor_user_id,
        f"Imported {report.inserted} customer{'' if report.inserted == 1 else 's'}, {rejected}",
        json.dumps({"inserted": report.inserted, "rejected": report.rejected, "ignored": report.ignored_columns}),
        ip or None,
    )
    return report


async def _insert(
    connection: asyncpg.Connection, rows: list[tuple[int, CustomerDraft]]
) -> list[tuple[int, CustomerDraft]]:
    """Insert in file order in one statement; return the rows that were skipped as conflicts."""
    drafts = [draft for _, draft in rows]
    arrays = [[getattr(draft, column) for draft in drafts] for column in _COLUMNS]
    arrays[_COLUMNS.index("status")] = [draft.status.value for draft in drafts]
    unclaimed = {record["code"] for record in await connection.fetch(_INSERT, *arrays)}
    skipped: list[tuple[int, CustomerDraft]] = []
    for line, draft in rows:  # a code given twice went in from its first row (ORDER BY n); later ones are skipped
        if draft.code in unclaimed:
            unclaimed.discard(draft.code)
        else:
            skipped.append((line, draft))
    return skipped


async def _clashes(connection: asyncpg.Connection, skipped: list[tuple[int, CustomerDraft]]) -> list[RowError]:
    """Say which unique value each skipped row collided with (READ COMMITTED: concurrent winners are visible)."""
    if not skipped:
        return []
    stored = await connection.fetch(
        "SELECT code, pppoe_username FROM customer WHERE code = ANY($1::text[]) OR pppoe_username = ANY($2::text[])",
        [draft.code for _, draft in skipped],
        [draft.pppoe_username for _, draft in skipped if draft.pppoe_username],
    )
    taken = {("code", r["code"]) for r in stored} | {("pppoe_username", r["pppoe_username"]) for r in stored}
    errors: list[RowError] = []
    for line, draft in skipped:
        values = [("code", draft.code)] + ([("pppoe_username", draft.pppoe_username)] if draft.pppoe_username else [])
        clashes = [(field, value) for field, value in values if (field, value) in taken]
        errors += [RowError(line, f, f"{_LABELS[f]} {value} already exists.", value) for f, value in clashes]
        if not clashes:  # the clashing row is gone again (deleted meanwhile): never drop the row without a word
            retry = f"Customer id {draft.code} clashed with a change made at the same time; import this row again."
            errors.append(RowError(line, "code", retry, draft.code))
    return errors
