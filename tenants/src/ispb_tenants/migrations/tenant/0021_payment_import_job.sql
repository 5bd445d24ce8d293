-- Confirming a statement import runs as a background job (issue 12, `payments.confirm_imports`), not inside the web
-- request: "Record" marks the import 'confirming' (who asked, when), and the job records its ready lines a chunk of
-- customers per transaction. Each chunk's transaction also moves `recorded_through` (the last customer id done), so
-- a worker killed mid-way leaves the chunks it committed and a mark to go on from: the next run records the rest,
-- each line once. 'confirmed' when every chunk is done.
ALTER TABLE payment_import DROP CONSTRAINT payment_import_status_check;
ALTER TABLE payment_import
    ADD CONSTRAINT payment_import_status_check CHECK (status IN ('preview', 'confirming', 'confirmed')),
    ADD COLUMN confirm_requested_by text,
    ADD COLUMN confirm_requested_at timestamptz,
    -- the customers up to this id have their payments of this import recorded (ready lines in customer order)
    ADD COLUMN recorded_through integer NOT NULL DEFAULT 0,
    -- suspended customers whose payments cleared what was overdue, reactivated as the chunks were recorded
    ADD COLUMN reactivated integer NOT NULL DEFAULT 0;
-- imports confirmed before this migration were confirmed in the request that asked for it
UPDATE payment_import SET confirm_requested_by = confirmed_by, confirm_requested_at = confirmed_at
WHERE status = 'confirmed';
ALTER TABLE payment_import
    ADD CONSTRAINT payment_import_requested CHECK ((status = 'preview') = (confirm_requested_at IS NULL));

-- The job's "is there work" question (`jobs/due.py`) and its claim, answered from this small index.
CREATE INDEX payment_import_confirming_idx ON payment_import (id) WHERE status = 'confirming';

-- A chunk is the ready lines of the next customers after `recorded_through`, in customer then file order.
CREATE INDEX payment_import_line_ready_idx ON payment_import_line (import_id, customer_id, line) WHERE status = 'ready';
