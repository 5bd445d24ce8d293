"""Reads and writes of customers in the open tenant scope: Piccolo for the panel's CRUD, filters and pages.

SQL stays where it earns its place, each with its reason beside it: the loose index scan for the area choices,
the CSV import's one-statement insert, and the domain event (its Piccolo class cannot insert yet).
Unique clashes (customer id, PPPoE username) surface as `DuplicateCustomer`, raised from a savepoint so the
request's transaction stays usable for the form shown again.
"""

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict, cast

import asyncpg
from piccolo.columns.combination import Or, Where, WhereRaw
from piccolo.querystring import QueryString

from ispb_platform.customers.forms import CustomerDraft, CustomerFilters
from ispb_tenants import Connection, TenantScope
from ispb_tenants.tables import BillingProfile, Customer, CustomerAccount, CustomerDiscount, Outbox, Package, Router

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
# (lower case: linters take an upper-case name for a constant and would turn ``pk == value`` around)
_customer_pk = Customer._meta.primary_key
_package_pk = Package._meta.primary_key
_router_pk = Router._meta.primary_key
_billing_profile_pk = BillingProfile._meta.primary_key
_customer_discount_pk = CustomerDiscount._meta.primary_key
_outbox_pk = Outbox._meta.primary_key

PAGE_SIZE = 50
_DIGITS_ONLY = re.compile(r"^[\d\s()+-]+$")


class CustomerListRow(TypedDict):
    id: int
    code: str
    name: str
    phone: str
    area: str
    status: str
    package: str | None
    """The package's name."""


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerListRow]
    total: int
    page: int
    pages: int


class CustomerRecord(TypedDict):
    """One customer as the customer page and the edit form show it (never the portal password's hash)."""

    id: int
    code: str
    name: str
    phone: str
    email: str | None
    address: str
    area: str
    package_id: int | None
    status: str
    pppoe_username: str | None
    connection_date: date
    created_at: datetime
    updated_at: datetime
    billing_profile_id: int | None
    router_id: int | None
    ip_address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    pppoe_password_sealed: str | None
    last_address: str | None
    package_name: str | None
    balance_minor: int


class ServiceSettings(TypedDict):
    """What the router must know about a customer: changing any of it queues an ``apply_package`` command."""

    router_id: int | None
    ip_address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    package_id: int | None
    pppoe_username: str | None
    status: str


