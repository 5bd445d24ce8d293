"""The admin console's forms: an operator (slug, name, zone, currency), its invoice contact details and logo."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ispb_platform.web.forms import text_errors, whole_number
from ispb_tenants import InvalidSlug, validate_slug

MAX_LOGO_BYTES = 256 * 1024
CONTACT_FIELDS = ("address", "phone", "email", "payment_instructions")
NEW_OPERATOR = {"timezone": "Asia/Dhaka", "currency": "BDT"}


@dataclass(frozen=True)
class OperatorDraft:
    slug: str
    name: str
    timezone: str
    currency: str


def validate_operator(data: dict[str, str], *, new: bool) -> tuple[OperatorDraft | None, dict[str, str]]:
    errors = text_errors(data, ("slug", "name", "timezone", "currency"))
    slug = data.get("slug", "").strip()
    if new:
        try:
            validate_slug(slug)
        except InvalidSlug as error:
            errors["slug"] = error.reason[0].upper() + error.reason[1:] + "."
    name = data.get("name", "").strip()
    if not name or len(name) > 120:
        errors["name"] = "Enter the operator's name (up to 120 characters)."
    timezone = data.get("timezone", "").strip() or "Asia/Dhaka"
    try:
        if len(timezone) > 64:  # the longest IANA name has 32 characters; ZoneInfo would look for such a file
            raise ValueError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors["timezone"] = "Enter a time zone such as Asia/Dhaka."
    currency = data.get("currency", "").strip().upper() or "BDT"
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = "Enter a 3-letter currency code such as BDT."
    if errors:
        return None, errors
    return OperatorDraft(slug, name, timezone, currency), {}


def validate_contact(data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Address, phone and e-mail printed on the operator's invoices: (clean values, errors)."""
    values = {key: data.get(key, "").strip() for key in CONTACT_FIELDS}
    errors = text_errors(data, CONTACT_FIELDS)
    if len(values["address"]) > 300:
        errors["address"] = "Keep the address under 300 characters."
    if len(values["payment_instructions"]) > 1000:
        errors["payment_instructions"] = "Keep the payment instructions under 1,000 characters."
    if len(values["phone"]) > 40:
        errors["phone"] = "Keep the phone number under 40 characters."
    if values["email"] and ("@" not in values["email"] or " " in values["email"] or len(values["email"]) > 200):
        errors["email"] = "Enter an e-mail address such as billing@example.com, or leave it empty."
    return values, errors


RETENTION_FIELDS = {
    "accounting_retention_months": (1, 120, "Keep accounting for 1 to 120 months."),
    "netflow_retention_days": (1, 3650, "Keep NetFlow records for 1 to 3,650 days."),
}


def validate_retention(data: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """How long the operator's RADIUS accounting (months) and NetFlow records (days) are kept: (values, errors).
    The database checks the same bounds (platform migrations 0008 and 0009)."""
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, (low, high, message) in RETENTION_FIELDS.items():
        number = whole_number(data.get(name, "").strip(), low, high)
        if number is None:
            errors[name] = message
        else:
            values[name] = number
    return values, errors


def logo_type(content: bytes) -> str | None:
    """The mime type of a PNG, JPEG or SVG logo, judged by its bytes (never by the file name); else None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = content[:1024].lstrip().lower()
    if (head.startswith(b"<svg") or head.startswith(b"<?xml")) and b"<svg" in head:
        return "image/svg+xml"
    return None


def validate_logo(content: bytes, errors: dict[str, str]) -> tuple[bytes, str] | None:
    """An uploaded logo as (bytes, mime type), or None with the reason in ``errors["logo"]``."""
    kind = logo_type(content)
    if len(content) > MAX_LOGO_BYTES:
        errors["logo"] = "The logo must be at most 256 KB."
    elif kind is None:
        errors["logo"] = "Upload the logo as a PNG, JPEG or SVG file."
    else:
        return content, kind
    return None
