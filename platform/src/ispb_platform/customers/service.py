"""Customers: the use cases behind the panel's pages (find, create, edit, disable, import, the customer page).

Each runs in the caller's open tenant scope (the handler's ``@in_tenant_scope`` transaction) and does
everything a change implies in that one transaction: the connection settings and the router command they need,
the RADIUS rows, a package change's pro-rata lines, the domain event, the activity record. Running the router
command now waits for the commit (``db.on_commit``); the minute job is the backstop.
"""

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from saq import Queue

from ispb_platform.activity import queries as activity_queries
from ispb_platform.activity.service import actor_label, record_activity
from ispb_platform.auth.passwords import hash_password_async
from ispb_platform.auth.roles import Principal
from ispb_platform.billing import queries as billing_queries
from ispb_platform.billing.package_change import record_package_change
from ispb_platform.billing.validity import mismatch_reason
from ispb_platform.customers import csv_import, queries
from ispb_platform.customers.csv_import import ImportReport, ParsedImport, RowError
from ispb_platform.customers.forms import (
    FIELDS,
    ConnectionDraft,
    CustomerDraft,
    CustomerFilters,
    check_portal_password,
    validate_connection,
    validate_customer,
)
from ispb_platform.customers.queries import CustomerPage, CustomerRecord, DuplicateCustomer
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.radius.sync import sync_customer
from ispb_platform.network.routers.commands import enqueue_command, kick
from ispb_platform.network.routers.queries import recent_commands
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import TenantScope


@dataclass(frozen=True)
class Saved:
    """What a create or edit came to: the customer's id, or the errors to show beside the fields."""

    customer_id: int | None
    errors: dict[str, str]


@dataclass(frozen=True)
class Effects:
    """What a saved change needs beyond its own transaction: the secret that seals PPPoE passwords, and the
    queue that runs a router command as soon as the change has committed."""

    secret_key: str
    queue: Queue


async def find_customers(filters: CustomerFilters) -> CustomerPage:
    return await queries.find_customers(filters)


async def filter_choices(db: TenantScope) -> dict[str, Any]:
    """The list's filter choices and the form's package and area choices."""
    packages = await queries.package_choices()
    return {
        "packages": [{"id": int(value), "name": name} for value, name in packages],
        "package_options": packages,
        "areas": await queries.areas(db.connection),
    }


async def form_choices(db: TenantScope) -> dict[str, Any]:
    """Everything the customer form offers to choose from."""
    profiles = [(str(p.id), f"{p.name} ({p.cycle})") for p in await queries.profile_choices()]
    return {"routers": await queries.router_choices(), "profile_options": profiles, **await filter_choices(db)}


async def get_customer(customer_id: int) -> CustomerRecord | None:
    return await queries.get_customer(customer_id)


async def customer_page(db: TenantScope, customer_id: int) -> dict[str, Any] | None:
    """The customer page's content: details, ledger, discounts, router commands, messages and activity."""
    customer = await queries.get_customer(customer_id)
    if customer is None:
        return None
    return {
        "customer": customer,
        "activity": await activity_queries.latest_for("customer", customer_id, limit=20),
        "ledger": await billing_queries.ledger(db.connection, customer_id),
        "parked": await billing_queries.parked(customer_id),
        "advance_credit": await billing_queries.advance_credit(db.connection, customer_id),
        "discounts": await queries.discounts_of(customer_id),
        "currency": db.tenant.currency,
        "commands": await recent_commands(customer_id=customer_id),
        "messages": await queries.messages_to(customer_id),
        "router_name": await queries.router_name_of(customer["router_id"]),
    }


async def _check(
    data: dict[str, str], password: str, except_id: int | None
) -> tuple[CustomerDraft | None, ConnectionDraft | None, dict[str, str]]:
    """The customer draft, the connection draft and every error of the form, at once: a customer id or PPPoE
    username another customer holds is reported with the other fields' errors, not in a second round."""
    checked = validate_customer(data, await queries.package_lookup())
    link, link_errors = validate_connection(data, await queries.router_choices())
    problem = check_portal_password(password)
    # only values the form accepted are looked up: a refused one (a NUL, 10,000 characters) never reaches SQL
    code, username = (
        "" if field in checked.errors else data.get(field, "").strip() for field in ("code", "pppoe_username")
    )
    taken = await queries.clashes(code, username or None, except_id) if code or username else {}
    errors = checked.errors | taken | ({"portal_password": problem} if problem else {}) | link_errors
    return checked.draft, link, errors


