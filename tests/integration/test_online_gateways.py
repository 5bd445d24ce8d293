"""SSLCommerz and Stripe Checkout through their peers: the browser's return, signed server-to-server notices
(IPN, webhook) with bad signatures refused, tampered answers refused, and the recheck finding payments whose
notices were all lost. The money rules under them are the same as bKash's (test_online_payments.py)."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_online_payments import KEY, PASSWORD, _age, _one, _suspended_customer

from ispb_notify import OutboundPolicy
from ispb_platform.jobs.runs import local_today
from ispb_platform.payments.online.accounts import GatewayAccount, save_account
from ispb_platform.payments.online.gateway import Provider
from ispb_platform.payments.online.service import Context, recheck_pending
from ispb_tenants import Database, TenantRef
from pages import csrf_from
from peers.nagad import NagadPeer
from peers.sslcommerz import SslcommerzPeer
from peers.stripe import StripePeer

NAGAD_KEYS = NagadPeer.keys()


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def _gateway(db: Database, tenant: TenantRef, provider: Provider, peer: Any) -> None:
    if provider is Provider.SSLCOMMERZ:
        merchant, secrets = peer.store_id, {"store_password": peer.store_password}
    elif provider is Provider.NAGAD:
        merchant = peer.merchant_id
        secrets = {"merchant_private_key": NAGAD_KEYS.merchant_private, "nagad_public_key": NAGAD_KEYS.nagad_public}
    else:
        merchant, secrets = "ISPB test account", {"secret_key": peer.secret_key, "webhook_secret": peer.webhook_secret}
    async with db.tenant(tenant) as scope:
        account = GatewayAccount(provider, True, "sandbox", peer.base_url, merchant, secrets)
        await save_account(scope.connection, tenant.id, KEY, account)


async def _start(client, tenant: TenantRef, provider: Provider, peer: Any) -> str:
    token = csrf_from((await client.get(f"/portal/{tenant.slug}/login")).text)
    await client.post(f"/portal/{tenant.slug}/login", data={"login": "S1", "password": PASSWORD, "_csrf_token": token})
    dashboard = await client.get(f"/portal/{tenant.slug}/")
    going = await client.post(
        f"/portal/{tenant.slug}/pay", data={"provider": provider.value, "_csrf_token": csrf_from(dashboard.text)}
    )
    assert going.status_code == 200, going.text[:300]
    [checkout] = list(peer.orders if provider is Provider.NAGAD else peer.sessions)
    assert f"{peer.base_url}/checkout/{checkout}" in going.text
    return checkout


async def _counts(db: Database, tenant: TenantRef) -> tuple[int, str, str]:
    row = await _one(
        db,
        tenant,
        "SELECT (SELECT count(*) FROM payment) AS n, (SELECT status FROM online_payment) AS checkout,"
        " (SELECT status FROM customer WHERE code = 'S1') AS customer",
    )
    return row["n"], row["checkout"], row["customer"]


@pytest.fixture(name="public_ipv4")
def fx_public_ipv4(web_app: Any, monkeypatch: pytest.MonkeyPatch):
    """``public_ipv4("203.0.113.9")``: the web app's ``ISPB_PUBLIC_IPV4`` for this test (None: unset)."""
    runtime = web_app.state.runtime

    def set_to(address: str | None) -> None:
        monkeypatch.setattr(runtime, "settings", replace(runtime.settings, public_ipv4=address))

    return set_to


@pytest.fixture(name="shop")
async def fx_shop(db: Database, make_tenant, make_client, allow_outbound, public_ipv4):
    async def make(provider: Provider, peer: Any) -> tuple[TenantRef, Any]:
        tenant = await make_tenant(provider.value[:5])
        allow_outbound(f"127.0.0.1:{peer.port}")
        public_ipv4(NagadPeer.WHITELISTED_IP)
        await _gateway(db, tenant, provider, peer)
        await _suspended_customer(db, tenant)
        return tenant, make_client()

    return make


