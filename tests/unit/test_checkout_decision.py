"""The one rule for what a gateway's verdict does to an open checkout (customer bills, SMS credit and
subscription bills all settle through it): credit only an exact match, never close on an answer that may be
about someone else's checkout, expire a day-old one."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ispb_billing import Money
from ispb_platform.payments.online.decision import EXPIRE_AFTER, decide
from ispb_platform.payments.online.gateway import Outcome, Pending, Provider, Verdict

OPENED = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
FIVE_HUNDRED = Money(50_000, "BDT")


@dataclass(frozen=True)
class Checkout:
    provider: Provider
    gateway_ref: str | None
    merchant_ref: str = "a1b2c3d4e5f6a7b8c9d0"
    amount: Money = FIVE_HUNDRED
    created_at: datetime = OPENED

    @property
    def pending(self) -> Pending:
        return Pending(self.merchant_ref, self.gateway_ref or "", self.amount)


def paid(**changes: str) -> Verdict:
    fields = {
        "gateway_ref": "TR0001",
        "transaction_id": "9XK2",
        "amount": "500.00",
        "currency": "BDT",
        "merchant_ref": "a1b2c3d4e5f6a7b8c9d0",
    }
    return Verdict(Outcome.COMPLETED, "Completed", **{**fields, **changes})


def test_an_exact_match_is_credited():
    decision = decide(Checkout(Provider.BKASH, "TR0001"), paid(), "merchant", None)
    assert (decision.status, decision.answer, decision.closes) == ("completed", "Completed", False)


def test_a_reference_never_stored_is_taken_from_the_verdict_that_names_ours():
    decision = decide(Checkout(Provider.STRIPE, None), paid(gateway_ref="cs_test_1"), "merchant", None)
    assert decision.status == "completed" and decision.pending.gateway_ref == "cs_test_1"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"amount": "499.99"}, "the amount '499.99' is not the 500.00 asked for"),
        ({"currency": "USD"}, "the currency 'USD' is not the BDT asked for"),
        ({"merchant_ref": ""}, "names no invoice number"),
    ],
)
def test_a_payment_that_is_not_exactly_ours_is_refused_and_closed(changes: dict[str, str], says: str):
    decision = decide(Checkout(Provider.BKASH, "TR0001"), paid(**changes), "merchant", None)
    assert decision.status == "refused" and says in decision.answer and decision.closes


def test_an_answer_about_another_checkout_keeps_ours_open():
    decision = decide(Checkout(Provider.BKASH, "TR0001"), paid(gateway_ref="TR0002"), "merchant", None)
    assert decision.status == "pending" and decision.answer.startswith("ignored: ")


@pytest.mark.parametrize("provider", [Provider.BKASH, Provider.NAGAD, Provider.STRIPE])
def test_a_failure_about_an_id_only_the_browser_named_does_not_close(provider: Provider):
    """Subscription checkouts missed this rule when each kind of checkout had its own copy of it."""
    failed = Verdict(Outcome.FAILED, "Expired", gateway_ref="someone-elses")
    assert decide(Checkout(provider, None), failed, "merchant", None).status == "pending"
    assert decide(Checkout(provider, "TR0001"), failed, "merchant", None).status == "failed"


def test_sslcommerz_failures_are_trusted_as_its_recheck_finds_a_checkout_by_our_reference():
    failed = Verdict(Outcome.FAILED, "FAILED")
    assert decide(Checkout(Provider.SSLCOMMERZ, None), failed, "store", None).status == "failed"


def test_a_checkout_still_unpaid_a_day_later_expires_on_a_recheck_only():
    waiting = Verdict(Outcome.PENDING, "Initiated")
    checkout = Checkout(Provider.BKASH, "TR0001")
    assert decide(checkout, waiting, "merchant", OPENED + EXPIRE_AFTER).status == "pending"
    late = decide(checkout, waiting, "merchant", OPENED + EXPIRE_AFTER + timedelta(seconds=1))
    assert late.status == "expired" and late.answer == "unpaid after a day: Initiated" and late.closes
    assert decide(checkout, waiting, "merchant", None).status == "pending"  # a browser's return never expires it
