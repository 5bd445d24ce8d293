"""Validation of customer input, shared by the panel form, the JSON API and the CSV import.

One function decides what a valid customer is, so a row that the form would refuse is refused by the import
with the same message. Errors are per field and written for the operator who typed the value.

Also here: the connection fields of the form (router, static address, PPPoE password: service settings, which
the CSV import does not carry), the portal password, and the list page's filters.
"""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ispb_platform.web.forms import text_errors, whole_number
from ispb_platform.web.requests import INT4_MAX
from ispb_tenants.tables.tenant import CustomerStatus

MAX_NAME = 120
MAX_ADDRESS = 300
MAX_AREA = 80

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()-]{6,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")

FIELDS = ("code", "name", "phone", "email", "address", "area", "package", "status", "pppoe_username", "connection_date")


@dataclass(frozen=True)
class CustomerDraft:
    """A valid customer, ready to insert or update."""

    code: str
    name: str
    phone: str
    email: str | None
    address: str
    area: str
    package_id: int | None
    status: CustomerStatus
    pppoe_username: str | None
    connection_date: date | None


@dataclass(frozen=True)
class Validation:
    draft: CustomerDraft | None
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return self.draft is not None


def normalise_phone(raw: str) -> str | None:
    """``01711-000000``, ``+880 1711 000000`` and ``8801711000000`` all become ``+8801711000000``.

    So does ``1711000000``: spreadsheets store mobiles as numbers and drop the leading 0, and an import should
    not reject a whole column for it. Numbers that are not Bangladeshi mobiles are kept in international form
    when they start with ``+``.
    """
    if not _PHONE_CHARS.fullmatch(raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if re.fullmatch(r"1[3-9]\d{8}", digits) and not raw.strip().startswith("+"):
        digits = "0" + digits
    if re.fullmatch(r"01[3-9]\d{8}", digits):
        return "+88" + digits
    if re.fullmatch(r"8801[3-9]\d{8}", digits):
        return "+" + digits
    if raw.strip().startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    return None


def validate_customer(data: Mapping[str, str], packages: Mapping[str, int]) -> Validation:
    """Check submitted text fields. ``packages`` maps package names (and ids as text) to ids.

    >>> validate_customer({"code": "C1", "name": "Rahim", "phone": "01711000000"}, {}).draft.phone
    '+8801711000000'
    """
    value = {field: (data.get(field) or "").strip() for field in FIELDS}
    errors = text_errors(data, FIELDS)

    if not value["code"]:
        errors["code"] = "Enter the customer id."
    elif not _CODE.fullmatch(value["code"]):
        errors["code"] = "Use up to 32 letters, digits, - or _ (no spaces)."
    if not value["name"]:
        errors["name"] = "Enter the customer's name."
    elif len(value["name"]) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    phone = normalise_phone(value["phone"]) if value["phone"] else None
    if not value["phone"]:
        errors["phone"] = "Enter a mobile number."
    elif phone is None:
        errors["phone"] = "Enter a mobile number such as 01711-000000 or +8801711000000."
    if value["email"] and not _EMAIL.fullmatch(value["email"]):
        errors["email"] = "Enter an e-mail address such as name@example.com, or leave it empty."
    if len(value["address"]) > MAX_ADDRESS:
        errors["address"] = f"Keep the address under {MAX_ADDRESS} characters."
    if len(value["area"]) > MAX_AREA:
        errors["area"] = f"Keep the area under {MAX_AREA} characters."
    package_id = packages.get(value["package"]) if value["package"] else None
    if value["package"] and package_id is None:
        errors["package"] = f"No package named {value['package']!r}."
    status = _status(value["status"], errors)
    if value["pppoe_username"] and not _USERNAME.fullmatch(value["pppoe_username"]):
        errors["pppoe_username"] = "Use 2 to 64 letters, digits or . _ @ - (no spaces)."
    connection_date = _date(value["connection_date"], errors)

    if errors or phone is None or status is None:
        return Validation(None, errors)
    return Validation(
        CustomerDraft(
            code=value["code"],
            name=value["name"],
            phone=phone,
            email=value["email"].lower() or None,
            address=value["address"],
            area=value["area"],
            package_id=package_id,
            status=status,
            pppoe_username=value["pppoe_username"] or None,
            connection_date=connection_date,
        ),
        {},
    )


def _status(raw: str, errors: dict[str, str]) -> CustomerStatus | None:
    if not raw:
        return CustomerStatus.ACTIVE
    try:
        return CustomerStatus(raw.lower())
    except ValueError:
        errors["status"] = "Choose active, suspended or disabled."
        return None


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _date(raw: str, errors: dict[str, str]) -> date | None:
    """ISO ``2026-01-31``, or day-first ``31/01/2026`` (also ``-`` or ``.``): the way dates are written in
    Bangladesh and how its spreadsheets export them. Month-first dates are not guessed at."""
    if not raw:
        return None
    try:
        if found := _DAY_FIRST.fullmatch(raw):
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        errors["connection_date"] = "Enter the date as YYYY-MM-DD or DD/MM/YYYY, for example 2026-01-31."
        return None


@dataclass(frozen=True)
class ConnectionDraft:
    """A customer's connection: which router serves them, a static address, the PPPoE password."""

    router_id: int | None
    ip_address: str | None
    pppoe_password: str  # empty: keep the stored one


def validate_connection(
    data: Mapping[str, str], routers: list[tuple[str, str]]
) -> tuple[ConnectionDraft | None, dict[str, str]]:
    """Check the connection fields; ``routers`` are the operator's (id as text, name) choices."""
    errors = text_errors(data, ("ip_address", "pppoe_password"))  # the PPPoE password reaches RADIUS rows as text
    router = data.get("router", "").strip()
    if router and router not in {value for value, _ in routers}:
        errors["router"] = "Choose one of the operator's routers."
    address = data.get("ip_address", "").strip() or None
    if address is not None:
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            errors["ip_address"] = "Enter an IP address such as 10.20.0.15, or leave it empty."
    password = data.get("pppoe_password", "")
    if password and not 4 <= len(password) <= 64:
        errors["pppoe_password"] = "Use 4 to 64 characters, or leave it empty."  # noqa: S105 (a message)
    if errors:
        return None, errors
    return ConnectionDraft(int(router) if router else None, address, password), {}


MIN_PORTAL_PASSWORD = 8


def check_portal_password(password: str) -> str | None:
    """The error for a new portal password, or None. Empty means "leave it as it is"."""
    if password and len(password) < MIN_PORTAL_PASSWORD:
        return f"Use at least {MIN_PORTAL_PASSWORD} characters, or leave it empty."
    return None


STATUSES = tuple(status.value for status in CustomerStatus)


@dataclass(frozen=True)
class CustomerFilters:
    """The customer list's search box, filters and page, as the query string gives them."""

    q: str = ""
    status: str = ""
    package_id: int | None = None
    area: str = ""
    page: int = 1


def parse_filters(q: str, status: str, package: str, area: str, page: int) -> CustomerFilters:
    """Keep what makes sense and drop the rest: an unknown status or package means "any", never an error."""
    return CustomerFilters(
        q=q[:100],
        status=status if status in STATUSES else "",
        package_id=whole_number(package, 1, INT4_MAX),
        area=area[:80],
        page=page,
    )