def _context(db: Database, peer: Any) -> Context:
    return Context(db, KEY, OutboundPolicy.parse(f"127.0.0.1:{peer.port}"), NagadPeer.WHITELISTED_IP)


async def _recheck(db: Database, tenant: TenantRef, peer: Any) -> dict[str, int]:
    await _age(db, tenant, 10)
    now = datetime.now(UTC)
    return dict(await recheck_pending(_context(db, peer), tenant, local_today(now, tenant), now))


async def test_sslcommerz_return_is_validated_and_a_later_ipn_adds_nothing(db: Database, shop):
    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        key = await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        assert peer.sessions[key].amount == "500.00" and peer.sessions[key].currency == "BDT"
        url, posted = peer.pay(key)
        back = await client.post(_local(url), data=posted)  # SSLCommerz posts the browser back, no CSRF token
        assert back.status_code == 303
        assert "Payment received" in (await client.get(back.headers["location"])).text
        assert await _counts(db, tenant) == (1, "completed", "active")
        ipn_url, fields = peer.ipn(key)
        answer = await client.post(_local(ipn_url), data=fields)
        assert answer.status_code == 200 and answer.text == "completed"
        assert (await _counts(db, tenant))[0] == 1
        reference = await _one(db, tenant, "SELECT reference FROM payment")
        assert reference["reference"] == peer.sessions[key].val_id


async def test_sslcommerz_ipn_with_a_bad_signature_is_refused_and_a_good_one_records_the_payment(db: Database, shop):
    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        key = await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        peer.pay(key)  # paid; the browser never comes back
        calls = len(peer.calls)
        ipn_url, forged = peer.ipn(key, bad_signature=True)
        refused = await client.post(_local(ipn_url), data=forged)
        assert refused.status_code == 400 and "verify_sign" in refused.text
        assert len(peer.calls) == calls  # nothing was even asked on its word
        assert await _counts(db, tenant) == (0, "pending", "suspended")
        ipn_url, fields = peer.ipn(key)
        fields["amount"] = "1.00"  # changed after signing
        assert (await client.post(_local(ipn_url), data=fields)).status_code == 400
        assert len(peer.calls) == calls
        ipn_url, fields = peer.ipn(key)
        assert (await client.post(_local(ipn_url), data=fields)).status_code == 200
        assert await _counts(db, tenant) == (1, "completed", "active")


async def test_sslcommerz_lost_notices_are_found_by_the_recheck_and_tampered_amounts_refused(db: Database, shop):
    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        key = await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        peer.pay(key)
        peer.fail_next(1, status=500)
        counts = await _recheck(db, tenant, peer)
        assert counts["unanswered"] == 1 and (await _counts(db, tenant))[1] == "pending"
        counts = await _recheck(db, tenant, peer)
        assert (counts["completed"], counts["reactivated"]) == (1, 1)
        assert await _counts(db, tenant) == (1, "completed", "active")

    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        key = await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        url, posted = peer.pay(key)
        peer.tamper = {"currency_amount": "5.00", "amount": "5.00"}
        await client.post(_local(url), data=posted)
        assert await _counts(db, tenant) == (0, "refused", "suspended")
        row = await _one(db, tenant, "SELECT last_answer FROM online_payment")
        assert "the amount '5.00' is not the 500.00 asked for" in row["last_answer"]


async def test_stripe_return_then_signed_webhook_records_once(db: Database, shop):
    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        session_id = await _start(client, tenant, Provider.STRIPE, peer)
        assert (peer.sessions[session_id]["amount_total"], peer.sessions[session_id]["currency"]) == (50000, "bdt")
        back = await client.get(_local(peer.pay(session_id)))
        assert "Payment received" in (await client.get(back.headers["location"])).text
        body, headers = peer.webhook(session_id)
        answer = await client.post(f"/payments/{tenant.slug}/stripe/notify", content=body, headers=headers)
        assert answer.status_code == 200 and answer.text == "completed"
        assert await _counts(db, tenant) == (1, "completed", "active")
        reference = await _one(db, tenant, "SELECT reference FROM payment")
        assert reference["reference"] == peer.sessions[session_id]["payment_intent"]


