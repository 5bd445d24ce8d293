-- SMS credit bought online (issue 17): operators pay the platform through the platform's own gateway account
-- and their tenant.sms_credit rises once per paid purchase. Same rules as a customer's online payment: the
-- purchase is credited only after the gateway confirmed it server to server, one credit per gateway
-- transaction (unique keys), rechecked every 2 hours (payments.recheck_sms_purchases) until it ends.

-- The platform's gateway accounts (the shape of a tenant's payment_gateway; sealed for tenant id 0).
CREATE TABLE payment_gateway (
    provider        text PRIMARY KEY CHECK (provider IN ('bkash', 'nagad', 'sslcommerz', 'stripe')),
    enabled         boolean NOT NULL DEFAULT false,
    mode            text NOT NULL DEFAULT 'sandbox' CHECK (mode IN ('sandbox', 'live')),
    base_url        text NOT NULL DEFAULT '',
    merchant_id     text NOT NULL DEFAULT '',
    secret_sealed   text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- What an operator can buy: a number of SMS segments for a price.
CREATE TABLE sms_credit_pack (
    id              serial PRIMARY KEY,
    segments        integer NOT NULL CHECK (segments > 0),
    price_minor     bigint NOT NULL CHECK (price_minor > 0),
    currency        text NOT NULL DEFAULT 'BDT' CHECK (length(currency) = 3),
    active          boolean NOT NULL DEFAULT true,
    UNIQUE (segments, currency)
);
INSERT INTO sms_credit_pack (segments, price_minor) VALUES (1000, 35000), (5000, 165000), (20000, 600000);

CREATE TABLE sms_credit_purchase (
    id              bigserial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    provider        text NOT NULL CHECK (provider IN ('bkash', 'nagad', 'sslcommerz', 'stripe')),
    segments        integer NOT NULL CHECK (segments > 0),
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        text NOT NULL CHECK (length(currency) = 3),
    merchant_ref    text NOT NULL UNIQUE CHECK (length(merchant_ref) >= 16),
    gateway_ref     text,
    transaction_id  text,
    status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'completed', 'failed', 'expired', 'refused')),
    bought_by       text NOT NULL,
    last_answer     text NOT NULL DEFAULT '',
    checks          integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    checked_at      timestamptz,
    closed_at       timestamptz,
    CHECK ((status = 'completed') = (transaction_id IS NOT NULL)),
    CHECK (status = 'pending' OR closed_at IS NOT NULL)
);
CREATE UNIQUE INDEX sms_credit_purchase_gateway_ref ON sms_credit_purchase (provider, gateway_ref)
    WHERE gateway_ref IS NOT NULL;
CREATE UNIQUE INDEX sms_credit_purchase_transaction ON sms_credit_purchase (provider, transaction_id)
    WHERE transaction_id IS NOT NULL;
CREATE INDEX sms_credit_purchase_pending_idx ON sms_credit_purchase (created_at) WHERE status = 'pending';
CREATE INDEX sms_credit_purchase_tenant_idx ON sms_credit_purchase (tenant_id, created_at DESC);
