"""Master packages: saving one (create or edit) with its activity record. Retire with "active" off, never
delete: customers and bills keep pointing at a package. A package's validity is not changed to other than a
month while monthly billing profiles bill its customers (``billing/validity.py``)."""

from collections.abc import Mapping
from dataclasses import dataclass

from saq import Queue

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing import queries as billing_queries
from ispb_platform.billing.validity import mismatch_reason
from ispb_platform.catalog import queries
from ispb_platform.catalog.forms import validate_package
from ispb_platform.catalog.rollout import Started, roll_out_package
from ispb_platform.jobs.queue import run_soon
from ispb_tenants import TenantScope


@dataclass(frozen=True)
class Effects:
    """What a speed edit needs beyond its transaction: the secret that opens PPPoE passwords (RADIUS rows) and
    the queue that runs the router commands as soon as the edit has committed."""

    secret_key: str
    queue: Queue


class PackageNotFound(LookupError):
    """No package with that id in this operator's catalog."""


async def save_package(
    db: TenantScope,
    operator: Principal,
    data: Mapping[str, str],
    package_id: int | None,
    *,
    ip: str,
    effects: Effects,
) -> dict[str, str]:
    """Create (``package_id`` None) or update a package from the form; the errors to show, empty when saved.
    A speed edit reaches the network in the same transaction (``rollout.py``).

    Raises `PackageNotFound` for an edit of a package that is not there (also when the form has errors).
    """
    draft, errors = validate_package(data)
    if package_id is not None and not await queries.package_exists(package_id):
        raise PackageNotFound(package_id)
    name = (data.get("name") or "").strip()
    if "name" not in errors and await queries.name_taken(name, package_id):
        errors = errors | {"name": f"A package named {name!r} already exists."}
    if draft is None or errors:
        return errors
    if package_id is not None:
        count, profile = await billing_queries.monthly_customers_of_package(db.connection, package_id)
        if count and mismatch_reason(
            package=draft.name, validity_days=draft.validity_days, profile=profile, cycle="monthly"
        ):
            who = "1 customer of this package is" if count == 1 else f"{count} customers of this package are"
            return {
                "validity_days": f"{who} billed monthly (billing profile {profile}): a package "
                "valid for other than a month is prepaid per validity on a daily billing profile. Move them to a "
                "daily billing profile first, or keep a validity of 28 to 31 days."
            }
    before = await queries.get_package(package_id) if package_id is not None else None
    try:
        if package_id is None:
            saved = await queries.insert_package(db, draft)
        else:
            await queries.update_package(db, package_id, draft)
            saved = package_id
    except queries.PackageNameTaken:
        return {"name": f"A package named {draft.name!r} already exists."}
    started = None
    if before is not None and (before["download_kbps"], before["upload_kbps"]) != (
        draft.download_kbps,
        draft.upload_kbps,
    ):
        edited = await queries.get_package(saved)
        assert edited is not None, "the package was just updated in this transaction"
        started = await roll_out_package(db.connection, saved, edited["updated_at"], secret_key=effects.secret_key)
        if started.router_commands or started.session_commands:
            tenant, queue = db.tenant, effects.queue
            db.on_commit(lambda: run_soon(queue, "netsync.router_commands", tenant, f"package-{saved}"))
    await record_activity(
        db,
        operator,
        "package.created" if package_id is None else "package.updated",
        object_type="package",
        object_id=saved,
        summary=f"{'Created' if package_id is None else 'Edited'} package {draft.name}{_rollout_words(started)}",
        ip=ip,
    )
    return {}


def _rollout_words(started: Started | None) -> str:
    if started is None:
        return ""
    return (
        f"; new speed sent to the network: RADIUS rows of {started.radius_customers} customers,"
        f" {started.router_commands} router profiles, {started.session_commands} live sessions"
    )
