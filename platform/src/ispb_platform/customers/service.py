"""Customer queries and changes inside an operator's scope. Controllers call these; SQL stays here."""

import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from ispb_platform.auth.passwords import hash_password_async
from ispb_platform.customers.forms import CustomerDraft
from ispb_tenants import TenantScope

PAGE_SIZE = 50
_DIGITS_ONLY = re.compile(r"^[\d\s()+-]+$")


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    status: str = ""
    package_id: int | None = None
    area: str = ""
    page: int = 1


@dataclass(frozen=True)
class CustomerPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


class DuplicateCustomer(ValueError):
    """Another customer already has this customer id or PPPoE username."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def search_query(text: str) -> str | None:
    """Turn what an operator types into a prefix ``tsquery``: every word must start some field.

    Phone-like input (digits, spaces, dashes) is one term, so ``01711-000`` finds ``01711000123``.

    >>> search_query("rahim udd")
    'rahim:* & udd:*'
    >>> search_query("01711-000")
    '01711000:*'
    """
    text = text.strip().lower()
    if not text:
        return None
    if _DIGITS_ONLY.match(text):
        digits = re.sub(r"\D", "", text)
        return f"{digits}:*" if digits else None
    terms = re.findall(r"\w+", text)
    return " & ".join(f"{term}:*" for term in terms[:8]) or None


def _where(filters: CustomerFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if (query := search_query(filters.q)) is not None:
        args.append(query)
        clauses.append(f"c.search @@ to_tsquery('simple', ${len(args)})")
    if filters.status:
        args.append(filters.status)
        clauses.append(f"c.status = ${len(args)}")
    if filters.package_id is not None:
        args.append(filters.package_id)
        clauses.append(f"c.package_id = ${len(args)}")
    if filters.area:
        args.append(filters.area)
        clauses.append(f"c.area = ${len(args)}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


async def find_customers(scope: TenantScope, filters: CustomerFilters) -> CustomerPage:
    """One page of customers, newest first, with the total for the pager."""
    where, args = _where(filters)
    total = int(await scope.connection.fetchval(f"SELECT count(*) FROM customer c{where}", *args))  # noqa: S608
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    # the WHERE clauses are fixed strings chosen above; every value travels as a $n parameter
    sql = (
        "SELECT c.id, c.code, c.name, c.phone, c.area, c.status, p.name AS package FROM customer c"  # noqa: S608
        f" LEFT JOIN package p ON p.id = c.package_id{where}"
        f" ORDER BY c.id DESC LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}"
    )
    rows = await scope.connection.fetch(sql, *args)
    return CustomerPage([dict(r) for r in rows], total, page, pages)


async def filter_choices(scope: TenantScope) -> dict[str, Any]:
    packages = await scope.connection.fetch("SELECT id, name FROM package ORDER BY price_minor, name")
    # a loose index scan over customer_area_idx: one index probe per distinct area, not a pass over every row
    areas = await scope.connection.fetch(
        """
        WITH RECURSIVE areas AS (
            (SELECT area FROM customer WHERE area > '' ORDER BY area LIMIT 1)
            UNION ALL
            SELECT (SELECT c.area FROM customer c WHERE c.area > a.area ORDER BY c.area LIMIT 1) FROM areas a
            WHERE a.area IS NOT NULL
        )
        SELECT area FROM areas WHERE area IS NOT NULL
        """
    )
    return {
        "packages": [dict(p) for p in packages],
        "package_options": [(str(p["id"]), p["name"]) for p in packages],
        "areas": [a["area"] for a in areas],
    }


async def package_lookup(scope: TenantScope) -> dict[str, int]:
    """Package names and ids (as text) to ids: what forms and imports accept."""
    rows = await scope.connection.fetch("SELECT id, name FROM package")
    lookup = {row["name"]: row["id"] for row in rows}
    lookup.update({str(row["id"]): row["id"] for row in rows})
    return lookup


async def get_customer(scope: TenantScope, customer_id: int) -> dict[str, Any] | None:
    row = await scope.connection.fetchrow(
        "SELECT c.*, p.name AS package_name, coalesce(a.balance_minor, 0) AS balance_minor FROM customer c"
        " LEFT JOIN package p ON p.id = c.package_id LEFT JOIN customer_account a ON a.customer_id = c.id"
        " WHERE c.id = $1",
        customer_id,
    )
    if row is None:
        return None
    customer = dict(row)
    customer.pop("search", None)
    customer.pop("password_hash", None)
    return customer


_COLUMNS = (
    "code",
    "name",
    "phone",
    "email",
    "address",
    "area",
    "package_id",
    "status",
    "pppoe_username",
    "connection_date",
)


def _values(draft: CustomerDraft) -> list[Any]:
    values = [getattr(draft, column) for column in _COLUMNS]
    values[_COLUMNS.index("status")] = draft.status.value
    return values


async def create_customer(scope: TenantScope, draft: CustomerDraft) -> int:
    try:
        async with scope.connection.transaction():  # a savepoint: a duplicate leaves the request usable
            customer_id = await scope.connection.fetchval(
                "INSERT INTO customer (code, name, phone, email, address, area, package_id, status, pppoe_username,"
                " connection_date, billing_profile_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                " coalesce($10, current_date), (SELECT id FROM billing_profile WHERE is_default)) RETURNING id",
                *_values(draft),
            )
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error, draft) from None
    return int(customer_id)


async def update_customer(scope: TenantScope, customer_id: int, draft: CustomerDraft) -> bool:
    # every column but connection_date ($11), which keeps its value when the form leaves it empty
    assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(_COLUMNS[:-1], start=2))
    try:
        async with scope.connection.transaction():  # a savepoint, as in create_customer
            status = await scope.connection.execute(
                f"UPDATE customer SET {assignments}, connection_date = coalesce($11, connection_date),"  # noqa: S608
                " updated_at = now() WHERE id = $1",
                customer_id,
                *_values(draft),
            )
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error, draft) from None
    return status.endswith(" 1")


MIN_PORTAL_PASSWORD = 8


def check_portal_password(password: str) -> str | None:
    """The error for a new portal password, or None. Empty means "leave it as it is"."""
    if password and len(password) < MIN_PORTAL_PASSWORD:
        return f"Use at least {MIN_PORTAL_PASSWORD} characters, or leave it empty."
    return None


async def set_portal_password(scope: TenantScope, customer_id: int, password: str) -> None:
    password_hash = await hash_password_async(password)
    await scope.connection.execute("UPDATE customer SET password_hash = $2 WHERE id = $1", customer_id, password_hash)


async def set_status(scope: TenantScope, customer_id: int, status: str) -> bool:
    result = await scope.connection.execute(
        "UPDATE customer SET status = $2, updated_at = now() WHERE id = $1 AND status <> $2", customer_id, status
    )
    return result.endswith(" 1")


def _duplicate(error: asyncpg.UniqueViolationError, draft: CustomerDraft) -> DuplicateCustomer:
    if "pppoe_username" in (error.constraint_name or ""):
        return DuplicateCustomer("pppoe_username", f"Another customer already uses {draft.pppoe_username}.")
    return DuplicateCustomer("code", f"Customer id {draft.code} is already taken.")
