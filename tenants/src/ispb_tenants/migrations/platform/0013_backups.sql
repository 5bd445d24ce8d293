-- Backups (issue 19): where backups go, how many are kept, and one row per backup taken, with the figures of
-- its tables as of the dump's snapshot (what the weekly restore test compares with) and that test's outcome.

-- The platform's destination and full-backup retention: one row (the admin console edits it).
CREATE TABLE backup_settings (
    id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
    destination         text NOT NULL DEFAULT 'local' CHECK (destination IN ('local', 's3')),
    s3_endpoint         text NOT NULL DEFAULT '',
    s3_bucket           text NOT NULL DEFAULT '',
    s3_region           text NOT NULL DEFAULT 'us-east-1',
    s3_prefix           text NOT NULL DEFAULT '',
    s3_access_key       text NOT NULL DEFAULT '',
    s3_secret_sealed    text,
    full_keep_daily     integer NOT NULL DEFAULT 7 CHECK (full_keep_daily BETWEEN 1 AND 366),
    full_keep_weekly    integer NOT NULL DEFAULT 4 CHECK (full_keep_weekly BETWEEN 0 AND 520),
    full_keep_monthly   integer NOT NULL DEFAULT 6 CHECK (full_keep_monthly BETWEEN 0 AND 240),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (destination = 'local' OR (s3_bucket <> '' AND s3_secret_sealed IS NOT NULL))
);
INSERT INTO backup_settings DEFAULT VALUES;

-- Each operator's own retention of its daily customer-data backups (Settings -> Backup Settings).
ALTER TABLE tenant
    ADD COLUMN backup_keep_daily integer NOT NULL DEFAULT 7 CHECK (backup_keep_daily BETWEEN 1 AND 366),
    ADD COLUMN backup_keep_weekly integer NOT NULL DEFAULT 4 CHECK (backup_keep_weekly BETWEEN 0 AND 520),
    ADD COLUMN backup_keep_monthly integer NOT NULL DEFAULT 6 CHECK (backup_keep_monthly BETWEEN 0 AND 240);

-- One row per backup. tenant_id is kept NULL-able and SET NULL on drop: a dropped operator's backups stay
-- listed (by slug) until retention removes them, so a drop can be undone by a restore.
CREATE TABLE backup (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('tenant', 'full')),
    tenant_id       integer REFERENCES tenant (id) ON DELETE SET NULL,
    tenant_slug     text,
    period          date NOT NULL,
    trigger         text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    destination     text NOT NULL CHECK (destination IN ('local', 's3')),
    object_key      text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'deleted')),
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    size_bytes      bigint,
    server_major    integer NOT NULL,
    key_id          text NOT NULL,
    figures         jsonb NOT NULL DEFAULT '{}'::jsonb,
    error           text,
    verified_at     timestamptz,
    verify_ok       boolean,
    verify_detail   text,
    CHECK ((kind = 'tenant') = (tenant_slug IS NOT NULL))
);
-- A scheduled backup is taken once per operator (or once for the whole database) and day: a second tick or a
-- second worker finds the row and does nothing. A failed one does not count, so a retry takes it again. The
-- backups of dropped operators (tenant_id NULL) never collide.
CREATE UNIQUE INDEX backup_scheduled_once ON backup (tenant_id, period)
    WHERE trigger = 'schedule' AND status IN ('running', 'succeeded') AND kind = 'tenant';
CREATE UNIQUE INDEX backup_full_scheduled_once ON backup (period)
    WHERE trigger = 'schedule' AND status IN ('running', 'succeeded') AND kind = 'full';
CREATE INDEX backup_tenant_started_idx ON backup (tenant_id, started_at DESC);

-- Old data (issue 19, maintenance.cleanup_old_data, monthly): how long each kind of obsolete record is kept.
ALTER TABLE tenant
    ADD COLUMN outbox_retention_days integer NOT NULL DEFAULT 180 CHECK (outbox_retention_days BETWEEN 7 AND 3650),
    ADD COLUMN job_run_retention_days integer NOT NULL DEFAULT 90 CHECK (job_run_retention_days BETWEEN 7 AND 3650),
    ADD COLUMN expired_login_retention_days integer NOT NULL DEFAULT 7
        CHECK (expired_login_retention_days BETWEEN 1 AND 365);