async def test_stripe_webhook_signature_is_checked_and_a_webhook_alone_records_the_payment(db: Database, shop):
    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        session_id = await _start(client, tenant, Provider.STRIPE, peer)
        peer.pay(session_id)  # the browser never comes back
        notify = f"/payments/{tenant.slug}/stripe/notify"
        for forged in (peer.webhook(session_id, bad_signature=True), peer.webhook(session_id, age_s=600)):
            refused = await client.post(notify, content=forged[0], headers=forged[1])
            assert refused.status_code == 400
        body, headers = peer.webhook(session_id)
        tampered = body.replace(b'"amount_total": 50000', b'"amount_total": 5000')
        assert (await client.post(notify, content=tampered, headers=headers)).status_code == 400
        assert await _counts(db, tenant) == (0, "pending", "suspended")
        assert (await client.post(notify, content=body, headers=headers)).status_code == 200
        assert await _counts(db, tenant) == (1, "completed", "active")


async def test_stripe_recheck_captures_a_silent_payment_closes_expired_ones_and_refuses_tampering(db: Database, shop):
    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        session_id = await _start(client, tenant, Provider.STRIPE, peer)
        peer.pay(session_id)
        peer.drop_next(1)
        assert (await _recheck(db, tenant, peer))["unanswered"] == 1
        assert (await _recheck(db, tenant, peer))["completed"] == 1
        assert await _counts(db, tenant) == (1, "completed", "active")

    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        session_id = await _start(client, tenant, Provider.STRIPE, peer)
        peer.expire(session_id)
        assert (await _recheck(db, tenant, peer))["failed"] == 1

    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        session_id = await _start(client, tenant, Provider.STRIPE, peer)
        peer.tamper = {"amount_total": 100}
        await client.get(_local(peer.pay(session_id)))
        assert await _counts(db, tenant) == (0, "refused", "suspended")


async def test_nagad_checkout_is_sealed_both_ways_verified_and_recorded_once(db: Database, shop):
    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        reference = await _start(
            client, tenant, Provider.NAGAD, peer
        )  # initialize and complete passed the peer's checks
        order = peer.orders[reference]
        assert (order.amount, order.status) == ("500.00", "Ready")
        callback = _local(peer.pay(reference))
        first = await client.get(callback)
        assert "Payment received" in (await client.get(first.headers["location"])).text
        assert (await client.get(callback)).status_code == 303  # the callback twice
        assert await _counts(db, tenant) == (1, "completed", "active")
        row = await _one(db, tenant, "SELECT reference FROM payment")
        assert row["reference"] == order.issuer_ref


async def _refused_start(client, tenant: TenantRef, *, sign_in: bool = True) -> None:
    if sign_in:
        token = csrf_from((await client.get(f"/portal/{tenant.slug}/login")).text)
        await client.post(
            f"/portal/{tenant.slug}/login", data={"login": "S1", "password": PASSWORD, "_csrf_token": token}
        )
    dashboard = await client.get(f"/portal/{tenant.slug}/")
    going = await client.post(
        f"/portal/{tenant.slug}/pay", data={"provider": "nagad", "_csrf_token": csrf_from(dashboard.text)}
    )
    assert going.status_code == 400 and "could not start" in going.text


