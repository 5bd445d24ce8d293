-- Operator subscriptions (issue 18): the platform bills its own operators. Plans with customer-count tiers and
-- an SMS price per segment, each operator on a plan, a daily history of customer counts (the basis of billing),
-- subscription bills (gap-free numbers, immutable once issued, corrected by credit notes), their lines and
-- payments, online checkouts through the platform's gateway accounts, and SMS usage recorded once per message.
-- Money: amounts on bills are bigint minor units of the platform's currency (as every other bill); unit prices
-- (a tier's price, a price per customer or per SMS segment) are numeric, since 0.35 per segment is common.

-- Who issues subscription bills and how they fall due (one row).
CREATE TABLE subscription_settings (
    id              integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    issuer_name     text NOT NULL DEFAULT 'ISPB Platform' CHECK (length(trim(issuer_name)) > 0),
    issuer_address  text NOT NULL DEFAULT '',
    issuer_phone    text NOT NULL DEFAULT '',
    issuer_email    text NOT NULL DEFAULT '',
    currency        text NOT NULL DEFAULT 'BDT' CHECK (currency ~ '^[A-Z]{3}$'),
    -- bills are issued on the 2nd, due on due_day, and an operator with a bill unpaid on lock_day is locked
    due_day         integer NOT NULL DEFAULT 10 CHECK (due_day BETWEEN 2 AND 28),
    lock_day        integer NOT NULL DEFAULT 20 CHECK (lock_day BETWEEN 2 AND 28),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (lock_day >= due_day)
);
INSERT INTO subscription_settings DEFAULT VALUES;

CREATE TABLE subscription_plan (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    -- 'tier': the tier's price is the month's price; 'per_customer': active customers x the tier's price
    pricing         text NOT NULL DEFAULT 'tier' CHECK (pricing IN ('tier', 'per_customer')),
    sms_price       numeric(12, 4) NOT NULL DEFAULT 0 CHECK (sms_price >= 0),
    trial_days      integer NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 365),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A plan's tiers: "up to 200 active customers", "up to 500", "more" (up_to NULL). A count falls in the tier
-- with the smallest up_to at or above it.
CREATE TABLE subscription_tier (
    id              serial PRIMARY KEY,
    plan_id         integer NOT NULL REFERENCES subscription_plan (id) ON DELETE CASCADE,
    up_to           integer CHECK (up_to > 0),
    price           numeric(14, 4) NOT NULL CHECK (price >= 0)
);
CREATE UNIQUE INDEX subscription_tier_bound ON subscription_tier (plan_id, coalesce(up_to, 2147483647));

-- An operator on a plan. locked_at: the operator's panel is locked for an unpaid bill (subscription.suspend_unpaid),
-- which is not tenant.status = 'suspended' (the platform admin's manual suspension, which closes everything).
CREATE TABLE tenant_subscription (
    id              serial PRIMARY KEY,
    tenant_id       integer NOT NULL UNIQUE REFERENCES tenant (id) ON DELETE CASCADE,
    plan_id         integer NOT NULL REFERENCES subscription_plan (id) ON DELETE RESTRICT,
    started_on      date NOT NULL,
    trial_ends_on   date,
    -- 'prepaid': messages draw on tenant.sms_credit as they are sent; 'postpaid': they are billed every 6 hours
    sms_billing     text NOT NULL DEFAULT 'prepaid' CHECK (sms_billing IN ('prepaid', 'postpaid')),
    locked_at       timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (trial_ends_on IS NULL OR trial_ends_on >= started_on)
);
CREATE INDEX tenant_subscription_locked_idx ON tenant_subscription (tenant_id) WHERE locked_at IS NOT NULL;

-- reports.customer_counts: one row per operator and day (the basis of billing and of the customers chart).
CREATE TABLE customer_count (
    id              bigserial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    counted_on      date NOT NULL,
    active          integer NOT NULL CHECK (active >= 0),
    suspended       integer NOT NULL CHECK (suspended >= 0),
    disabled        integer NOT NULL CHECK (disabled >= 0),
    counted_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, counted_on)
);
CREATE INDEX customer_count_day_idx ON customer_count (counted_on);

-- Gap-free numbers per series and year (SUB-2026-000001 for bills, SCN-2026-000001 for credit notes): the
-- counter row is locked by the issuing transaction, so a rollback gives its numbers back.
CREATE TABLE subscription_counter (
    id              serial PRIMARY KEY,
    series          text NOT NULL CHECK (series IN ('SUB', 'SCN')),
    year            integer NOT NULL,
    last_number     integer NOT NULL CHECK (last_number >= 0),
    UNIQUE (series, year)
);

-- Subscription and SMS bills and their credit notes. An SMS bill stays a 'draft' (no number, lines still added
-- by subscription.bill_sms) until its month ends; every other status is an issued document.
CREATE TABLE subscription_bill (
    id              bigserial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('subscription', 'sms', 'credit_note')),
    number          text UNIQUE,
    status          text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'issued')),
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    issue_date      date,
    due_date        date,
    lock_on         date,
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor     bigint NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    paid_minor      bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    reverses_bill_id bigint REFERENCES subscription_bill (id) ON DELETE CASCADE,
    note            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end >= period_start),
    CHECK ((status = 'draft') = (number IS NULL)),
    CHECK (status = 'draft' OR issue_date IS NOT NULL),
    CHECK (kind = 'credit_note' OR status = 'draft' OR (due_date IS NOT NULL AND lock_on IS NOT NULL)),
    CHECK ((kind = 'credit_note') = (reverses_bill_id IS NOT NULL)),
    CHECK ((kind = 'credit_note') = (status = 'issued')),
    CHECK (status <> 'draft' OR kind = 'sms'),
    CHECK (kind = 'credit_note' OR paid_minor <= total_minor)
);
-- one subscription bill and one SMS bill per operator and month (a voided one may be billed again)
CREATE UNIQUE INDEX subscription_bill_one_per_month ON subscription_bill (tenant_id, kind, period_start)
    WHERE kind <> 'credit_note' AND status <> 'void';
