-- Jobs a person asks for from a page ("Back up now", "Restore..." on Backup Settings, issue 19), run by a worker
-- instead of inside the web request. The row is what the page shows while it polls: queued -> running ->
-- succeeded | failed, with the message for the person. A worker claims a row by moving it from queued to
-- running (a second delivery of the same queue job finds nothing to claim); system.close_dead_runs fails the
-- rows whose queue job is gone (a dead worker, a queue that lost it), so no page says "running" forever.
CREATE TABLE job_request (
    id              bigserial PRIMARY KEY,
    job             text NOT NULL,
    lane            text NOT NULL,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    arguments       jsonb NOT NULL DEFAULT '{}'::jsonb,
    requested_by    text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    message         text NOT NULL DEFAULT '',
    result          jsonb NOT NULL DEFAULT '{}'::jsonb,
    requested_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at      timestamptz,
    finished_at     timestamptz,
    worker          text NOT NULL DEFAULT ''
);
-- One at a time per operator and lane (a backup and a restore of the same operator share the lane "backup"):
-- a second request while one is queued or running is refused by this index, whatever the race.
CREATE UNIQUE INDEX job_request_one_at_a_time ON job_request (tenant_id, lane) WHERE status IN ('queued', 'running');
CREATE INDEX job_request_tenant_lane_idx ON job_request (tenant_id, lane, id DESC);
-- What the reaper reads every minute: only the open rows.
CREATE INDEX job_request_open_idx ON job_request (requested_at) WHERE status IN ('queued', 'running');
