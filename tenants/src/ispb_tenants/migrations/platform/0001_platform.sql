-- The platform schema: operators (tenants), platform users and the schedule's run records.
-- Applied with search_path set to the platform schema.

CREATE TABLE tenant (
    id              serial PRIMARY KEY,
    slug            text NOT NULL UNIQUE,
    name            text NOT NULL CHECK (length(trim(name)) > 0),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    schema_name     text NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[a-z0-9_]{1,56}$'),
    timezone        text NOT NULL DEFAULT 'Asia/Dhaka',
    currency        text NOT NULL DEFAULT 'BDT' CHECK (currency ~ '^[A-Z]{3}$'),
    activity_log_retention_days integer NOT NULL DEFAULT 365 CHECK (activity_log_retention_days > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Platform admins and group admins have no tenant; operator admins and staff belong to one.
CREATE TABLE platform_user (
    id              serial PRIMARY KEY,
    email           text NOT NULL,
    name            text NOT NULL,
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('platform_admin', 'group_admin', 'operator_admin', 'operator_staff')),
    tenant_id       integer REFERENCES tenant (id) ON DELETE CASCADE,
    is_active       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz,
    CHECK ((role IN ('platform_admin', 'group_admin')) = (tenant_id IS NULL))
);
CREATE UNIQUE INDEX platform_user_email_key ON platform_user (lower(email));

-- One row per execution of a scheduled or manual job (DESIGN 3): what ran, for whom, and what it did.
CREATE TABLE job_run (
    id              bigserial PRIMARY KEY,
    job             text NOT NULL,
    tenant_id       integer REFERENCES tenant (id) ON DELETE CASCADE,
    job_key         text NOT NULL,
    today           date NOT NULL,
    trigger         text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    counts          jsonb NOT NULL DEFAULT '{}'::jsonb,
    error           text,
    worker          text NOT NULL DEFAULT ''
);
CREATE INDEX job_run_job_started_idx ON job_run (job, started_at DESC);
CREATE INDEX job_run_tenant_started_idx ON job_run (tenant_id, started_at DESC);
