-- Run records (issue 19): each operator's latest run of each job is one probe of this index, however long the
-- history: the Automation page (a LATERAL ... LIMIT 1 per job), the roll-up of a quiet run into the job's previous
-- record (jobs/runs.py, on every idle run), and the "keep each job's latest" test of the record pruning
-- (maintenance). Before it, the page walked the operator's runs newest first until it met each job, and the roll-up
-- walked every operator's runs of the job. `id DESC` breaks ties as the pruning's ORDER BY does.
CREATE INDEX job_run_tenant_job_started_idx ON job_run (tenant_id, job, started_at DESC, id DESC);
