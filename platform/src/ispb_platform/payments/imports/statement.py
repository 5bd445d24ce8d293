"""Reading a bank or mobile-money statement (CSV) into checked lines, without touching the database.

Statements come from bank portals, bKash/Nagad merchant panels and spreadsheets, so the reader forgives what
those exports vary: a BOM, ``;`` or ``,`` or tab between cells, CRLF, header names in any case and spelling
("TrxID", "Transaction ID", "Amount (BDT)"), a few lines of account details above the header, amounts written
"1,200.50", "1,00,000" or "৳ 500", dates "2026-12-01 10:15", "01/12/2026" or "1-Dec-2026" (day first, as in
Bangladesh). It never guesses money: an amount that could be read two ways ("12,5", "1.200,50") is refused with
its line and the reason, as is a line without a transaction reference (the reference is what stops a payment
from being recorded twice).

What the database knows (which customer has that id or phone, which references are recorded, which repeat in
the file) is judged by ``queries.store_lines`` after the lines are loaded, in SQL, with the same normalisation
the unique index uses.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ispb_billing import Money
from ispb_platform.customers.forms import normalise_phone
from ispb_platform.payments.forms import MAX_AMOUNT_MINOR, MAX_BACKDATE_DAYS
from ispb_platform.payments.queries import PaymentMethod
from ispb_platform.web.csv_files import csv_records, decode_csv, header_key

MAX_BYTES = 20 * 1024 * 1024
MAX_LINES = 200_000
HEADER_SEARCH = 20
"""Lines searched for the header row: bank exports put the account's name, number and period above it."""
MAX_REFERENCE = 100
_SAVE_AS = "Export the statement as CSV (in Excel: Save As → “CSV UTF-8”) and upload that file."

# Header names people's exports use, after `header_key` (lower case, punctuation as single spaces).
ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ("customer", "customer id", "customer code", "customer no", "client", "client id", "code", "subscriber id"),
        "customer",
    ),
    **dict.fromkeys(
        (
            "phone",
            "mobile",
            "mobile no",
            "mobile number",
            "phone no",
            "phone number",
            "msisdn",
            "sender",
            "sender no",
            "sender number",
            "sender receiver",
            "from",
            "from account",
            "wallet",
            "wallet no",
            "customer phone",
            "customer mobile",
        ),
        "phone",
    ),
    **dict.fromkeys(
        (
            "amount",
            "amount bdt",
            "amount tk",
            "amount taka",
            "paid",
            "paid amount",
            "credit",
            "credit amount",
            "deposit",
            "received amount",
            "cr",
        ),
        "amount",
    ),
    **dict.fromkeys(
        (
            "trxid",
            "trx id",
            "trx no",
            "txn id",
            "txnid",
            "transaction id",
            "transaction no",
            "transaction number",
            "tran id",
            "utr",
        ),
        "transaction",
    ),
    **dict.fromkeys(("reference", "ref", "reference no", "ref no", "reference id", "payment reference"), "reference"),
    **dict.fromkeys(
        ("date", "transaction date", "payment date", "received on", "value date", "date time", "txn date", "trx date"),
        "date",
    ),
    **dict.fromkeys(("method", "payment method", "channel", "mode", "payment mode"), "method"),
}