class DuplicateCustomer(ValueError):
    """Another customer already has this customer id or PPPoE username."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- the list and its search --------------------------------------------------------------------------------


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
    if _DIGITS_ONLY.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        return f"{digits}:*" if digits else None
    terms = re.findall(r"\w+", text)
    return " & ".join(f"{term}:*" for term in terms[:8]) or None


def _matching(query: Any, filters: CustomerFilters) -> Any:
    """``query`` narrowed by each filter that is set (Piccolo ANDs successive ``where`` calls)."""
    if (terms := search_query(filters.q)) is not None:
        # ``search`` is the generated tsvector (GIN index); the Piccolo class leaves it out, as it cannot write it
        query = query.where(WhereRaw("customer.search @@ to_tsquery('simple', {})", terms))
    if filters.status:
        query = query.where(Customer.status == filters.status)
    if filters.package_id is not None:
        query = query.where(Customer.package == filters.package_id)
    if filters.area:
        query = query.where(Customer.area == filters.area)
    return query


SORT_MATCHES_UP_TO = 3_000
"""Up to this many matches, a page is sorted from the matches themselves; above it, it is read newest first along
the primary key. PostgreSQL guesses 2% of the table for any prefix search and reads the primary key backwards
past every customer who does not match: 250 ms at 100k customers for a customer id with one match. The count
(taken first anyway, for the pager) knows better: sorting 3,000 matches takes ~5 ms, and with more matches than
that the walk along the key meets a page of them within a few thousand rows (``tests/bench/customer_search.py``)."""

_NEWEST_FROM_MATCHES = QueryString("customer.id + 0")
"""The newest-first order as an expression no index serves: the planner has to take the matches (GIN index) and
sort them."""


async def find_customers(filters: CustomerFilters) -> CustomerPage:
    """One page of customers, newest first, with the total for the pager (a page past the end shows the last).

    Two statements through Piccolo: the count, then the page. The page's ids are chosen by a sub-select that
    reads only the index and the filtered columns (a deep page skips its offset in the index, not by fetching
    every skipped customer with their package: 91 -> 17 ms for page 1,000 of 100k), then only those rows are
    read whole.
    """
    total = int(await _matching(Customer.count(), filters))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    order = _NEWEST_FROM_MATCHES if filters.q and total <= SORT_MATCHES_UP_TO else _customer_pk
    page_ids = (
        _matching(Customer.select(_customer_pk), filters)
        .order_by(order, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    found = await (
        Customer.select(
            _customer_pk,
            Customer.code,
            Customer.name,
            Customer.phone,
            Customer.area,
            Customer.status,
            Customer.package.name.as_alias("package"),
        )
        .where(_customer_pk.is_in(page_ids))
        .order_by(_customer_pk, ascending=False)
    )
    return CustomerPage(cast(list[CustomerListRow], found), total, page, pages)


async def package_choices() -> list[tuple[str, str]]:
    """(id as text, name) of every package, cheapest first: the filter's and the form's choices."""
    rows = await Package.select(_package_pk, Package.name).order_by(Package.price_minor, Package.name)
    return [(str(row["id"]), row["name"]) for row in rows]


async def areas(connection: Connection) -> list[str]:
    """Every area in use, in order. SQL: a loose index scan over ``customer_area_status_idx`` (area first), one
    index probe per distinct area instead of a pass over every customer (Piccolo cannot express the recursive
    CTE)."""
    rows = await connection.fetch(
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
    return [row["area"] for row in rows]


async def package_lookup() -> dict[str, int]:
    """Package names and ids (as text) to ids: what forms and imports accept."""
    rows = await Package.select(_package_pk, Package.name)
    lookup = {row["name"]: row["id"] for row in rows}
    lookup.update({str(row["id"]): row["id"] for row in rows})
    return lookup


@dataclass(frozen=True)
class ProfileChoice:
    """A billing profile as the customer form offers it: its cycle decides which packages it can bill."""

    id: int
    name: str
    cycle: str
    is_default: bool


async def profile_choices() -> list[ProfileChoice]:
    """Every billing profile, the default first, then by name."""
    rows = (
        await BillingProfile.select(
            _billing_profile_pk, BillingProfile.name, BillingProfile.cycle, BillingProfile.is_default
        )
        .order_by(BillingProfile.is_default, ascending=False)
        .order_by(BillingProfile.name)
    )
    return [ProfileChoice(**row) for row in rows]


async def package_validity(package_id: int) -> tuple[str, int] | None:
    """A package's name and validity in days."""
    row = await Package.select(Package.name, Package.validity_days).where(_package_pk == package_id).first()
    return None if row is None else (row["name"], row["validity_days"])


async def router_choices() -> list[tuple[str, str]]:
    """(id as text, name) of the operator's routers, by name."""
    rows = await Router.select(_router_pk, Router.name).order_by(Router.name)
    return [(str(row["id"]), row["name"]) for row in rows]


# --- one customer -------------------------------------------------------------------------------------------


async def get_customer(customer_id: int) -> CustomerRecord | None:
    row = (
        await Customer.select(
            *Customer.all_columns(exclude=[Customer.password_hash]), Customer.package.name.as_alias("package_name")
        )
        .where(_customer_pk == customer_id)
        .first()
    )
    if row is None:
        return None
    account = (
        await CustomerAccount.select(CustomerAccount.balance_minor)
        .where(CustomerAccount.customer == customer_id)
        .first()
    )
    return cast(CustomerRecord, {**row, "balance_minor": account["balance_minor"] if account else 0})


