"""Form rules of the backup pages: retention figures, the platform's destination."""

from collections.abc import Mapping
from urllib.parse import urlsplit

from ispb_platform.backups.retention import Kept
from ispb_platform.web.forms import whole_number

LIMITS = {"keep_daily": (1, 366), "keep_weekly": (0, 520), "keep_monthly": (0, 240)}
LABELS = {"keep_daily": "daily backups", "keep_weekly": "weekly backups", "keep_monthly": "monthly backups"}


def validate_retention(data: Mapping[str, str]) -> tuple[Kept | None, dict[str, str]]:
    """How many daily, weekly and monthly backups to keep, each a whole number in its range."""
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, (low, high) in LIMITS.items():
        value = whole_number(data.get(name, ""), low, high)
        if value is None:
            errors[name] = f"Enter a whole number of {LABELS[name]} from {low} to {high}"
        else:
            values[name] = value
    if errors:
        return None, errors
    return Kept(values["keep_daily"], values["keep_weekly"], values["keep_monthly"]), {}


def validate_destination(data: Mapping[str, str], *, has_secret: bool) -> dict[str, str]:
    """Problems with the destination form: S3 needs an endpoint URL, a bucket, an access key and its secret."""
    errors: dict[str, str] = {}
    if data.get("destination") not in ("local", "s3"):
        errors["destination"] = "Choose the local disk or an S3 bucket"
    if data.get("destination") == "s3":
        endpoint = data.get("s3_endpoint", "").strip()
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            errors["s3_endpoint"] = "Enter the address as https://host (empty for Amazon S3)"
        if not data.get("s3_bucket", "").strip():
            errors["s3_bucket"] = "Enter the bucket's name"
        if not data.get("s3_access_key", "").strip():
            errors["s3_access_key"] = "Enter the access key id"
        if not has_secret and not data.get("s3_secret", "").strip():
            errors["s3_secret"] = "Enter the secret access key"  # noqa: S105 (a message)
    _, retention = validate_retention(
        {k.removeprefix("full_"): v for k, v in data.items() if k.startswith("full_keep_")}
    )
    errors.update({f"full_{k}": v for k, v in retention.items()})
    return errors
