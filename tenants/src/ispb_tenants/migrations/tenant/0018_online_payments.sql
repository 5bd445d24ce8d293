-- Online payments (issue 17): the operator's payment gateway accounts and every checkout a customer starts.
-- A checkout is recorded as a payment once, and only after the gateway confirmed it server to server: the
-- unique keys below make a callback and a recheck that race (or a callback delivered twice) credit once.

-- One row per provider the operator has set up. Credentials (keys, secrets, passwords) are one JSON object
-- sealed with the secrets box (purpose payments.gateway_secret, row = provider); the rest is plain.
CREATE TABLE payment_gateway (
    provider        text PRIMARY KEY CHECK (provider IN ('bkash', 'nagad', 'sslcommerz', 'stripe')),
    enabled         boolean NOT NULL DEFAULT false,
    mode            text NOT NULL DEFAULT 'sandbox' CHECK (mode IN ('sandbox', 'live')),
    -- empty: the provider's published address for the mode; set: a test peer or a regional endpoint
    base_url        text NOT NULL DEFAULT '',
    -- the public part of the account (bKash app key, Nagad merchant id, store id, Stripe account): shown
    merchant_id     text NOT NULL DEFAULT '',
    secret_sealed   text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A checkout: what we asked the gateway for (amount, currency, our merchant reference) and what it answered.
CREATE TABLE online_payment (
    id              bigserial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    provider        text NOT NULL CHECK (provider IN ('bkash', 'nagad', 'sslcommerz', 'stripe')),
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        text NOT NULL CHECK (length(currency) = 3),
    -- ours, sent as the gateway's invoice/order number and used in the result page's address (unguessable)
    merchant_ref    text NOT NULL UNIQUE CHECK (length(merchant_ref) >= 16),
    -- the gateway's id of the checkout (bKash paymentID, Nagad paymentReferenceId, SSLCommerz sessionkey, ...)
    gateway_ref     text,
    -- the gateway's transaction id once paid (bKash trxID, ...): one payment per gateway transaction
    transaction_id  text,
    status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'completed', 'failed', 'expired', 'refused')),
    payment_id      bigint UNIQUE REFERENCES payment (id) ON DELETE RESTRICT,
    origin          text NOT NULL CHECK (origin IN ('portal', 'suspension')),
    -- the gateway's last answer about this checkout, in words (what the recheck saw, why it was refused)
    last_answer     text NOT NULL DEFAULT '',
    checks          integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    checked_at      timestamptz,
    closed_at       timestamptz,
    CHECK ((status = 'completed') = (payment_id IS NOT NULL)),
    CHECK (status = 'pending' OR closed_at IS NOT NULL)
);
CREATE UNIQUE INDEX online_payment_gateway_ref ON online_payment (provider, gateway_ref) WHERE gateway_ref IS NOT NULL;
CREATE UNIQUE INDEX online_payment_transaction ON online_payment (provider, transaction_id)
    WHERE transaction_id IS NOT NULL;
CREATE INDEX online_payment_pending_idx ON online_payment (created_at) WHERE status = 'pending';
CREATE INDEX online_payment_customer_idx ON online_payment (customer_id, created_at DESC);