def _columns(draft: CustomerDraft) -> dict[str, Any]:
    """The draft as Piccolo column values (``package`` is the ``package_id`` column)."""
    return {
        "code": draft.code,
        "name": draft.name,
        "phone": draft.phone,
        "email": draft.email,
        "address": draft.address,
        "area": draft.area,
        "package": draft.package_id,
        "status": draft.status.value,
        "pppoe_username": draft.pppoe_username,
    }


async def insert_customer(db: TenantScope, draft: CustomerDraft, billing_profile_id: int | None = None) -> int:
    """A new customer on ``billing_profile_id`` (None: the default billing profile); connected today unless the
    draft says when."""
    if billing_profile_id is None:
        default = await BillingProfile.select(_billing_profile_pk).where(BillingProfile.is_default.eq(True)).first()
        billing_profile_id = default["id"] if default else None
    values = _columns(draft) | {"billing_profile": billing_profile_id}
    if draft.connection_date is not None:  # otherwise the column's default: today
        values["connection_date"] = draft.connection_date
    try:
        async with db.connection.transaction():  # a savepoint: a duplicate leaves the request usable
            rows = await Customer.insert(Customer(**values)).returning(_customer_pk)
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error, draft) from None
    return int(rows[0]["id"])


async def update_customer(
    db: TenantScope, customer_id: int, draft: CustomerDraft, billing_profile_id: int | None = None
) -> bool:
    """Store the draft and the billing profile (None: follow the default); an empty connection date keeps the
    stored one. False when there is no such customer."""
    values = _columns(draft) | {"updated_at": datetime.now(UTC), "billing_profile": billing_profile_id}
    if draft.connection_date is not None:
        values["connection_date"] = draft.connection_date
    try:
        async with db.connection.transaction():  # a savepoint, as in insert_customer
            rows = await Customer.update(**values).where(_customer_pk == customer_id).returning(_customer_pk)
    except asyncpg.UniqueViolationError as error:
        raise _duplicate(error, draft) from None
    return bool(rows)


async def clashes(code: str, pppoe_username: str | None, except_id: int | None) -> dict[str, str]:
    """The unique fields another customer (not ``except_id``) already holds, with their messages. Checked with
    the other fields so a form answers everything at once; the unique indexes still catch a concurrent clash."""
    other: Where | Or = Customer.code == code
    if pppoe_username:
        other = other | (Customer.pppoe_username == pppoe_username)
    query = Customer.select(Customer.code, Customer.pppoe_username).where(other)
    if except_id is not None:
        query = query.where(_customer_pk != except_id)
    errors: dict[str, str] = {}
    for row in await query:
        if row["code"] == code:
            errors["code"] = f"Customer id {code} is already taken."
        if pppoe_username and row["pppoe_username"] == pppoe_username:
            errors["pppoe_username"] = f"Another customer already uses {pppoe_username}."
    return errors


def _duplicate(error: asyncpg.UniqueViolationError, draft: CustomerDraft) -> DuplicateCustomer:
    if "pppoe_username" in (error.constraint_name or ""):
        return DuplicateCustomer("pppoe_username", f"Another customer already uses {draft.pppoe_username}.")
    return DuplicateCustomer("code", f"Customer id {draft.code} is already taken.")


async def set_password_hash(customer_id: int, password_hash: str) -> None:
    await Customer.update({Customer.password_hash: password_hash}).where(_customer_pk == customer_id)


async def set_status(customer_id: int, status: str) -> bool:
    """Change the status; False when the customer already had it (or is not there)."""
    rows = (
        await Customer.update({Customer.status: status, Customer.updated_at: datetime.now(UTC)})
        .where((_customer_pk == customer_id) & (Customer.status != status))
        .returning(_customer_pk)
    )
    return bool(rows)


