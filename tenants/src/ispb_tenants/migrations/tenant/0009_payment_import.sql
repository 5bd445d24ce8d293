-- Bank and mobile-money statement import (issue 12): a payment's reference is recorded once per operator, and
-- an uploaded statement is kept, line by line with each line's verdict, between its preview and its confirmation.

-- The reference as a transaction id is compared: spaces dropped, letters in upper case. "8n7a 6b5c" typed by hand
-- and "8N7A6B5C" in a bKash export are the same transaction. One function, used by the unique index, the import's
-- duplicate checks and its ON CONFLICT, so the checks and the guard can never disagree.
CREATE FUNCTION payment_reference_key(reference text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN upper(regexp_replace(reference, '\s+', '', 'g'));

-- Existing payments that the stricter rule would call the same transaction must be looked at by a person: the
-- migration stops and says which (a silent rename would hide a double recording).
DO $$
DECLARE
    clash text;
BEGIN
    SELECT string_agg(DISTINCT payment_reference_key(reference), ', ') INTO clash
    FROM (SELECT reference, count(*) OVER (PARTITION BY payment_reference_key(reference)) AS n
          FROM payment WHERE reference <> '') p
    WHERE n > 1;
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'payments share a transaction reference (%); give all but one a distinct reference first', clash;
    END IF;
END $$;

-- Was (method, reference): the same bKash transaction id recorded once as "mobile money" and again as "bank" (or by a
-- gateway) is still one transaction. Every tenant schema is its own operator, so this is per operator.
DROP INDEX payment_reference_once;
CREATE UNIQUE INDEX payment_reference_once ON payment (payment_reference_key(reference)) WHERE reference <> '';

-- One uploaded statement. Its counts are the preview's verdicts, then (status 'confirmed') what was recorded.
CREATE TABLE payment_import (
    id              bigserial PRIMARY KEY,
    file_name       text NOT NULL,
    file_sha256     text NOT NULL CHECK (length(file_sha256) = 64),
    -- what a line without its own method or date column gets (chosen on the upload form)
    default_method  text NOT NULL CHECK (default_method IN ('cash', 'bank', 'mobile_money')),
    default_date    date NOT NULL,
    currency        text NOT NULL CHECK (length(currency) = 3),
    status          text NOT NULL DEFAULT 'preview' CHECK (status IN ('preview', 'confirmed')),
    lines           integer NOT NULL DEFAULT 0,
    ready           integer NOT NULL DEFAULT 0,
    duplicate       integer NOT NULL DEFAULT 0,
    unknown_customer integer NOT NULL DEFAULT 0,
    invalid         integer NOT NULL DEFAULT 0,
    ready_minor     bigint NOT NULL DEFAULT 0,
    recorded        integer NOT NULL DEFAULT 0,
    recorded_minor  bigint NOT NULL DEFAULT 0,
    -- the header row as read (re-written as CSV): the refused lines are handed back under it, to fix and upload
    header          text NOT NULL DEFAULT '',
    ignored_columns text NOT NULL DEFAULT '',
    uploaded_by     text NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    confirmed_by    text,
    confirmed_at    timestamptz,
    CHECK ((status = 'confirmed') = (confirmed_at IS NOT NULL))
);
CREATE INDEX payment_import_uploaded_idx ON payment_import (uploaded_at DESC);

-- Every line of the statement, as read and as judged: nothing the operator uploaded is lost, a refused line keeps
-- its text and its reason. 'ready' lines are recorded on confirmation; a ready line that turns out recorded
-- meanwhile (another import, a payment at the counter) becomes 'duplicate' then, with its reason.
CREATE TABLE payment_import_line (
    import_id       bigint NOT NULL REFERENCES payment_import (id) ON DELETE CASCADE,
    line            integer NOT NULL,
    original        text NOT NULL,
    customer_code   text NOT NULL DEFAULT '',
    customer_phone  text NOT NULL DEFAULT '',
    customer_id     integer,
    amount_minor    bigint CHECK (amount_minor > 0),
    reference       text NOT NULL DEFAULT '',
    reference_key   text NOT NULL DEFAULT '',
    received_on     date,
    method          text CHECK (method IN ('cash', 'bank', 'mobile_money')),
    status          text NOT NULL CHECK (status IN ('ready', 'duplicate', 'unknown_customer', 'invalid')),
    problem         text NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, line),
    CHECK (status <> 'ready' OR (customer_id IS NOT NULL AND amount_minor IS NOT NULL AND reference_key <> ''
                                 AND received_on IS NOT NULL AND method IS NOT NULL))
);
