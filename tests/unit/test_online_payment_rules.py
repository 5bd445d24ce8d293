"""The pure rules of online payments: money at the gateway's edge, what a verdict must match, and the
signature checks of SSLCommerz IPNs and Stripe webhooks."""

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_billing import Money
from ispb_notify import OutboundPolicy
from ispb_platform.payments.online.gateway import (
    NoticeRefused,
    Outcome,
    Pending,
    Verdict,
    about_another,
    from_decimal,
    judge,
    to_decimal,
)
from ispb_platform.payments.online.sslcommerz import Sslcommerz, SslcommerzAccount
from ispb_platform.payments.online.stripe import check_signature

PENDING = Pending("0123456789abcdef0123", "TR0011ABC", Money(50000, "BDT"))


@given(st.integers(min_value=1, max_value=10**13))
def test_an_amount_goes_to_the_gateway_and_back_unchanged(minor: int) -> None:
    amount = Money(minor, "BDT")
    assert from_decimal(to_decimal(amount), "BDT") == amount


@pytest.mark.parametrize("text", ["500", "500.0", "500.00", " 500.00 "])
def test_the_ways_gateways_write_an_amount_are_read_exactly(text: str) -> None:
    assert from_decimal(text, "BDT") == Money(50000, "BDT")


@pytest.mark.parametrize("text", ["500.001", "-500", "+500", "5e2", "1,000", "500.", ".5", "NaN", "", "５００"])
def test_anything_else_is_not_an_amount(text: str) -> None:
    assert from_decimal(text, "BDT") is None


def _paid(**changes: str | None) -> Verdict:
    fields: dict[str, str | None] = {
        "gateway_ref": "TR0011ABC",
        "transaction_id": "TRX1",
        "amount": "500.00",
        "currency": "BDT",
        "merchant_ref": PENDING.merchant_ref,
        "merchant_id": None,
    }
    fields |= changes
    return Verdict(Outcome.COMPLETED, "ok", **fields)  # type: ignore[arg-type]


def test_a_matching_answer_is_accepted() -> None:
    assert judge(PENDING, _paid(), "merchant") is None
    assert judge(PENDING, _paid(merchant_id="merchant"), "merchant") is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": "499.99"}, "amount"),
        ({"amount": "500.001"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"merchant_id": "someone-else"}, "merchant"),
        ({"transaction_id": ""}, "transaction id"),
        ({"merchant_ref": ""}, "invoice number"),
        ({"merchant_ref": "another-checkout-000"}, "not ours"),
        ({"gateway_ref": "TR0011OTHER"}, "checkout"),
    ],
)
def test_an_answer_that_differs_in_anything_is_refused(changes: dict[str, str], reason: str) -> None:
    problem = judge(PENDING, _paid(**changes), "merchant")
    assert problem is not None and reason in problem


def test_an_answer_about_another_checkout_is_told_apart_from_a_wrong_one() -> None:
    assert about_another(PENDING, _paid(merchant_ref="another-checkout-000")) is not None
    assert about_another(PENDING, _paid(amount="1.00")) is None


def _stripe_header(body: bytes, secret: str, stamp: int) -> str:
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1=deadbeef,v1={signature}"


def test_stripe_signature_is_checked_against_the_raw_body_the_secret_and_the_time() -> None:
    body, now = b'{"type":"checkout.session.completed"}', 1_800_000_000
    check_signature(body, _stripe_header(body, "whsec_1", now - 10), "whsec_1", now)
    for header, when in (
        (_stripe_header(body, "whsec_2", now), now),  # another secret
        (_stripe_header(body + b" ", "whsec_1", now), now),  # another body
        (_stripe_header(body, "whsec_1", now - 301), now),  # too old
        ("v1=abc", now),  # no time
        ("", now),
    ):
        with pytest.raises(NoticeRefused):
            check_signature(body, header, "whsec_1", when)


def _ipn(fields: dict[str, str], password: str) -> dict[str, str]:
    keys = sorted(fields)
    signed = fields | {"store_passwd": hashlib.md5(password.encode()).hexdigest()}
    text = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    return fields | {"verify_key": ",".join(keys), "verify_sign": hashlib.md5(text.encode()).hexdigest()}


def test_sslcommerz_ipn_signature_covers_its_fields_and_the_store_password() -> None:
    gateway = Sslcommerz(SslcommerzAccount("https://sandbox.sslcommerz.com", "store", "pw"), OutboundPolicy())
    fields = {"tran_id": PENDING.merchant_ref, "val_id": "V1", "amount": "500.00", "status": "VALID"}
    notice = gateway.notice(b"", {}, _ipn(fields, "pw"), 0)
    assert notice is not None and notice.merchant_ref == PENDING.merchant_ref
    with pytest.raises(NoticeRefused):
        gateway.notice(b"", {}, _ipn(fields, "not-pw"), 0)
    with pytest.raises(NoticeRefused):
        gateway.notice(b"", {}, _ipn(fields, "pw") | {"amount": "5.00"}, 0)
    without_tran_id = _ipn({k: v for k, v in fields.items() if k != "tran_id"}, "pw") | {"tran_id": "x" * 20}
    with pytest.raises(NoticeRefused):
        gateway.notice(b"", {}, without_tran_id, 0)
