-- Billing (DESIGN 4, 10): bills with lines, payments and their allocation to bills, the customer ledger (a view),
-- gap-free invoice numbers, discounts, pending adjustments, parked customers and domain events.
-- Money is bigint minor units of the tenant's currency. Issued bills are immutable: a trigger allows only the
-- paid amount and the status to change; corrections are credit notes.

ALTER TABLE billing_profile
    ADD COLUMN prorata text NOT NULL DEFAULT 'daily' CHECK (prorata IN ('none', 'daily')),
    -- suspend on this day of the month instead of due date + grace days (NULL: use grace days)
    ADD COLUMN suspend_day integer CHECK (suspend_day BETWEEN 1 AND 28),
    -- DESIGN 11: billing a suspended customer is an explicit choice of the profile, shown on the bill page
    ADD COLUMN bill_suspended boolean NOT NULL DEFAULT false;

-- A customer's billing state, apart from the wide and heavily indexed customer row: the bill job and every
-- payment update it, and a narrow row with room on its page (fillfactor) keeps those updates cheap (HOT).
CREATE TABLE customer_account (
    customer_id     integer PRIMARY KEY REFERENCES customer (id) ON DELETE CASCADE,
    -- the end of the last period billed (NULL: never billed); the bill job's cursor, moved in the bill's transaction
    billed_through  date,
    -- ledger balance cache: debits minus credits, kept in the same transaction as every ledger entry;
    -- positive = the customer owes, negative = advance credit. Reconciled against ledger_entry by tests.
    balance_minor   bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 70);

-- Gap-free numbers per series and year (INV-2026-000123, CN-2026-000001): the counter row is locked by the
-- issuing transaction, so a rollback gives the number back (a sequence would leave a gap).
CREATE TABLE invoice_counter (
    series          text NOT NULL CHECK (series IN ('INV', 'CN')),
    year            integer NOT NULL,
    last_number     integer NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (series, year)
);

CREATE TABLE bill (
    id                  bigserial PRIMARY KEY,
    customer_id         integer NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    kind                text NOT NULL DEFAULT 'invoice' CHECK (kind IN ('invoice', 'credit_note')),
    number              text NOT NULL UNIQUE,
    period_start        date NOT NULL,
    period_end          date NOT NULL CHECK (period_end >= period_start),
    issue_date          date NOT NULL,
    due_date            date NOT NULL CHECK (due_date >= issue_date),
    currency            text NOT NULL CHECK (length(currency) = 3),
    net_minor           bigint NOT NULL,
    vat_minor           bigint NOT NULL,
    total_minor         bigint NOT NULL CHECK (total_minor = net_minor + vat_minor),
    -- invoices: paid by payments, advance credit or its credit note; credit notes: 0
    paid_minor          bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void', 'issued')),
    package_id          integer REFERENCES package (id) ON DELETE RESTRICT,
    package_name        text NOT NULL DEFAULT '',
    prorata             text NOT NULL DEFAULT 'none',
    reverses_bill_id    bigint UNIQUE REFERENCES bill (id) ON DELETE RESTRICT,
    note                text NOT NULL DEFAULT '',
    created_by          text NOT NULL DEFAULT 'system',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'credit_note') = (reverses_bill_id IS NOT NULL)),
    CHECK (kind = 'credit_note' OR paid_minor <= total_minor),
    CHECK ((kind = 'credit_note') = (status = 'issued'))
);
-- One bill per customer and period (DESIGN 3): the job can run twice, or on two workers, and bill once.
-- A voided invoice frees its period for a corrected invoice issued by hand.
CREATE UNIQUE INDEX bill_one_per_period ON bill (customer_id, period_start)
    WHERE kind = 'invoice' AND status <> 'void';
CREATE INDEX bill_customer_idx ON bill (customer_id, issue_date DESC);
CREATE INDEX bill_period_idx ON bill (period_start, status);
CREATE INDEX bill_open_idx ON bill (customer_id, due_date) WHERE status = 'open';

