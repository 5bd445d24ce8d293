-- Due-work tests (issue 19, platform jobs/due.py): every few minutes the platform asks every operator's schema
-- whether a job has work there, one EXISTS per schema. These two partial indexes answer the two questions that had
-- no index: "a package with a data allowance and an FUP speed" (billing.fup_enforce) and "an API-managed router"
-- (netsync.rrd_update, netsync.router_status). Both tables are small; the indexes keep the probe one page whatever
-- the table holds, and empty when the operator has no such package or router.
CREATE INDEX package_fup_idx ON package (id) WHERE data_allowance_mb IS NOT NULL AND fup_download_kbps IS NOT NULL;
CREATE INDEX router_api_idx ON router (id) WHERE mode = 'api';
