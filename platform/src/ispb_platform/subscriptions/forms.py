"""The subscription forms' strings → typed drafts or ``{field: message}`` (no database)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ispb_billing import Money, format_money
from ispb_platform.subscriptions.payments import METHODS
from ispb_platform.subscriptions.pricing import Pricing, Tier
from ispb_platform.web.forms import text_errors, whole_number

TIER_ROWS = 4
"""Tier rows the plan form shows; a plan with fewer leaves the rest blank."""
MAX_PRICE = Decimal("10000000")
MAX_COUNT = 10_000_000
PRICING_LABELS = {Pricing.TIER.value: "A price per tier", Pricing.PER_CUSTOMER.value: "A price per active customer"}
SMS_BILLING_LABELS = {"prepaid": "Prepaid: SMS credit bought in advance", "postpaid": "Postpaid: billed every month"}
METHOD_LABELS = {
    "cash": "Cash",
    "bank": "Bank transfer",
    "bkash": "bKash",
    "nagad": "Nagad",
    "sslcommerz": "SSLCommerz",
    "stripe": "Stripe",
    "other": "Other",
}
assert set(METHOD_LABELS) == set(METHODS)


@dataclass(frozen=True)
class PlanDraft:
    name: str
    pricing: Pricing
    sms_price: Decimal
    trial_days: int
    active: bool
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class AssignDraft:
    plan_id: int
    started_on: date
    trial_ends_on: date | None
    sms_billing: str


@dataclass(frozen=True)
class PaymentDraft:
    amount: Money
    method: str
    reference: str
    paid_on: date


def _price(raw: str, *, places: int = 4) -> Decimal | None:
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_PRICE or -value.as_tuple().exponent > places:  # type: ignore[operator]
        return None
    return value


def _tiers(data: dict[str, str], errors: dict[str, str]) -> tuple[Tier, ...]:
    tiers: list[Tier] = []
    for n in range(1, TIER_ROWS + 1):
        up_raw, price_raw = data.get(f"tier{n}_up_to", "").strip(), data.get(f"tier{n}_price", "").strip()
        if not up_raw and not price_raw:
            continue
        price = _price(price_raw)
        if price is None:
            errors[f"tier{n}_price"] = "Enter a price such as 1000 or 4.50 (at most 4 decimals)."
        up_to = whole_number(up_raw, 1, MAX_COUNT) if up_raw else None
        if up_raw and up_to is None:
            errors[f"tier{n}_up_to"] = f"Enter a whole number of customers from 1 to {MAX_COUNT:,}, or leave it blank."
        elif tiers and (tiers[-1].up_to is None or (up_to is not None and up_to <= tiers[-1].up_to)):
            errors[f"tier{n}_up_to"] = "Each tier goes higher than the one above it; only the last has no limit."
        if price is not None:
            tiers.append(Tier(up_to, price))
    if not tiers and "tier1_price" not in errors:
        errors["tier1_price"] = "Give the plan at least one tier with its price."
    elif tiers and tiers[-1].up_to is not None and not any(k.startswith("tier") for k in errors):
        errors[f"tier{len(tiers)}_up_to"] = (
            "Leave the last tier's limit blank, so every count of customers has a price."
        )
    return tuple(tiers)


def validate_plan(data: dict[str, str]) -> tuple[PlanDraft | None, dict[str, str]]:
    fields = ["name", "sms_price", "trial_days"] + [
        f"tier{n}_{k}" for n in range(1, TIER_ROWS + 1) for k in ("up_to", "price")
    ]
    errors = text_errors(data, fields)
    name = data.get("name", "").strip()
    if not name:
        errors.setdefault("name", "Give the plan a name.")
    elif len(name) > 100:
        errors.setdefault("name", "Keep the name under 100 characters.")
    pricing = data.get("pricing", "")
    if pricing not in PRICING_LABELS:
        errors["pricing"] = "Choose how the plan is priced."
    sms_price = _price(data.get("sms_price", "") or "0")
    if sms_price is None:
        errors.setdefault("sms_price", "Enter the price of one SMS segment, such as 0.35 (at most 4 decimals).")
    trial_days = whole_number(data.get("trial_days", "") or "0", 0, 365)
    if trial_days is None:
        errors.setdefault("trial_days", "Enter a number of days from 0 to 365.")
    tiers = _tiers(data, errors)
    if errors or sms_price is None or trial_days is None:
        return None, errors
    return PlanDraft(name, Pricing(pricing), sms_price, trial_days, bool(data.get("active")), tiers), {}


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def validate_assignment(data: dict[str, str], plan_ids: set[int]) -> tuple[AssignDraft | None, dict[str, str]]:
    errors = text_errors(data, ("started_on", "trial_ends_on"))
    plan_id = whole_number(data.get("plan_id", ""), 1, 2**31 - 1)
    if plan_id is None or plan_id not in plan_ids:
        errors["plan_id"] = "Choose a plan."
    started_on = _date(data.get("started_on", ""))
    if started_on is None:
        errors.setdefault("started_on", "Enter the day the operator starts on the plan (YYYY-MM-DD).")
    trial_raw = data.get("trial_ends_on", "").strip()
    trial = _date(trial_raw) if trial_raw else None
    if trial_raw and trial is None:
        errors.setdefault("trial_ends_on", "Enter the last day of the free trial (YYYY-MM-DD), or leave it blank.")
    elif trial is not None and started_on is not None and trial < started_on:
        errors.setdefault("trial_ends_on", "The trial ends on or after the day the plan starts.")
    sms_billing = data.get("sms_billing", "")
    if sms_billing not in SMS_BILLING_LABELS:
        errors["sms_billing"] = "Choose prepaid or postpaid SMS."
    if errors or plan_id is None or started_on is None:
        return None, errors
    return AssignDraft(plan_id, started_on, trial, sms_billing), {}


def validate_payment(
    data: dict[str, str], currency: str, due_minor: int, today: date
) -> tuple[PaymentDraft | None, dict[str, str]]:
    errors = text_errors(data, ("amount", "reference", "paid_on"))
    amount: Money | None = None
    try:
        amount = Money.of(data.get("amount", "").strip(), currency)
    except (ValueError, TypeError):
        errors.setdefault("amount", "Enter the amount paid, such as 2500 or 2500.50.")
    if amount is not None and not 0 < amount.minor <= due_minor:
        errors.setdefault(
            "amount", f"Enter an amount above zero and at most {format_money(Money(due_minor, currency))}."
        )
    method = data.get("method", "")
    if method not in METHOD_LABELS:
        errors["method"] = "Choose how it was paid."
    reference = data.get("reference", "").strip()
    if len(reference) > 100:
        errors.setdefault("reference", "Keep the reference under 100 characters.")
    paid_on = _date(data.get("paid_on", "") or today.isoformat())
    if paid_on is None or paid_on > today:
        errors.setdefault("paid_on", "Enter the day it was paid (YYYY-MM-DD), today or earlier.")
    if errors or amount is None or paid_on is None:
        return None, errors
    return PaymentDraft(amount, method, reference, paid_on), {}


@dataclass(frozen=True)
class SettingsDraft:
    issuer_name: str
    issuer_address: str
    issuer_phone: str
    issuer_email: str
    due_day: int
    lock_day: int


def validate_settings(data: dict[str, str]) -> tuple[SettingsDraft | None, dict[str, str]]:
    """Who issues the bills (printed on their PDFs, shown as the contact on the locked page) and the days of
    the month a bill falls due and an unpaid one locks the operator's panel."""
    errors = text_errors(data, ("issuer_name", "issuer_address", "issuer_phone", "issuer_email", "due_day", "lock_day"))
    name = data.get("issuer_name", "").strip()
    if not name:
        errors.setdefault("issuer_name", "Enter the name printed on the bills.")
    for field, limit in (("issuer_name", 200), ("issuer_address", 500), ("issuer_phone", 40), ("issuer_email", 200)):
        if len(data.get(field, "").strip()) > limit:
            errors.setdefault(field, f"Keep this under {limit} characters.")
    email = data.get("issuer_email", "").strip()
    if email and ("@" not in email or " " in email):
        errors.setdefault("issuer_email", "Enter an e-mail address such as billing@example.com, or leave it blank.")
    due_day = whole_number(data.get("due_day", ""), 2, 28)
    if due_day is None:
        errors.setdefault("due_day", "Enter a day of the month from 2 to 28.")
    lock_day = whole_number(data.get("lock_day", ""), 2, 28)
    if lock_day is None:
        errors.setdefault("lock_day", "Enter a day of the month from 2 to 28.")
    elif due_day is not None and lock_day < due_day:
        errors.setdefault("lock_day", "The panel locks on or after the day the bill is due.")
    if errors or due_day is None or lock_day is None:
        return None, errors
    address, phone = data.get("issuer_address", "").strip(), data.get("issuer_phone", "").strip()
    return SettingsDraft(name, address, phone, email, due_day, lock_day), {}