async def _billing_profile(data: dict[str, str], draft: CustomerDraft | None) -> tuple[int | None, dict[str, str]]:
    """The chosen billing profile's id (None: the default) and its error: an unknown profile, or one whose cycle
    cannot bill the chosen package (a 1-day package on a monthly profile; ``billing/validity.py``)."""
    profiles = await queries.profile_choices()
    raw = (data.get("billing_profile") or "").strip()
    chosen = next((p for p in profiles if str(p.id) == raw), None) if raw else None
    if raw and chosen is None:
        return None, {"billing_profile": "Choose one of the billing profiles."}
    effective = chosen or next((p for p in profiles if p.is_default), None)
    package = await queries.package_validity(draft.package_id) if draft and draft.package_id else None
    if effective is not None and package is not None:
        reason = mismatch_reason(
            package=package[0], validity_days=package[1], profile=effective.name, cycle=effective.cycle
        )
        if reason is not None:
            return None, {"billing_profile": reason}
    return (chosen.id if chosen else None), {}


async def create_customer(
    db: TenantScope, operator: Principal, data: dict[str, str], password: str, effects: Effects, *, ip: str
) -> Saved:
    """Create a customer from the form (``password``: the portal password typed, if any)."""
    draft, link, errors = await _check(data, password, None)
    profile_id, profile_errors = await _billing_profile(data, draft)
    errors |= profile_errors
    if draft is None or link is None or errors:
        return Saved(None, errors)
    try:
        customer_id = await queries.insert_customer(db, draft, profile_id)
    except DuplicateCustomer as duplicate:
        return Saved(None, {duplicate.field: str(duplicate)})
    if password:
        await set_portal_password(customer_id, password)
    await _save_connection(db, effects, customer_id, link, before=None)
    await queries.record_event(db.connection, "customer.created", customer_id, {})  # the welcome message, if on
    await record_activity(
        db,
        operator,
        "customer.created",
        object_type="customer",
        object_id=customer_id,
        summary=f"Created {draft.code} {draft.name}",
        ip=ip,
    )
    return Saved(customer_id, {})


async def update_customer(
    db: TenantScope,
    operator: Principal,
    customer: CustomerRecord,
    data: dict[str, str],
    password: str,
    effects: Effects,
    *,
    ip: str,
) -> Saved:
    """Save the edit form; a package change is pro-rated on the next bill and announced (``package.changed``)."""
    customer_id = customer["id"]
    draft, link, errors = await _check(data, password, customer_id)
    profile_id, profile_errors = await _billing_profile(data, draft)
    errors |= profile_errors
    if draft is None or link is None or errors:
        return Saved(None, errors)
    try:
        await queries.update_customer(db, customer_id, draft, profile_id)
    except DuplicateCustomer as duplicate:
        return Saved(None, {duplicate.field: str(duplicate)})
    if password:
        await set_portal_password(customer_id, password)
    await billing_queries.resolve_parked([customer_id])  # changed by the operator: the next bill run checks again
    tenant = operator.require_tenant()
    adjustments = await record_package_change(
        db.connection,
        customer_id=customer_id,
        old_package_id=customer["package_id"],
        new_package_id=draft.package_id,
        today=local_today(datetime.now(UTC), tenant),
        currency=tenant.currency,
        by=actor_label(operator),
    )
    await _save_connection(db, effects, customer_id, link, before=customer)
    if customer["package_id"] != draft.package_id:
        new = await queries.package_validity(draft.package_id) if draft.package_id else None
        change = {
            "from": customer["package_id"],
            "to": draft.package_id,
            "from_name": customer["package_name"],  # the message names packages, never their ids
            "to_name": new[0] if new else None,
        }
        await queries.record_event(db.connection, "package.changed", customer_id, change)
    stored: dict[str, Any] = dict(customer)
    changed = sorted(f for f in FIELDS if str(stored.get(f) or "") != data.get(f, ""))
    if customer["billing_profile_id"] != profile_id:
        changed = sorted([*changed, "billing_profile"])
    await record_activity(
        db,
        operator,
        "customer.updated",
        object_type="customer",
        object_id=customer_id,
        summary=f"Edited {draft.code}"
        + (f"; package change pro-rated on the next bill ({adjustments} lines)" if adjustments else ""),
        details={"changed": changed, "adjustments": adjustments},
        ip=ip,
    )
    return Saved(customer_id, {})


async def _save_connection(
    db: TenantScope, effects: Effects, customer_id: int, link: ConnectionDraft, *, before: CustomerRecord | None
) -> None:
    """Store the connection settings, bring the RADIUS rows in line, and queue ``apply_package`` when the router
    must learn something (run once the change commits). The PPPoE password is sealed for the customer's row,
    which exists by now (a new customer was inserted earlier in this transaction)."""
    binding = Binding(db.tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, customer_id)
    sealed = seal(effects.secret_key, link.pppoe_password, binding) if link.pppoe_password else None
    await queries.set_connection(
        customer_id, router_id=link.router_id, ip_address=link.ip_address, sealed_password=sealed
    )
    old_username = before["pppoe_username"] if before else None
    await sync_customer(db.connection, effects.secret_key, customer_id, old_username=old_username)
    after = await queries.service_settings(customer_id)
    if after is None or after["router_id"] is None or after["status"] != "active":
        return
    if before is not None and not link.pppoe_password:  # an edit: only when something the router knows changed
        old: dict[str, Any] = dict(before)
        new: dict[str, Any] = dict(after)
        if all(str(old.get(k)) == str(new[k]) for k in ("router_id", "ip_address", "package_id", "pppoe_username")):
            return
    command_id = await enqueue_command(db.connection, customer_id=customer_id, action="apply_package")
    if command_id is not None:
        queue, tenant = effects.queue, db.tenant
        db.on_commit(lambda: kick(queue, tenant, command_id))