async def set_connection(
    customer_id: int, *, router_id: int | None, ip_address: str | None, sealed_password: str | None
) -> None:
    """Store the router and static address; the sealed PPPoE password only when a new one was typed."""
    values: dict[str, Any] = {"router_id": router_id, "ip_address": ip_address}
    if sealed_password is not None:
        values["pppoe_password_sealed"] = sealed_password
    await Customer.update(**values).where(_customer_pk == customer_id)


async def service_settings(customer_id: int) -> ServiceSettings | None:
    row = (
        await Customer.select(
            Customer.router_id, Customer.ip_address, Customer.package, Customer.pppoe_username, Customer.status
        )
        .where(_customer_pk == customer_id)
        .first()
    )
    return cast(ServiceSettings | None, row)


async def record_event(connection: Connection, name: str, customer_id: int, payload: dict[str, Any]) -> None:
    """A domain event for the outbox (``customer.created`` sends the welcome message, when turned on).

    SQL: the Piccolo ``DomainEvent`` class declares ``id`` as a plain ``BigInt`` primary key, so its inserts
    send ``id = 0`` instead of letting the sequence number the row.
    """
    await connection.execute(
        "INSERT INTO domain_event (name, customer_id, payload) VALUES ($1, $2, $3::jsonb)",
        name,
        customer_id,
        json.dumps(payload),
    )


# --- what the customer page shows from other domains --------------------------------------------------------


async def discounts_of(customer_id: int) -> list[dict[str, Any]]:
    query = CustomerDiscount.select().where(CustomerDiscount.customer == customer_id)
    return await query.order_by(_customer_discount_pk)


async def messages_to(customer_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest SMS and WhatsApp messages to the customer, with their delivery state."""
    query = (
        Outbox.select(
            Outbox.created_at,
            Outbox.channel,
            Outbox.cause,
            Outbox.body,
            Outbox.status,
            Outbox.attempts,
            Outbox.last_error,
            Outbox.provider_message_id,
        )
        .where(Outbox.customer == customer_id)
        .order_by(_outbox_pk, ascending=False)
        .limit(limit)
    )
    return await query


async def router_name_of(router_id: int | None) -> str | None:
    if router_id is None:
        return None
    row = await Router.select(Router.name).where(_router_pk == router_id).first()
    return None if row is None else str(row["name"])


# --- the CSV import -----------------------------------------------------------------------------------------

_DRAFT_COLUMNS = (  # CustomerDraft's fields, in _INSERT's order
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
# SQL: any number of rows in one round trip (a Piccolo insert sends one parameter per value and cannot say
# ON CONFLICT DO NOTHING ... RETURNING); file order is kept so a code given twice goes in from its first row.
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


async def insert_many(connection: Connection, drafts: list[CustomerDraft]) -> set[str]:
    """Insert in order, skipping rows that clash with a stored (or concurrently inserted) customer; returns the
    codes that went in."""
    arrays = [[getattr(draft, column) for draft in drafts] for column in _DRAFT_COLUMNS]
    arrays[_DRAFT_COLUMNS.index("status")] = [draft.status.value for draft in drafts]
    return {record["code"] for record in await connection.fetch(_INSERT, *arrays)}


async def stored_unique_values(codes: list[str], usernames: list[str]) -> set[tuple[str, str]]:
    """Which of these customer ids and PPPoE usernames stored customers hold, as (field, value) pairs."""
    clauses = []
    if codes:
        clauses.append(Customer.code.is_in(codes))
    if usernames:
        clauses.append(Customer.pppoe_username.is_in(usernames))
    if not clauses:
        return set()
    query = Customer.select(Customer.code, Customer.pppoe_username)
    where = clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]
    rows = await query.where(where)
    return {("code", r["code"]) for r in rows} | {("pppoe_username", r["pppoe_username"]) for r in rows}