METHODS: dict[str, PaymentMethod] = {
    **dict.fromkeys(("cash", "hand cash", "counter"), PaymentMethod.CASH),
    **dict.fromkeys(
        ("bank", "bank transfer", "transfer", "beftn", "npsb", "rtgs", "cheque", "check", "deposit"), PaymentMethod.BANK
    ),
    **dict.fromkeys(
        ("mobile money", "mobile_money", "mfs", "bkash", "nagad", "rocket", "upay", "tap", "mobile"),
        PaymentMethod.MOBILE_MONEY,
    ),
}

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%b-%y",
    "%d %B %Y",
    "%b %d, %Y",
    "%d/%m/%y",
)
_TIME = re.compile(r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$")
_CURRENCY_MARKS = re.compile(r"^(?:৳|tk\.?|bdt|taka)\s*|\s*(?:৳|tk\.?|bdt|taka)$", re.IGNORECASE)


class StatementRejected(Exception):
    """The file as a whole cannot be read; ``args`` are the messages for the operator."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One data line as read. ``problem`` is empty when the line itself is fine (the database judges the rest)."""

    line: int
    original: str
    customer_code: str
    customer_phone: str
    amount_minor: int | None
    reference: str
    received_on: date | None
    method: PaymentMethod | None
    problem: str


@dataclass(frozen=True)
class Statement:
    """The header's columns (field → index), the header as CSV text, the names not used, and the lines (an
    iterator: read once)."""

    columns: dict[str, int]
    header: str
    ignored_columns: list[str]
    lines: Iterator[StatementLine]


@dataclass(frozen=True)
class Defaults:
    """What a line without its own method or date gets, and the limits a date is checked against."""

    method: PaymentMethod
    received_on: date
    today: date
    currency: str


def read_statement(content: bytes, defaults: Defaults) -> Statement:
    """The statement's columns and its lines, checked one by one as they are read.

    Raises ``StatementRejected`` for what makes the whole file unusable (not text, no header with an amount and
    a reference column). A line's own problems are not raised: they are the line's ``problem``.

    >>> d = Defaults(PaymentMethod.MOBILE_MONEY, date(2026, 12, 2), date(2026, 12, 2), "BDT")
    >>> s = read_statement(b"TrxID;Sender;Amount\\r\\n8N7A6B;01711-000001;\\"1,200.50\\"\\r\\n", d)
    >>> [(x.line, x.reference, x.customer_phone, x.amount_minor, x.problem) for x in s.lines]
    [(2, '8N7A6B', '+8801711000001', 120050, '')]
    """
    text = decode_csv(content, max_bytes=MAX_BYTES, save_as=_SAVE_AS, rejected=StatementRejected)
    records = csv_records(text, rejected=StatementRejected)
    header_line, header = _find_header(records)
    columns, ignored = _columns(header)
    return Statement(columns, _raw(header), ignored, _lines(records, columns, defaults, header_line))


def _find_header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The first line naming an amount and a reference (or transaction id) column, within the first lines."""
    for line, record in records:
        fields = {ALIASES.get(header_key(cell)) for cell in record}
        if "amount" in fields and fields & {"transaction", "reference"}:
            return line, record
        if line >= HEADER_SEARCH:
            break
    raise StatementRejected(
        "No header row found: the first lines should name the columns, at least the amount (“Amount”), the"
        " transaction id (“TrxID”, “Transaction ID” or “Reference”) and the customer (“Customer id” or “Phone”)."
    )


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Field → column index. A transaction id column is the reference; a "Reference" column beside it is what
    the payer typed, in bKash exports usually their customer id, so it serves as the customer column when the
    file has none."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        field = ALIASES.get(header_key(name))
        if field is None or field in columns:
            if name.strip():
                ignored.append(name.strip())
        else:
            columns[field] = index
    if "transaction" in columns:
        payer_reference = columns.pop("reference", None)
        columns["reference"] = columns.pop("transaction")
        if payer_reference is not None and "customer" not in columns:
            columns["customer"] = payer_reference
        elif payer_reference is not None:
            ignored.append(header[payer_reference].strip())
    if "customer" not in columns and "phone" not in columns:
        raise StatementRejected(
            "The header row has no customer column: add “Customer id” (the customer's id in ISPB) or “Phone”."
        )
    return columns, ignored


def _lines(
    records: Iterator[tuple[int, list[str]]], columns: dict[str, int], defaults: Defaults, header_line: int
) -> Iterator[StatementLine]:
    dates: dict[str, tuple[date | None, str]] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="")
    count = 0
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        count += 1
        if count > MAX_LINES:
            raise StatementRejected(f"The file has more than {MAX_LINES:,} lines; split it into smaller files.")
        out.seek(0)
        out.truncate()
        writer.writerow(record)
        yield _line(line, out.getvalue(), record, columns, defaults, dates)


def _cell(record: list[str], columns: dict[str, int], field: str) -> str:
    index = columns.get(field)
    return record[index].strip() if index is not None and index < len(record) else ""


def _line(
    line: int,
    original: str,
    record: list[str],
    columns: dict[str, int],
    defaults: Defaults,
    dates: dict[str, tuple[date | None, str]],
) -> StatementLine:
    problems: list[str] = []
    code = _cell(record, columns, "customer")
    phone_cell = _cell(record, columns, "phone") or code
    phone = normalise_phone(phone_cell) if phone_cell else None
    if not code and not phone:
        problems.append("No customer id or phone." if not phone_cell else f"“{phone_cell}” is not a phone number.")
    amount, amount_problem = parse_amount(_cell(record, columns, "amount"), defaults.currency)
    reference = _cell(record, columns, "reference")
    raw_date = _cell(record, columns, "date")
    if raw_date not in dates:
        dates[raw_date] = _received_on(raw_date, defaults)
    received_on, date_problem = dates[raw_date]
    method, method_problem = _method(_cell(record, columns, "method"), defaults.method)
    problems += [p for p in (amount_problem, _reference_problem(reference), date_problem, method_problem) if p]
    return StatementLine(
        line=line,
        original=original,
        customer_code=code,
        customer_phone=phone or "",
        amount_minor=amount,
        reference=reference,
        received_on=received_on,
        method=method,
        problem=" ".join(problems),
    )


def parse_amount(raw: str, currency: str) -> tuple[int | None, str]:
    """Minor units, or the reason the cell is not a payment amount. Never a float, never a guess.

    >>> parse_amount("৳ 1,00,000.50", "BDT"), parse_amount("12,5", "BDT")[1]
    ((10000050, ''), 'Amount “12,5” is unclear: write it like 1200.50 or 1,200.50.')
    """
    if not raw:
        return None, "No amount."
    text = _CURRENCY_MARKS.sub("", raw).strip().replace(" ", "")
    try:
        amount = Money.of(text, currency)
    except (ValueError, TypeError) as problem:
        if "decimals" in str(problem):
            return None, f"Amount “{raw}” has more decimals than {currency} has; check the number."
        return None, f"Amount “{raw}” is unclear: write it like 1200.50 or 1,200.50."
    if amount.minor < 0:
        return None, f"Amount “{raw}” is money going out, not a payment received."
    if amount.minor == 0:
        return None, "The amount is zero."
    if amount.minor > MAX_AMOUNT_MINOR:
        return None, f"Amount “{raw}” is too large; check the number."
    return amount.minor, ""


def _reference_problem(reference: str) -> str:
    if not reference:
        return "No transaction id or reference: it is what stops a payment from being recorded twice."
    if len(reference) > MAX_REFERENCE:
        return f"The reference is longer than {MAX_REFERENCE} characters."
    return ""


def _received_on(raw: str, defaults: Defaults) -> tuple[date | None, str]:
    if not raw:
        return defaults.received_on, ""
    text = _TIME.sub("", raw.strip()).strip()
    for pattern in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if day > defaults.today:
            return None, f"Date {raw} is in the future."
        if day < defaults.today - timedelta(days=MAX_BACKDATE_DAYS):
            return None, f"Date {raw} is more than a year ago; check it."
        return day, ""
    return None, f"Date “{raw}” is not a date such as 2026-12-01 or 01/12/2026 (day first)."


def _method(raw: str, default: PaymentMethod) -> tuple[PaymentMethod | None, str]:
    if not raw:
        return default, ""
    method = METHODS.get(header_key(raw)) or METHODS.get(raw.strip().lower())
    if method is None:
        return None, f"Method “{raw}” is not cash, bank or mobile money (bKash, Nagad, Rocket)."
    return method, ""


def _raw(record: list[str]) -> str:
    """The line as the file had it (re-quoted as CSV), to show beside its verdict and to download again."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(record)
    return out.getvalue()
