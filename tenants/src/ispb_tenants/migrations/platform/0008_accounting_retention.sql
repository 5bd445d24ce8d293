-- Accounting retention (issue 14): how many whole months of RADIUS accounting (radacct partitions) a tenant keeps
-- besides the current one. netsync.radacct_partitions drops older months. 12 keeps a year, which regulators
-- commonly ask ISPs to answer "who had this address then" for.
ALTER TABLE tenant ADD COLUMN accounting_retention_months integer NOT NULL DEFAULT 12
    CHECK (accounting_retention_months BETWEEN 1 AND 120);