CREATE INDEX subscription_bill_tenant_idx ON subscription_bill (tenant_id, period_start DESC, id DESC);
CREATE INDEX subscription_bill_unpaid_idx ON subscription_bill (lock_on, tenant_id) WHERE status = 'open';

CREATE TABLE subscription_bill_line (
    id              bigserial PRIMARY KEY,
    bill_id         bigint NOT NULL REFERENCES subscription_bill (id) ON DELETE CASCADE,
    description     text NOT NULL,
    quantity        numeric(14, 4) NOT NULL,
    unit_price      numeric(14, 4) NOT NULL,
    amount_minor    bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_bill_line_bill_idx ON subscription_bill_line (bill_id, id);

-- Issued bills are immutable: only the paid amount, the status and updated_at change; never a delete (except
-- with their operator: `ispb tenants drop` deletes the tenant row, and its documents go with it).
-- Drafts (an SMS bill of the running month) change freely until issued.
CREATE FUNCTION subscription_bill_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'draft' OR (TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM platform.tenant WHERE id = OLD.tenant_id)) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'issued bill % cannot be deleted; issue a credit note', OLD.number;
    END IF;
    IF (NEW.tenant_id, NEW.kind, NEW.number, NEW.period_start, NEW.period_end, NEW.issue_date, NEW.due_date,
        NEW.lock_on, NEW.currency, NEW.total_minor, NEW.reverses_bill_id, NEW.note, NEW.created_at)
       IS DISTINCT FROM
       (OLD.tenant_id, OLD.kind, OLD.number, OLD.period_start, OLD.period_end, OLD.issue_date, OLD.due_date,
        OLD.lock_on, OLD.currency, OLD.total_minor, OLD.reverses_bill_id, OLD.note, OLD.created_at) THEN
        RAISE EXCEPTION 'issued bill % cannot be edited; issue a credit note', OLD.number;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER subscription_bill_immutable BEFORE UPDATE OR DELETE ON subscription_bill
    FOR EACH ROW EXECUTE FUNCTION subscription_bill_guard();

-- Lines change only while their bill is a draft, or are written by the transaction that issues the bill.
CREATE FUNCTION subscription_bill_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bill record;
BEGIN
    SELECT status, number, created_at INTO bill FROM platform.subscription_bill
    WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.bill_id ELSE OLD.bill_id END;
    IF bill.status IS NOT NULL AND bill.status <> 'draft' AND NOT (TG_OP = 'INSERT' AND bill.created_at = now()) THEN
        RAISE EXCEPTION 'lines of issued bill % cannot be changed; issue a credit note', bill.number;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER subscription_bill_line_immutable BEFORE INSERT OR UPDATE OR DELETE ON subscription_bill_line
    FOR EACH ROW EXECUTE FUNCTION subscription_bill_line_guard();

