-- Invitations to an operator's staff (issue 11). The operator admin enters name, e-mail and role; the person
-- sets their own password through a single-use link that expires after 72 hours. Only the SHA-256 of the
-- link's token is stored, so a leaked table invites nobody. E-mail addresses stay unique platform-wide
-- (platform_user_email_key): an invitation to an address that already has an account creates no second one,
-- and only the link says so, never the operator's "add a person" answer.
CREATE TABLE staff_invitation (
    id              serial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenant (id) ON DELETE CASCADE,
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 200),
    name            text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 120),
    role            text NOT NULL CHECK (role IN ('operator_admin', 'operator_staff')),
    token_hash      text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    invited_by      integer REFERENCES platform_user (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    user_id         integer REFERENCES platform_user (id) ON DELETE SET NULL  -- the account it created
);
CREATE INDEX staff_invitation_tenant_idx ON staff_invitation (tenant_id, created_at DESC);
