-- Monitoring (issue 16), the platform's own: platform-wide status checks and the platform's status page. The
-- same tables as tenant migration 0017 (minus the Zabbix ones: Zabbix is per operator), so the same statements
-- serve both through the search_path. No router table here: router_id is always NULL.

CREATE TABLE status_check (
    id                  serial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    -- what the public status page calls it; '' keeps the check off the page
    public_name         text NOT NULL DEFAULT '' CHECK (length(public_name) <= 100),
    kind                text NOT NULL CHECK (kind IN ('http', 'tcp', 'ping', 'dns', 'radius', 'routeros')),
    -- a URL (http), a host name or address (tcp, ping, radius, routeros), a DNS name (dns)
    target              text NOT NULL CHECK (length(target) BETWEEN 1 AND 2000),
    port                integer CHECK (port BETWEEN 1 AND 65535),
    -- per kind: expect_status, body_contains, certificate_warn_days, record_type, server, expect, username, slow_ms
    options             jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- the RADIUS secret or the RouterOS password, sealed (secrets_box, row: the check's id)
    secret_sealed       text,
    -- a RouterOS check may use a router's own address and credentials instead
    router_id           integer CHECK (router_id IS NULL),
    timeout_s           integer NOT NULL DEFAULT 10 CHECK (timeout_s BETWEEN 1 AND 30),
    confirm_count       integer NOT NULL DEFAULT 2 CHECK (confirm_count BETWEEN 1 AND 10),
    paused              boolean NOT NULL DEFAULT false,
    -- the tracker (ispb_monitor.uptime.Tracker) and the last result, written by the job in one statement a round
    shown               text CHECK (shown IN ('up', 'degraded', 'down')),
    failures            integer NOT NULL DEFAULT 0,
    successes           integer NOT NULL DEFAULT 0,
    failing_since       timestamptz,
    recovering_since    timestamptz,
    last_status         text CHECK (last_status IN ('up', 'degraded', 'down')),
    last_latency_ms     real,
    last_message        text NOT NULL DEFAULT '',
    last_checked_at     timestamptz,
    -- when results began (uptime counts from here); reset by nothing, paused time counts as not monitored
    monitored_since     timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_check_due_idx ON status_check (last_checked_at) WHERE NOT paused;

-- An outage: from the first of `confirm_count` consecutive failures to the first good result after it.
CREATE TABLE status_incident (
    id                  bigserial PRIMARY KEY,
    check_id            integer NOT NULL REFERENCES status_check (id) ON DELETE CASCADE,
    started_at          timestamptz NOT NULL,
    ended_at            timestamptz CHECK (ended_at IS NULL OR ended_at >= started_at),
    cause               text NOT NULL DEFAULT ''
);
-- one open incident per check: two rounds at once cannot open two
CREATE UNIQUE INDEX status_incident_open_idx ON status_incident (check_id) WHERE ended_at IS NULL;
CREATE INDEX status_incident_check_idx ON status_incident (check_id, started_at DESC);

-- Planned work: failures inside a window open no incident and the time does not count against uptime.
-- check_id NULL: every check.
CREATE TABLE status_maintenance (
    id                  serial PRIMARY KEY,
    check_id            integer REFERENCES status_check (id) ON DELETE CASCADE,
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL CHECK (ends_at > starts_at),
    note                text NOT NULL DEFAULT '' CHECK (length(note) <= 500)
);

-- The public status page and the Zabbix connection (one row).
CREATE TABLE monitor_settings (
    id                  integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    page_enabled        boolean NOT NULL DEFAULT false,
    page_title          text NOT NULL DEFAULT '' CHECK (length(page_title) <= 100),
    zabbix_url          text NOT NULL DEFAULT '' CHECK (length(zabbix_url) <= 2000),
    -- the API token, sealed (secrets_box, row: 'zabbix')
    zabbix_token_sealed text,
    zabbix_synced_at    timestamptz,
    zabbix_error        text NOT NULL DEFAULT ''
);
INSERT INTO monitor_settings DEFAULT VALUES;
