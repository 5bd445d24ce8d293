"""Validation of billing profiles: how and when a group of customers is billed, reminded and suspended."""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ispb_platform.web.forms import text_errors, whole_number
from ispb_tenants.tables.tenant import BillingCycle

NEW_PROFILE = {
    "cycle": "monthly",
    "billing_day": "1",
    "due_days": "7",
    "grace_days": "3",
    "auto_suspend": "on",
    "auto_activate": "on",
    "prorata": "daily",
}
"""What the New billing profile form starts with."""


@dataclass(frozen=True)
class ProfileDraft:
    name: str
    cycle: BillingCycle
    billing_day: int
    due_days: int
    grace_days: int
    auto_suspend: bool
    auto_activate: bool
    is_default: bool
    prorata: str
    suspend_day: int | None
    bill_suspended: bool


def _whole(value: str, low: int, high: int, field: str, message: str, errors: dict[str, str]) -> int:
    number = whole_number(value, low, high)
    if number is None:
        errors[field] = message
        return low
    return number


def validate_profile(data: Mapping[str, str]) -> tuple[ProfileDraft | None, dict[str, str]]:
    value = {key: (text or "").strip() for key, text in data.items()}
    errors = text_errors(data, ("name",))  # the other fields are numbers and choices, refused by their own rules
    name = value.get("name", "")
    if not name or len(name) > 80:
        errors["name"] = "Enter a name of up to 80 characters."
    try:
        cycle = BillingCycle(value.get("cycle") or "monthly")
    except ValueError:
        errors["cycle"] = "Choose monthly or daily."
        cycle = BillingCycle.MONTHLY
    billing_day = _whole(
        value.get("billing_day", "1"),
        1,
        31,
        "billing_day",
        "Enter a day of the month from 1 to 31 (29-31 bill on the last day of shorter months).",
        errors,
    )
    due_days = _whole(value.get("due_days", ""), 0, 90, "due_days", "Enter 0 to 90 days.", errors)
    grace_days = _whole(value.get("grace_days", ""), 0, 90, "grace_days", "Enter 0 to 90 days.", errors)
    prorata = value.get("prorata") or "daily"
    if prorata not in ("none", "daily"):
        errors["prorata"] = "Choose daily pro-rata or none."
    suspend_day = None
    if value.get("suspend_day"):
        suspend_day = _whole(
            value["suspend_day"],
            1,
            28,
            "suspend_day",
            "Enter a day from 1 to 28, or leave it empty to suspend after the grace days.",
            errors,
        )
    if errors:
        return None, errors
    return ProfileDraft(
        name=name,
        cycle=cycle,
        billing_day=billing_day,
        due_days=due_days,
        grace_days=grace_days,
        auto_suspend=value.get("auto_suspend") == "on",
        auto_activate=value.get("auto_activate") == "on",
        is_default=value.get("is_default") == "on",
        prorata=prorata,
        suspend_day=suspend_day,
        bill_suspended=value.get("bill_suspended") == "on",
    ), {}


def profile_form_values(row: Mapping[str, Any]) -> dict[str, str]:
    """A stored profile as the text of its edit form (ticked boxes ``on``, empty for none)."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "on" if value else ""
        return "" if value is None else str(value)

    return {field.name: text(row[field.name]) for field in fields(ProfileDraft)}