async def set_portal_password(customer_id: int, password: str) -> None:
    await queries.set_password_hash(customer_id, await hash_password_async(password))


async def disable_customer(
    db: TenantScope, operator: Principal, customer: CustomerRecord, *, reason: str, ip: str
) -> None:
    """Disable the customer; the operator's reason goes into the activity log with the change."""
    if await queries.set_status(customer["id"], "disabled"):
        await record_activity(
            db,
            operator,
            "customer.disabled",
            object_type="customer",
            object_id=customer["id"],
            summary=f"Disabled {customer['code']}: {reason}",
            details={"reason": reason},
            ip=ip,
        )


async def import_file(db: TenantScope, operator: Principal, content: bytes, *, ip: str) -> ImportReport:
    """Check the uploaded CSV (in a worker thread: a 5 MB file takes a moment) and import its good rows."""
    packages = await queries.package_lookup()
    parsed = await anyio.to_thread.run_sync(csv_import.parse_customer_csv, content, packages)
    parsed = await _refuse_validity_packages(parsed)
    return await import_customers(db, parsed, actor=actor_label(operator), actor_user_id=operator.user_id, ip=ip)


async def _refuse_validity_packages(parsed: ParsedImport) -> ParsedImport:
    """Imported customers go on the default billing profile: when it is monthly, rows with a validity package
    (billed a month at a day's price there; ``billing/validity.py``) become row errors instead."""
    default = next((p for p in await queries.profile_choices() if p.is_default), None)
    if default is None or parsed.file_errors:
        return parsed
    refused: dict[int, tuple[str, str]] = {}  # package id -> (name, reason)
    for package_id in {draft.package_id for _, draft in parsed.rows if draft.package_id is not None}:
        package = await queries.package_validity(package_id)
        if package is None:
            continue
        reason = mismatch_reason(
            package=package[0], validity_days=package[1], profile=default.name, cycle=default.cycle
        )
        if reason is not None:
            days = "1 day" if package[1] == 1 else f"{package[1]} days"
            refused[package_id] = (
                package[0],
                f"{package[0]} is valid for {days}, but imported customers go on the default billing profile "
                f"{default.name}, which bills a month at a time: add this customer in the panel with a daily "
                "billing profile.",
            )
    if not refused:
        return parsed
    keep = [(line, draft) for line, draft in parsed.rows if draft.package_id not in refused]
    errors = [
        RowError(line, "package", refused[draft.package_id][1], refused[draft.package_id][0])
        for line, draft in parsed.rows
        if draft.package_id in refused
    ]
    return dataclasses.replace(parsed, rows=keep, errors=parsed.errors + errors)


async def import_customers(
    scope: TenantScope, parsed: ParsedImport, *, actor: str, actor_user_id: int | None = None, ip: str | None = None
) -> ImportReport:
    """Insert the valid rows in the caller's transaction; rows that clash with stored customers become errors.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same code and then skips the row, and every
    skipped row is looked up and reported, so a row that loses a race is never dropped silently. A file with
    file-level errors, or whose every row is refused, inserts and logs nothing: it changed nothing (a 422).
    """
    if parsed.file_errors:
        return ImportReport(0, list(parsed.errors), list(parsed.file_errors), list(parsed.ignored_columns))
    skipped: list[tuple[int, CustomerDraft]] = []
    if parsed.rows:
        inserted = await queries.insert_many(scope.connection, [draft for _, draft in parsed.rows])
        skipped = csv_import.skipped_rows(parsed.rows, inserted)
    taken = await queries.stored_unique_values(
        [draft.code for _, draft in skipped], [draft.pppoe_username for _, draft in skipped if draft.pppoe_username]
    )
    errors = parsed.errors + csv_import.clash_errors(skipped, taken)
    report = ImportReport(len(parsed.rows) - len(skipped), errors, [], list(parsed.ignored_columns))
    if not report.inserted:
        return report
    rejected = f"{report.rejected} row{'' if report.rejected == 1 else 's'} rejected"
    await activity_queries.insert_activity(
        actor=actor,
        actor_user_id=actor_user_id,
        action="customer.imported",
        object_type="customer",
        object_id="",
        summary=f"Imported {report.inserted} customer{'' if report.inserted == 1 else 's'}, {rejected}",
        details={"inserted": report.inserted, "rejected": report.rejected, "ignored": report.ignored_columns},
        ip=ip or None,
    )
    return report
