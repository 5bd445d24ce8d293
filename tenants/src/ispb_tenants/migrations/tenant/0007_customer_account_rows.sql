-- Every customer has its customer_account row from the moment it exists (issue 4, bill generation speed).
-- The bill job and payments then only update narrow, already-present rows (a HOT update, no foreign-key probe
-- of the customer row per bill), instead of inserting an account row on a customer's first bill. A statement
-- trigger with a transition table keeps bulk inserts (CSV import, demo seed) one extra statement, not one per row.

CREATE FUNCTION customer_account_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_account (customer_id) SELECT id FROM added ON CONFLICT (customer_id) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER customer_account_open AFTER INSERT ON customer
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION customer_account_open();

INSERT INTO customer_account (customer_id) SELECT id FROM customer ON CONFLICT (customer_id) DO NOTHING;
