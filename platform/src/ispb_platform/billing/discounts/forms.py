"""Validating the discount form of the customer page into a typed draft with per-field errors."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ispb_billing import Money, format_money, format_percent
from ispb_platform.payments.forms import MAX_AMOUNT_MINOR
from ispb_platform.web.forms import text_errors


@dataclass(frozen=True)
class DiscountDraft:
    label: str
    percent_bp: int | None
    amount: Money | None
    starts: date | None
    ends: date | None

    def describe(self) -> str:
        value = (
            format_percent(self.percent_bp)
            if self.percent_bp
            else format_money(self.amount, symbol=False)
            if self.amount
            else ""
        )
        return f"{self.label} ({value})"


def _date(raw: str, field: str, errors: dict[str, str]) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = "Enter the date as YYYY-MM-DD."
        return None


def validate_discount(data: dict[str, str], currency: str) -> tuple[DiscountDraft | None, dict[str, str]]:
    errors = text_errors(data, ("label", "value", "starts", "ends"))
    label = data.get("label", "").strip()
    if not label or len(label) > 80:
        errors["label"] = "Name the discount (up to 80 characters), e.g. Loyalty."
    kind, raw = data.get("kind", ""), data.get("value", "").strip()
    percent_bp: int | None = None
    amount: Money | None = None
    if kind == "percent":
        try:
            percent = Decimal(raw)
        except InvalidOperation:
            percent = Decimal(-1)
        if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100) or percent * 100 != int(percent * 100):
            errors["value"] = "Enter a percentage from 0.01 to 100, e.g. 10 or 7.5."
        else:
            percent_bp = int(percent * 100)
    elif kind == "amount":
        try:
            amount = Money.of(raw, currency)
        except (ValueError, TypeError) as problem:
            errors["value"] = f"Enter an amount such as 100 or 99.50 ({problem})."
        else:
            if not amount.is_positive:
                errors["value"] = "The amount must be more than zero."
            elif amount.minor > MAX_AMOUNT_MINOR:
                errors["value"] = "That amount is too large; check the number."
    else:
        errors["kind"] = "Choose a percentage or a fixed amount."
    starts, ends = _date(data.get("starts", ""), "starts", errors), _date(data.get("ends", ""), "ends", errors)
    if starts and ends and ends < starts:
        errors["ends"] = "The end date is before the start date."
    if errors:
        return None, errors
    return DiscountDraft(label, percent_bp, amount, starts, ends), {}
