-- Fair usage (issue 14): a customer over the package's data allowance runs at the package's FUP speed until the
-- last day of the billing cycle in which it happened (`fup_until`); NULL is full speed. `billing.fup_enforce`
-- is the only writer. The rate a customer gets (RADIUS rows, router profile) reads this column.
ALTER TABLE customer ADD COLUMN fup_until date;
CREATE INDEX customer_fup_idx ON customer (fup_until) WHERE fup_until IS NOT NULL;
-- `apply_rate`: bring a customer's rate to what it should be now (FUP on or off) without ending the session.
ALTER TABLE router_command DROP CONSTRAINT router_command_action_check;
ALTER TABLE router_command ADD CONSTRAINT router_command_action_check
    CHECK (action IN ('suspend', 'activate', 'apply_package', 'disconnect', 'apply_profile', 'apply_rate'));
