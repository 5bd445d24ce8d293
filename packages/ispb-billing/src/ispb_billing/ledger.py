"""A customer's ledger: bills debit it, payments and credit notes credit it; the balance is derived.

Positive balance: the customer owes that much. Negative balance: the customer has that much advance credit.
Nothing here stores a balance: it is always recomputed from the entries, so it cannot drift from them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ispb_billing.money import Money


class EntryKind(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True)
class LedgerEntry:
    """One movement; `amount` is never negative, the direction is `kind` (a refund is a debit, not -credit)."""

    kind: EntryKind
    amount: Money
    on: date
    reference: str = ""

    def __post_init__(self) -> None:
        EntryKind(self.kind)  # refuses anything but "debit" and "credit" (ValueError)
        if self.amount.is_negative:
            raise ValueError(f"a ledger entry amount is never negative ({self.amount}); use the other kind")

    @property
    def signed(self) -> Money:
        """The entry's effect on the balance: +amount for a debit, -amount for a credit."""
        return self.amount if self.kind == EntryKind.DEBIT else -self.amount


def balance(entries: Iterable[LedgerEntry], currency: str) -> Money:
    """sum(debits) - sum(credits): positive means the customer owes, negative means advance credit.

    >>> entries = [LedgerEntry(EntryKind.DEBIT, Money.of("920", "BDT"), date(2026, 11, 1), "INV-2026-000001"),
    ...            LedgerEntry(EntryKind.CREDIT, Money.of("1000", "BDT"), date(2026, 11, 3), "bKash 9XK2")]
    >>> b = balance(entries, "BDT")
    >>> str(b), str(amount_due(b)), str(advance_credit(b))
    ('-80.00 BDT', '0.00 BDT', '80.00 BDT')
    """
    total = Money.zero(currency)
    for entry in entries:
        total = total + entry.signed
    return total


def advance_credit(balance: Money) -> Money:
    """What the customer has paid in advance: -balance when the balance is negative, else zero."""
    return -balance if balance.is_negative else Money.zero(balance.currency)


def amount_due(balance: Money) -> Money:
    """What the customer owes: the balance when positive, else zero."""
    return balance if balance.is_positive else Money.zero(balance.currency)