async def test_nagad_is_told_the_servers_public_address_and_refuses_another(db: Database, shop, public_ipv4):
    """``X-KM-IP-V4`` carries ISPB_PUBLIC_IPV4 (the address Nagad whitelisted): a wrong one is refused by Nagad,
    an unset one by us before any call, with the setting named for the operator's log."""
    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        public_ipv4("203.0.113.250")
        await _refused_start(client, tenant)
        row = await _one(db, tenant, "SELECT status, last_answer FROM online_payment")
        assert row["status"] == "failed" and "IP is not whitelisted" in row["last_answer"]
        assert not peer.orders
        public_ipv4(None)
        calls = len(peer.calls)
        await _refused_start(client, tenant, sign_in=False)
        rows = await _one(
            db,
            tenant,
            "SELECT count(*) AS n, max(last_answer) FILTER (WHERE id = (SELECT max(id)"
            " FROM online_payment)) AS answer FROM online_payment",
        )
        assert rows["n"] == 2 and "ISPB_PUBLIC_IPV4" in rows["answer"]
        assert len(peer.calls) == calls  # nothing was sent with a made-up address


async def test_nagad_answer_not_signed_by_nagad_is_refused_and_nothing_starts(db: Database, shop):
    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        peer.bad_signature = True
        await _refused_start(client, tenant)
        row = await _one(db, tenant, "SELECT status, last_answer FROM online_payment")
        assert row["status"] == "failed" and "not signed by Nagad" in row["last_answer"]
        assert not any(call.startswith("/check-out/complete") for call in peer.calls)


async def test_nagad_recheck_tampering_and_a_cancelled_payment(db: Database, shop):
    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        reference = await _start(client, tenant, Provider.NAGAD, peer)
        peer.pay(reference)  # callback never comes
        peer.fail_next(1, status=500, call="/verify")
        assert (await _recheck(db, tenant, peer))["unanswered"] == 1
        assert (await _recheck(db, tenant, peer))["completed"] == 1
        assert await _counts(db, tenant) == (1, "completed", "active")

    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        reference = await _start(client, tenant, Provider.NAGAD, peer)
        peer.tamper = {"merchantId": "999999999999999"}
        await client.get(_local(peer.pay(reference)))
        assert await _counts(db, tenant) == (0, "refused", "suspended")
        row = await _one(db, tenant, "SELECT last_answer FROM online_payment")
        assert "the payment went to merchant '999999999999999'" in row["last_answer"]

    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        reference = await _start(client, tenant, Provider.NAGAD, peer)
        await client.get(_local(peer.cancel(reference)))
        assert await _counts(db, tenant) == (0, "failed", "suspended")


