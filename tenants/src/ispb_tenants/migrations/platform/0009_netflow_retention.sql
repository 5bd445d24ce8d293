-- NetFlow retention (issue 14): how many days of NetFlow capture files (nfcapd, under ISPB_DATA_DIR/netflow/<tenant>/)
-- a tenant keeps. maintenance.purge_netflow removes older files daily. 180 days by default: regulators commonly ask
-- ISPs which customer used an address at a time for months back; the operator sets what its licence demands.
ALTER TABLE tenant ADD COLUMN netflow_retention_days integer NOT NULL DEFAULT 180
    CHECK (netflow_retention_days BETWEEN 1 AND 3650);
