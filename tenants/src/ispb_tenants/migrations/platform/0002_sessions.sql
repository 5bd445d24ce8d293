-- Server-side sessions and sign-in throttling (DESIGN 6, 10).

-- A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a leaked table does
-- not let anyone sign in. Staff sessions point at platform_user; customer sessions at a customer row of the
-- tenant's schema (no cross-schema key: the tenant id says where to look).
CREATE TABLE web_session (
    id              text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
    kind            text NOT NULL CHECK (kind IN ('staff', 'customer')),
    user_id         integer NOT NULL,
    tenant_id       integer REFERENCES tenant (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    ip              text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    CHECK (kind = 'staff' OR tenant_id IS NOT NULL)
);
CREATE INDEX web_session_user_idx ON web_session (kind, user_id, tenant_id);
CREATE INDEX web_session_expires_idx ON web_session (expires_at);

-- Failed sign-ins per key ('account:<tenant>:<login>' or 'address:<ip>') in a sliding window.
CREATE TABLE auth_throttle (
    key             text PRIMARY KEY,
    failures        integer NOT NULL DEFAULT 0,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz
);