-- A payment of one bill: recorded by the platform admin, or a checkout the platform's gateway confirmed
-- (one payment per gateway transaction).
CREATE TABLE subscription_payment (
    id              bigserial PRIMARY KEY,
    bill_id         bigint NOT NULL REFERENCES subscription_bill (id) ON DELETE CASCADE,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    method          text NOT NULL CHECK (method IN ('cash', 'bank', 'bkash', 'nagad', 'sslcommerz', 'stripe', 'other')),
    reference       text NOT NULL DEFAULT '',
    paid_on         date NOT NULL,
    recorded_by     text NOT NULL,
    transaction_id  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (method, transaction_id)
);
CREATE INDEX subscription_payment_bill_idx ON subscription_payment (bill_id);
CREATE INDEX subscription_payment_tenant_idx ON subscription_payment (tenant_id, created_at DESC);

CREATE FUNCTION subscription_payment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM platform.tenant WHERE id = OLD.tenant_id) THEN
        RETURN OLD;  -- the operator itself is being deleted
    END IF;
    RAISE EXCEPTION 'recorded subscription payment % cannot be changed or deleted', OLD.id;
END $$;
CREATE TRIGGER subscription_payment_immutable BEFORE UPDATE OR DELETE ON subscription_payment
    FOR EACH ROW EXECUTE FUNCTION subscription_payment_guard();

-- An operator paying a bill online through the platform's gateway account (the shape of sms_credit_purchase).
CREATE TABLE subscription_checkout (
    id              bigserial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    bill_id         bigint NOT NULL REFERENCES subscription_bill (id) ON DELETE CASCADE,
    provider        text NOT NULL CHECK (provider IN ('bkash', 'nagad', 'sslcommerz', 'stripe')),
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    merchant_ref    text NOT NULL UNIQUE CHECK (length(merchant_ref) >= 16),
    gateway_ref     text,
    transaction_id  text,
    status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'completed', 'failed', 'expired', 'refused')),
    started_by      text NOT NULL,
    last_answer     text NOT NULL DEFAULT '',
    checks          integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    checked_at      timestamptz,
    closed_at       timestamptz,
    CHECK ((status = 'completed') = (transaction_id IS NOT NULL)),
    CHECK (status = 'pending' OR closed_at IS NOT NULL)
);
CREATE UNIQUE INDEX subscription_checkout_transaction ON subscription_checkout (provider, transaction_id)
    WHERE transaction_id IS NOT NULL;
CREATE INDEX subscription_checkout_pending_idx ON subscription_checkout (created_at) WHERE status = 'pending';

-- SMS usage, one row per sent message (the operator's outbox id): the primary key is what bills each message
-- exactly once, whatever runs concurrently. The cursor is the lowest outbox id that may still be sent.
CREATE TABLE sms_usage (
    id              bigserial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    outbox_id       bigint NOT NULL,
    segments        integer NOT NULL CHECK (segments > 0),
    sent_at         timestamptz NOT NULL,
    billed_as       text NOT NULL CHECK (billed_as IN ('prepaid', 'postpaid')),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, outbox_id)
);
CREATE INDEX sms_usage_month_idx ON sms_usage (sent_at, tenant_id);

CREATE TABLE sms_usage_cursor (
    id              serial PRIMARY KEY,
    tenant_id       integer NOT NULL UNIQUE REFERENCES tenant (id) ON DELETE CASCADE,
    scan_from_id    bigint NOT NULL DEFAULT 0,
    scanned_at      timestamptz NOT NULL DEFAULT now()
);

-- SMS per operator and month, kept by subscription.bill_sms in the statement that records the messages: the
-- admin console's SMS chart reads these few rows, never the per-message records.
CREATE TABLE sms_usage_month (
    id              serial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    billed_as       text NOT NULL CHECK (billed_as IN ('prepaid', 'postpaid')),
    messages        integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
    segments        integer NOT NULL DEFAULT 0 CHECK (segments >= 0),
    UNIQUE (tenant_id, month, billed_as)
);
