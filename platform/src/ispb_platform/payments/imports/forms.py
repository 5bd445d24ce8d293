"""The statement upload form: what a line without its own method or date column gets."""

from dataclasses import dataclass
from datetime import date, timedelta

from ispb_platform.payments.forms import MAX_BACKDATE_DAYS
from ispb_platform.payments.queries import PaymentMethod

METHOD_CHOICES = (
    (PaymentMethod.MOBILE_MONEY.value, "Mobile money (bKash, Nagad, Rocket)"),
    (PaymentMethod.BANK.value, "Bank"),
    (PaymentMethod.CASH.value, "Cash"),
)


@dataclass(frozen=True)
class UploadDraft:
    method: PaymentMethod
    received_on: date


def validate_upload(data: dict[str, str], today: date) -> tuple[UploadDraft | None, dict[str, str]]:
    """The form's defaults, or a message per field (the file itself is checked by ``statement.read_statement``).

    >>> validate_upload({"method": "bank", "received_on": "2026-12-01"}, date(2026, 12, 2))
    (UploadDraft(method=<PaymentMethod.BANK: 'bank'>, received_on=datetime.date(2026, 12, 1)), {})
    """
    errors: dict[str, str] = {}
    method: PaymentMethod | None = None
    try:
        method = PaymentMethod(data.get("method", ""))
    except ValueError:
        method = None
    if method is None or method is PaymentMethod.GATEWAY:  # a statement line is never an online checkout
        method, errors["method"] = None, "Choose mobile money, bank or cash."
    received_on: date | None = today
    raw = data.get("received_on", "").strip()
    if raw:
        try:
            received_on = date.fromisoformat(raw)
        except ValueError:
            received_on, errors["received_on"] = None, "Enter the date as YYYY-MM-DD."
        else:
            if received_on > today:
                errors["received_on"] = "A payment cannot be received in the future."
            elif received_on < today - timedelta(days=MAX_BACKDATE_DAYS):
                errors["received_on"] = "That is more than a year ago; check the date."
    if errors or method is None or received_on is None:
        return None, errors
    return UploadDraft(method, received_on), {}
