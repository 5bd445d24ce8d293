"""Values customers read in their messages: balances and suspension reasons in plain words."""

from ispb_platform.notify.events import _suspension_reason, balance_text


def test_a_balance_says_due_or_in_advance_without_a_minus_sign() -> None:
    assert balance_text(100000, "BDT") == "1,000.00 BDT due"
    assert balance_text(-400000, "BDT") == "4,000.00 BDT in advance"
    assert balance_text(0, "BDT") == "0.00 BDT"


def test_a_suspension_reason_names_the_overdue_amount_not_internal_wording() -> None:
    internal = "Suspend: bill 102: 30.00 BDT due 2026-11-08, unpaid after 3 grace days."
    assert _suspension_reason({"amount_due_minor": 3000, "reason": internal}, "BDT") == "30.00 BDT is overdue"
    assert _suspension_reason({"reason": "rude on the phone"}, "BDT") == "your account is on hold"