CREATE TABLE bill_line (
    bill_id         bigint NOT NULL REFERENCES bill (id) ON DELETE RESTRICT,
    position        integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('package', 'prorata_credit', 'discount', 'adjustment', 'reversal')),
    description     text NOT NULL,
    net_minor       bigint NOT NULL,
    vat_rate_bp     integer NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
    vat_minor       bigint NOT NULL,
    PRIMARY KEY (bill_id, position)
);

CREATE TABLE payment (
    id              bigserial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    received_on     date NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        text NOT NULL CHECK (length(currency) = 3),
    method          text NOT NULL CHECK (method IN ('cash', 'bank', 'mobile_money', 'gateway')),
    reference       text NOT NULL DEFAULT '',
    note            text NOT NULL DEFAULT '',
    received_by     text NOT NULL,
    -- the part not (or no longer) allocated to bills: the customer's advance credit, used by advance_debit
    unapplied_minor bigint NOT NULL CHECK (unapplied_minor >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (unapplied_minor <= amount_minor)
);
CREATE INDEX payment_unapplied_idx ON payment (customer_id, received_on) WHERE unapplied_minor > 0;
-- A bank or mobile-money transaction is recorded once: the same reference twice is refused, not doubled.
CREATE UNIQUE INDEX payment_reference_once ON payment (method, reference) WHERE reference <> '';
CREATE INDEX payment_customer_idx ON payment (customer_id, received_on DESC);
CREATE INDEX payment_received_idx ON payment (received_on);

-- Which payment (or credit note) paid which bill, and how much. Released (never deleted) when a paid invoice
-- is voided: the money goes back to the customer's advance credit.
CREATE TABLE payment_allocation (
    id              bigserial PRIMARY KEY,
    bill_id         bigint NOT NULL REFERENCES bill (id) ON DELETE RESTRICT,
    payment_id      bigint REFERENCES payment (id) ON DELETE RESTRICT,
    credit_note_id  bigint REFERENCES bill (id) ON DELETE RESTRICT,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    source          text NOT NULL CHECK (source IN ('payment', 'advance_debit', 'credit_note')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    released_at     timestamptz,
    CHECK ((payment_id IS NULL) <> (credit_note_id IS NULL))
);
CREATE INDEX payment_allocation_bill_idx ON payment_allocation (bill_id);
CREATE INDEX payment_allocation_payment_idx ON payment_allocation (payment_id) WHERE released_at IS NULL;

-- Discounts per customer, applied by the bill job to periods starting within [starts, ends].
CREATE TABLE customer_discount (
    id              serial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    label           text NOT NULL CHECK (length(trim(label)) > 0),
    percent_bp      integer CHECK (percent_bp BETWEEN 1 AND 10000),
    amount_minor    bigint CHECK (amount_minor > 0),
    starts          date,
    ends            date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((percent_bp IS NULL) <> (amount_minor IS NULL)),
    CHECK (ends IS NULL OR starts IS NULL OR ends >= starts)
);
CREATE INDEX customer_discount_customer_idx ON customer_discount (customer_id);

-- Charges and credits waiting for the customer's next bill (e.g. a mid-cycle package change).
CREATE TABLE bill_adjustment (
    id              bigserial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE RESTRICT,
    description     text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor <> 0),
    vat_rate_bp     integer NOT NULL DEFAULT 0 CHECK (vat_rate_bp BETWEEN 0 AND 10000),
    kind            text NOT NULL DEFAULT 'adjustment' CHECK (kind IN ('adjustment', 'prorata_credit')),
    billed_bill_id  bigint REFERENCES bill (id) ON DELETE RESTRICT,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bill_adjustment_pending_idx ON bill_adjustment (customer_id) WHERE billed_bill_id IS NULL;

-- Customers the bill job refused to bill because the result looked wrong (DESIGN 10, "parked accounts").
CREATE TABLE billing_parked (
    id              bigserial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    period_start    date NOT NULL,
    reason          text NOT NULL,
    parked_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    UNIQUE (customer_id, period_start)
);

-- Domain events written in the business transaction (DESIGN 3 outbox); later work (notifications,
-- auto-activation) consumes them.
CREATE TABLE domain_event (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    customer_id     integer REFERENCES customer (id) ON DELETE CASCADE,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_event_name_idx ON domain_event (name, id);

-- Issued bills are immutable (DESIGN 10): only paid_minor, status and updated_at may change, status only along
-- open <-> paid and open/paid -> void. Lines, ledger entries and allocations' amounts never change.
CREATE FUNCTION bill_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'issued bill % cannot be deleted; issue a credit note', OLD.number;
    END IF;
    IF (NEW.customer_id, NEW.kind, NEW.number, NEW.period_start, NEW.period_end, NEW.issue_date, NEW.due_date,
        NEW.currency, NEW.net_minor, NEW.vat_minor, NEW.total_minor, NEW.package_id, NEW.package_name,
        NEW.reverses_bill_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.customer_id, OLD.kind, OLD.number, OLD.period_start, OLD.period_end, OLD.issue_date, OLD.due_date,
        OLD.currency, OLD.net_minor, OLD.vat_minor, OLD.total_minor, OLD.package_id, OLD.package_name,
        OLD.reverses_bill_id, OLD.created_at) THEN
        RAISE EXCEPTION 'issued bill % cannot be edited; issue a credit note', OLD.number;
    END IF;
    IF OLD.status = 'void' AND NEW.status <> 'void' THEN
        RAISE EXCEPTION 'void bill % cannot be reopened', OLD.number;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bill_immutable BEFORE UPDATE OR DELETE ON bill FOR EACH ROW EXECUTE FUNCTION bill_guard();

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never changed or deleted', TG_TABLE_NAME;
END $$;
CREATE TRIGGER bill_line_append_only BEFORE UPDATE OR DELETE ON bill_line
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- A payment is a fact: only the part not yet allocated to bills may change.
CREATE FUNCTION payment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (NEW.customer_id, NEW.received_on, NEW.amount_minor, NEW.currency, NEW.method,
        NEW.reference, NEW.received_by, NEW.created_at) IS DISTINCT FROM (OLD.customer_id, OLD.received_on,
        OLD.amount_minor, OLD.currency, OLD.method, OLD.reference, OLD.received_by, OLD.created_at) THEN
        RAISE EXCEPTION 'recorded payment % cannot be changed or deleted', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payment_immutable BEFORE UPDATE OR DELETE ON payment FOR EACH ROW EXECUTE FUNCTION payment_guard();

-- The customer's ledger (DESIGN 4): derived from the documents themselves, which are immutable, so it can
-- neither drift from them nor be edited. Invoices debit; payments and credit notes credit.
-- customer_account.balance_minor caches its sum per customer; tests reconcile the two.
CREATE VIEW ledger_entry AS
    SELECT b.customer_id, b.issue_date AS on_date, b.created_at,
           CASE WHEN b.kind = 'invoice' THEN 'debit' ELSE 'credit' END AS kind,
           b.total_minor AS amount_minor, b.id AS bill_id, NULL::bigint AS payment_id,
           CASE WHEN b.kind = 'invoice' THEN 'Bill ' || b.number || ' for ' || b.period_start || ' – ' || b.period_end
                ELSE 'Credit note ' || b.number END AS description
    FROM bill b WHERE b.total_minor > 0
    UNION ALL
    SELECT p.customer_id, p.received_on, p.created_at, 'credit', p.amount_minor, NULL, p.id,
           'Payment (' || replace(p.method, '_', ' ') || CASE WHEN p.reference <> '' THEN ', ' || p.reference ELSE '' END
           || ')'
    FROM payment p;
