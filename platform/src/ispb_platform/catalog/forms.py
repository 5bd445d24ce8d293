"""Validation of package input. Amounts and rates are parsed as decimals into integers: never a float."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ispb_billing import MAX_PERIOD_DAYS
from ispb_platform.web.forms import text_errors, whole_number
from ispb_tenants.tables.tenant import ServiceType

NEW_PACKAGE = {"service_type": "pppoe", "vat_rate": "0", "validity_days": "30", "is_active": "on"}
"""What the New package form starts with."""
_NUMBER = re.compile(r"^\d{1,9}(\.\d+)?$")
MAX_PRICE_MINOR = 10**11  # 1 billion in a 2-decimal currency: far above any package


@dataclass(frozen=True)
class PackageDraft:
    name: str
    service_type: ServiceType
    price_minor: int
    vat_rate_bp: int
    vat_inclusive: bool
    download_kbps: int
    upload_kbps: int
    validity_days: int
    data_allowance_mb: int | None
    fup_download_kbps: int | None
    fup_upload_kbps: int | None
    is_active: bool


def parse_decimal(text: str, *, places: int) -> Decimal | None:
    """``"1,200.50"`` -> ``Decimal("1200.50")``; None for anything else or more than ``places`` decimals."""
    cleaned = text.replace(",", "").strip()
    if not _NUMBER.fullmatch(cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return None
    return value


def minor_units(text: str, exponent: int = 2) -> int | None:
    """An amount typed by a person, in minor units of a currency with ``exponent`` decimals."""
    value = parse_decimal(text, places=exponent)
    return None if value is None else int(value.scaleb(exponent))


def _speed(text: str, errors: dict[str, str], field: str, *, required: bool) -> int | None:
    """Mbps as typed (``10``, ``2.5``) -> kbps. Decimal units (1 Mbps = 1,000 kbps), as RouterOS's k/M and
    every ISP's advertised speeds count them."""
    if not text.strip():
        if required:
            errors[field] = "Enter the speed in Mbps, e.g. 10 or 2.5."
        return None
    value = parse_decimal(text, places=3)
    if value is None or value <= 0 or value > 100_000:
        errors[field] = "Enter a speed in Mbps between 0.001 and 100000."
        return None
    return int((value * 1000).to_integral_value())


def validate_package(
    data: Mapping[str, str], *, currency_exponent: int = 2
) -> tuple[PackageDraft | None, dict[str, str]]:
    value = {key: (data.get(key) or "").strip() for key in data}
    errors = text_errors(data, ("name",))  # the other fields are numbers and choices, refused by their own rules
    name = value.get("name", "")
    if not name:
        errors["name"] = "Enter a package name."
    elif len(name) > 80:
        errors["name"] = "Keep the name under 80 characters."
    try:
        service_type = ServiceType(value.get("service_type") or "pppoe")
    except ValueError:
        errors["service_type"] = "Choose PPPoE, hotspot or static."
        service_type = ServiceType.PPPOE
    price = minor_units(value.get("price", ""), currency_exponent)
    if price is None or price > MAX_PRICE_MINOR:
        errors["price"] = f"Enter the price as an amount with at most {currency_exponent} decimals, e.g. 500.00."
    vat = parse_decimal(value.get("vat_rate", "") or "0", places=2)
    if vat is None or vat > 100:
        errors["vat_rate"] = "Enter the VAT rate in percent, from 0 to 100 (e.g. 15 or 7.5)."
    download = _speed(value.get("download_mbps", ""), errors, "download_mbps", required=True)
    upload = _speed(value.get("upload_mbps", ""), errors, "upload_mbps", required=True)
    validity = whole_number(value.get("validity_days", "") or "30", 1, MAX_PERIOD_DAYS)  # a bill: at most a year
    if validity is None:
        errors["validity_days"] = f"Enter the validity in days, from 1 to {MAX_PERIOD_DAYS}."
    allowance = value.get("data_allowance_gb", "")
    allowance_gb = parse_decimal(allowance, places=3) if allowance else None
    if allowance and (allowance_gb is None or allowance_gb <= 0):
        errors["data_allowance_gb"] = "Enter the data allowance in GB, or leave it empty for unlimited."
    fup_down = _speed(value.get("fup_download_mbps", ""), errors, "fup_download_mbps", required=False)
    fup_up = _speed(value.get("fup_upload_mbps", ""), errors, "fup_upload_mbps", required=False)
    if (fup_down or fup_up) and not allowance:
        errors["data_allowance_gb"] = "A FUP speed needs a data allowance: set how many GB before it applies."
    if errors or price is None or vat is None or download is None or upload is None or validity is None:
        return None, errors
    return PackageDraft(
        name=name,
        service_type=service_type,
        price_minor=price,
        vat_rate_bp=int(vat * 100),
        vat_inclusive=value.get("vat_inclusive") in ("on", "true", "1"),
        download_kbps=download,
        upload_kbps=upload,
        validity_days=validity,
        data_allowance_mb=int((allowance_gb * 1024).to_integral_value()) if allowance_gb else None,
        fup_download_kbps=fup_down,
        fup_upload_kbps=fup_up,
        is_active=value.get("is_active") in ("on", "true", "1"),  # an unticked checkbox sends nothing
    ), {}


def package_form_values(row: Mapping[str, object], exponent: int = 2) -> dict[str, str]:
    """A stored package as the text a person would type, for the edit form."""

    def mbps(kbps: object) -> str:
        return "" if kbps is None else f"{Decimal(int(str(kbps))) / 1000:f}".rstrip("0").rstrip(".")

    allowance = row.get("data_allowance_mb")
    return {
        "name": str(row["name"]),
        "service_type": str(row["service_type"]),
        "price": f"{Decimal(int(str(row['price_minor']))).scaleb(-exponent):.{exponent}f}",
        "vat_rate": f"{Decimal(int(str(row['vat_rate_bp']))) / 100:f}".rstrip("0").rstrip("."),
        "vat_inclusive": "on" if row["vat_inclusive"] else "",
        "download_mbps": mbps(row["download_kbps"]),
        "upload_mbps": mbps(row["upload_kbps"]),
        "validity_days": str(row["validity_days"]),
        "data_allowance_gb": "" if allowance is None else mbps(allowance),
        "fup_download_mbps": mbps(row.get("fup_download_kbps")),
        "fup_upload_mbps": mbps(row.get("fup_upload_kbps")),
        "is_active": "on" if row["is_active"] else "",
    }
