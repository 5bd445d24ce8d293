"""The OLT form and the ONU settings form: what an operator admin types, validated into drafts with per-field
errors. Secrets are never echoed back into a page."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ispb_netsync.olt import PROFILES
from ispb_netsync.olt.client import AUTH_PROTOCOLS, PRIV_PROTOCOLS
from ispb_platform.network.olts.writes import CUSTOMER_FIELDS
from ispb_platform.web.forms import text_errors, whole_number

VENDORS = {name: profile.label for name, profile in PROFILES.items()}
VERSIONS = {"v2c": "SNMPv2c (community)", "v3": "SNMPv3 (authPriv)"}
NEW_OLT = {"snmp_port": "161", "snmp_version": "v2c", "v3_auth_protocol": "SHA", "v3_priv_protocol": "AES"}
SECRET_FIELDS = ("community", "v3_auth_key", "v3_priv_key")
ONU_FIELDS = {"description": "ONU description", "serial": "ONU serial or MAC", "off": "Off (map by hand only)"}
CUSTOMER_FIELD_LABELS = {"code": "Customer code", "pppoe_username": "PPPoE user name", "phone": "Phone", "name": "Name"}
assert set(CUSTOMER_FIELD_LABELS) == set(CUSTOMER_FIELDS)


@dataclass(frozen=True)
class OltDraft:
    name: str
    host: str
    snmp_port: int
    snmp_version: str
    community: str  # empty on edit: keep the stored one
    v3_username: str
    v3_auth_protocol: str
    v3_auth_key: str  # empty on edit: keep
    v3_priv_protocol: str
    v3_priv_key: str  # empty on edit: keep
    v3_context: str
    vendor: str
    site: str


def _v3_errors(value: Mapping[str, str], data: Mapping[str, str], *, new: bool, was_v3: bool) -> dict[str, str]:
    errors = {}
    if not value.get("v3_username"):
        errors["v3_username"] = "Enter the SNMPv3 user name."
    if value.get("v3_auth_protocol") not in AUTH_PROTOCOLS:
        errors["v3_auth_protocol"] = "Choose an authentication protocol."
    if value.get("v3_priv_protocol") not in PRIV_PROTOCOLS:
        errors["v3_priv_protocol"] = "Choose a privacy protocol."
    for field, what in (("v3_auth_key", "authentication"), ("v3_priv_key", "privacy")):
        key = data.get(field, "")
        if (key or new or not was_v3) and not 8 <= len(key) <= 128:
            errors[field] = f"Enter the {what} pass phrase (8 to 128 characters)."
    return errors


def validate_olt(
    data: dict[str, str], *, new: bool, was_v3: bool = False, had_community: bool = False
) -> tuple[OltDraft | None, dict[str, str]]:
    value = {key: (text or "").strip() for key, text in data.items()}
    errors = text_errors(data, ("name", "host", "site", "v3_username", "v3_context"))
    name, host = value.get("name", ""), value.get("host", "")
    if not name or len(name) > 60:
        errors["name"] = "Name the OLT (up to 60 characters), e.g. Mirpur OLT 1."
    if not host or len(host) > 253 or " " in host:
        errors["host"] = "Enter the OLT's address, e.g. 10.0.0.2 or olt1.example.net."
    port = whole_number(value.get("snmp_port", "") or "161", 1, 65535)
    if port is None:
        errors["snmp_port"] = "Enter a port from 1 to 65535 (SNMP is 161)."
    version = value.get("snmp_version", "v2c")
    if version not in VERSIONS:
        errors["snmp_version"] = "Choose SNMPv2c or SNMPv3."
    community = data.get("community", "")
    if version == "v2c" and (community or new or not had_community) and not 1 <= len(community) <= 64:
        errors["community"] = "Enter the SNMP read community (up to 64 characters)."
    if version == "v3":
        errors |= _v3_errors(value, data, new=new, was_v3=was_v3)
    if value.get("vendor") not in VENDORS:
        errors["vendor"] = "Choose the OLT's vendor and model family."
    if len(value.get("site", "")) > 100:
        errors["site"] = "Keep the site under 100 characters."
    if len(value.get("v3_context", "")) > 64:
        errors["v3_context"] = "An SNMPv3 context name is at most 64 characters (usually empty)."
    if errors or port is None:
        return None, errors
    return OltDraft(
        name,
        host,
        port,
        version,
        community,
        value.get("v3_username", ""),
        value.get("v3_auth_protocol", "SHA"),
        data.get("v3_auth_key", ""),
        value.get("v3_priv_protocol", "AES"),
        data.get("v3_priv_key", ""),
        value.get("v3_context", "") if version == "v3" else "",
        value["vendor"],
        value.get("site", ""),
    ), {}


def form_values(olt: Mapping[str, Any]) -> dict[str, str]:
    keys = (
        "name",
        "host",
        "snmp_port",
        "snmp_version",
        "v3_username",
        "v3_auth_protocol",
        "v3_priv_protocol",
        "v3_context",
    )
    return {key: str(olt[key] or "") for key in (*keys, "vendor", "site")}


def without_secrets(data: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in data.items() if key not in SECRET_FIELDS}


def validate_settings(data: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    raw = (data.get("rx_threshold_dbm") or "").strip().replace("−", "-")
    try:
        threshold = Decimal(raw)
    except InvalidOperation:
        threshold = Decimal("NaN")
    if not threshold.is_finite() or not Decimal(-40) <= threshold <= 0:
        errors["rx_threshold_dbm"] = "Enter a power from -40 to 0 dBm, e.g. -27."
    onu_field, customer_field = data.get("match_onu_field", ""), data.get("match_customer_field", "")
    if onu_field not in ONU_FIELDS:
        errors["match_onu_field"] = "Choose which ONU field to match."
    if customer_field not in CUSTOMER_FIELD_LABELS:
        errors["match_customer_field"] = "Choose which customer field to match."
    if errors:
        return None, errors
    return {
        "rx_threshold_dbm": threshold.quantize(Decimal("0.01")),
        "match_onu_field": onu_field,
        "match_customer_field": customer_field,
    }, {}