async def _forget_gateway_refs(db: Database, tenant: TenantRef) -> None:
    """As if the start's last step (storing the gateway's checkout id) was lost: a crash after the gateway
    answered, before our write."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE online_payment SET gateway_ref = NULL")


async def test_a_return_finds_a_checkout_whose_gateway_id_was_never_stored(db: Database, shop):
    """Stripe's session_id and Nagad's payment_ref_id on the way back name the checkout at the gateway (its
    answer must still name our reference): the money the customer paid is recorded, not expired a day later."""
    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        session_id = await _start(client, tenant, Provider.STRIPE, peer)
        await _forget_gateway_refs(db, tenant)
        back = await client.get(_local(peer.pay(session_id)))
        assert back.status_code == 303
        assert await _counts(db, tenant) == (1, "completed", "active")
        assert (await _one(db, tenant, "SELECT gateway_ref FROM online_payment"))["gateway_ref"] == session_id

    async with NagadPeer(NAGAD_KEYS) as peer:
        tenant, client = await shop(Provider.NAGAD, peer)
        reference = await _start(client, tenant, Provider.NAGAD, peer)
        await _forget_gateway_refs(db, tenant)
        assert (await client.get(_local(peer.pay(reference)))).status_code == 303
        assert await _counts(db, tenant) == (1, "completed", "active")


async def test_sslcommerz_checkouts_without_a_stored_session_key_each_complete(db: Database, shop):
    """SSLCommerz's validation answer names no session key: two such checkouts must not both be given an empty
    gateway id (the unique index would refuse the second, and its paid money would never be recorded)."""
    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        dashboard = await client.get(f"/portal/{tenant.slug}/")
        again = await client.post(
            f"/portal/{tenant.slug}/pay", data={"provider": "sslcommerz", "_csrf_token": csrf_from(dashboard.text)}
        )
        assert again.status_code == 200, again.text[:300]
        await _forget_gateway_refs(db, tenant)
        for key in list(peer.sessions):  # the customer pays both at the gateway
            url, posted = peer.pay(key)
            assert (await client.post(_local(url), data=posted)).status_code == 303
        rows = await _one(
            db,
            tenant,
            "SELECT count(*) FILTER (WHERE status = 'completed') AS completed, count(gateway_ref) AS refs,"
            " (SELECT count(*) FROM payment) AS payments FROM online_payment",
        )
        assert (rows["completed"], rows["refs"], rows["payments"]) == (2, 0, 2)


async def test_the_recheck_finds_a_paid_sslcommerz_checkout_without_its_session_key(db: Database, shop):
    """SSLCommerz's transaction query asks by our reference: a checkout whose session key was never stored and
    whose notices were all lost is still captured."""
    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        key = await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        await _forget_gateway_refs(db, tenant)
        peer.pay(key)  # the browser never comes back, no IPN
        assert (await _recheck(db, tenant, peer))["completed"] == 1
        assert await _counts(db, tenant) == (1, "completed", "active")


async def test_an_sslcommerz_val_id_that_is_not_ours_closes_nothing(db: Database, shop):
    """A return carrying a val_id SSLCommerz does not know (made up, or another payment's failure) is no answer
    about our checkout: it stays pending, and paying afterwards is recorded."""
    async with SslcommerzPeer() as peer:
        tenant, client = await shop(Provider.SSLCOMMERZ, peer)
        key = await _start(client, tenant, Provider.SSLCOMMERZ, peer)
        url = peer.sessions[key].urls["success_url"]
        forged = await client.post(_local(url), data={"tran_id": peer.sessions[key].tran_id, "val_id": "0000bogus"})
        assert forged.status_code == 303
        assert await _counts(db, tenant) == (0, "pending", "suspended")
        url, posted = peer.pay(key)
        assert (await client.post(_local(url), data=posted)).status_code == 303
        assert await _counts(db, tenant) == (1, "completed", "active")


async def test_a_failure_about_an_id_only_the_browser_named_closes_nothing(db: Database, shop):
    """Our checkout's Stripe session id was never stored and the way back names another, expired session: that
    answer is not about ours, which stays pending and is recorded once paid."""
    async with StripePeer() as peer:
        tenant, client = await shop(Provider.STRIPE, peer)
        ours = await _start(client, tenant, Provider.STRIPE, peer)
        dashboard = await client.get(f"/portal/{tenant.slug}/")
        again = await client.post(
            f"/portal/{tenant.slug}/pay", data={"provider": "stripe", "_csrf_token": csrf_from(dashboard.text)}
        )
        assert again.status_code == 200, again.text[:300]
        [other] = [session for session in peer.sessions if session != ours]
        peer.expire(other)
        await _forget_gateway_refs(db, tenant)
        back = peer.sessions[ours]["success_url"].replace("{CHECKOUT_SESSION_ID}", other)
        assert (await client.get(_local(back))).status_code == 303
        first = await _one(
            db, tenant, "SELECT status FROM online_payment WHERE merchant_ref = $1",
            peer.sessions[ours]["client_reference_id"],
        )  # fmt: skip
        assert first["status"] == "pending"
        assert (await client.get(_local(peer.pay(ours)))).status_code == 303
        paid = await _one(
            db, tenant, "SELECT o.status, p.reference FROM online_payment o JOIN payment p ON p.id = o.payment_id"
        )
        assert (paid["status"], paid["reference"]) == ("completed", peer.sessions[ours]["payment_intent"])
