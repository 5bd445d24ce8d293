"""Validating the "record a payment" form (the same rules serve any later JSON API)."""

from dataclasses import dataclass
from datetime import date, timedelta

from ispb_billing import Money
from ispb_platform.payments.queries import PaymentMethod
from ispb_platform.web.forms import text_errors

MAX_BACKDATE_DAYS = 366
MAX_AMOUNT_MINOR = 10**13
"""100 billion in a 2-decimal currency: far above any payment, far below the database's bigint."""
METHOD_LABELS = {PaymentMethod.CASH: "Cash", PaymentMethod.BANK: "Bank", PaymentMethod.MOBILE_MONEY: "Mobile money"}
NEEDS_REFERENCE = {PaymentMethod.BANK, PaymentMethod.MOBILE_MONEY}


@dataclass(frozen=True)
class PaymentDraft:
    amount: Money
    method: PaymentMethod
    reference: str
    received_on: date
    note: str


def _amount(raw: str, currency: str) -> tuple[Money | None, str]:
    """The amount received, or the message to show beside the field."""
    if not raw:
        return None, "Enter the amount received."
    try:
        amount = Money.of(raw, currency)
    except (ValueError, TypeError) as problem:
        return None, f"Enter an amount such as 500 or 500.50 ({problem})."
    if not amount.is_positive:
        return None, "The amount must be more than zero."
    if amount.minor > MAX_AMOUNT_MINOR:
        return None, "That amount is too large; check the number."
    return amount, ""


def validate_payment(data: dict[str, str], currency: str, today: date) -> tuple[PaymentDraft | None, dict[str, str]]:
    errors = text_errors(data, ("amount", "reference", "received_on", "note"))
    amount, problem = _amount(data.get("amount", "").strip(), currency)
    if problem:
        errors["amount"] = problem
    method: PaymentMethod | None = None
    method = next((m for m in METHOD_LABELS if m.value == data.get("method", "")), None)
    if method is None:  # "gateway" too: only a gateway's confirmation records an online payment
        errors["method"] = "Choose cash, bank or mobile money."
    reference = data.get("reference", "").strip()
    if method in NEEDS_REFERENCE and not reference:
        errors["reference"] = "Enter the transaction id or reference, so the payment cannot be recorded twice."
    elif len(reference) > 100:
        errors["reference"] = "Keep the reference under 100 characters."
    received_on = today
    raw_date = data.get("received_on", "").strip()
    if raw_date:
        try:
            received_on = date.fromisoformat(raw_date)
        except ValueError:
            errors["received_on"] = "Enter the date as YYYY-MM-DD."
        else:
            if received_on > today:
                errors["received_on"] = "A payment cannot be received in the future."
            elif received_on < today - timedelta(days=MAX_BACKDATE_DAYS):
                errors["received_on"] = "That is more than a year ago; check the date."
    note = data.get("note", "").strip()
    if len(note) > 500:
        errors["note"] = "Keep the note under 500 characters."
    if errors or amount is None or method is None:
        return None, errors
    return PaymentDraft(amount, method, reference, received_on, note), {}
