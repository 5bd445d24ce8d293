-- The operator panel: package details, billing profiles, customer portal passwords.

ALTER TABLE package
    ADD COLUMN vat_rate_bp integer NOT NULL DEFAULT 0 CHECK (vat_rate_bp BETWEEN 0 AND 10000),
    ADD COLUMN vat_inclusive boolean NOT NULL DEFAULT false,
    ADD COLUMN data_allowance_mb bigint CHECK (data_allowance_mb IS NULL OR data_allowance_mb > 0),
    ADD COLUMN fup_download_kbps integer CHECK (fup_download_kbps IS NULL OR fup_download_kbps > 0),
    ADD COLUMN fup_upload_kbps integer CHECK (fup_upload_kbps IS NULL OR fup_upload_kbps > 0),
    ADD CONSTRAINT package_fup_needs_allowance
        CHECK ((fup_download_kbps IS NULL AND fup_upload_kbps IS NULL) OR data_allowance_mb IS NOT NULL);
COMMENT ON COLUMN package.vat_rate_bp IS 'VAT rate in basis points: 1500 = 15.00 %';

-- How and when a group of customers is billed, reminded and suspended.
CREATE TABLE billing_profile (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    cycle           text NOT NULL DEFAULT 'monthly' CHECK (cycle IN ('monthly', 'daily')),
    -- monthly: the day bills are issued; 29-31 fall on the month's last day in shorter months
    billing_day     integer NOT NULL DEFAULT 1 CHECK (billing_day BETWEEN 1 AND 31),
    due_days        integer NOT NULL DEFAULT 7 CHECK (due_days BETWEEN 0 AND 90),
    grace_days      integer NOT NULL DEFAULT 3 CHECK (grace_days BETWEEN 0 AND 90),
    auto_suspend    boolean NOT NULL DEFAULT true,
    auto_activate   boolean NOT NULL DEFAULT true,
    is_default      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX billing_profile_one_default ON billing_profile (is_default) WHERE is_default;
INSERT INTO billing_profile (name, is_default) VALUES ('Standard monthly', true);

ALTER TABLE customer
    ADD COLUMN billing_profile_id integer REFERENCES billing_profile (id) ON DELETE RESTRICT,
    ADD COLUMN password_hash text;

-- Live search: word-prefix matching over name, customer id, phone (international and local 0-form) and PPPoE
-- username, with a GIN index. Built in (no pg_trgm: the embedded PostgreSQL does not ship it).
ALTER TABLE customer ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple',
        coalesce(name, '') || ' ' || coalesce(code, '') || ' ' || coalesce(phone, '') || ' ' ||
        coalesce('0' || right(phone, 10), '') || ' ' || coalesce(pppoe_username, '') || ' ' ||
        coalesce(email, ''))
) STORED;
CREATE INDEX customer_search_idx ON customer USING gin (search);
CREATE INDEX customer_created_idx ON customer (id DESC);
CREATE INDEX activity_log_object_idx ON activity_log (object_type, object_id);
