"""Master packages: saving one (create or edit) with its activity record. Retire with "active" off, never
delete: customers and bills keep pointing at a package."""

from collections.abc import Mapping

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.catalog import queries
from ispb_platform.catalog.forms import validate_package
from ispb_tenants import TenantScope


class PackageNotFound(LookupError):
    """No package with that id in this operator's catalog."""


async def save_package(
    db: TenantScope, operator: Principal, data: Mapping[str, str], package_id: int | None, *, ip: str
) -> dict[str, str]:
    """Create (``package_id`` None) or update a package from the form; the errors to show, empty when saved.

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
    try:
        if package_id is None:
            saved = await queries.insert_package(db, draft)
        else:
            await queries.update_package(db, package_id, draft)
            saved = package_id
    except queries.PackageNameTaken:
        return {"name": f"A package named {draft.name!r} already exists."}
    await record_activity(
        db,
        operator,
        "package.created" if package_id is None else "package.updated",
        object_type="package",
        object_id=saved,
        summary=f"{'Created' if package_id is None else 'Edited'} package {draft.name}",
        ip=ip,
    )
    return {}
