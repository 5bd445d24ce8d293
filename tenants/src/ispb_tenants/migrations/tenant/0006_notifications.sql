-- Notifications (issue 6): the operator's gateway, templates, event and reminder settings, and the outbox.
-- Every message is an outbox row written in the transaction of its cause; the sender job delivers it.

-- The operator's message gateway (one per channel). Secrets (passwords, tokens) are sealed like router ones.
CREATE TABLE notify_gateway (
    channel         text PRIMARY KEY CHECK (channel IN ('sms', 'whatsapp')),
    kind            text NOT NULL CHECK (kind IN ('http_sms', 'whatsapp_cloud')),
    config          jsonb NOT NULL DEFAULT '{}'::jsonb,
    secret_sealed   text,
    enabled         boolean NOT NULL DEFAULT true,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Message texts by key: 'due_date', 'expiration' and each event name. Checked when saved, never at send time.
CREATE TABLE notify_template (
    key             text PRIMARY KEY,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Per event: whether it sends, and on which channel.
CREATE TABLE notify_event (
    event           text PRIMARY KEY,
    enabled         boolean NOT NULL DEFAULT false,
    channel         text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'whatsapp'))
);

-- Reminder rules: due-date offsets in days (-3 = three days before), expiration leads in days/hours.
CREATE TABLE notify_rule (
    id              serial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('due_date', 'expiration')),
    offset_days     integer NOT NULL DEFAULT 0 CHECK (offset_days BETWEEN -60 AND 60),
    before_hours    integer NOT NULL DEFAULT 0 CHECK (before_hours BETWEEN 0 AND 720),
    enabled         boolean NOT NULL DEFAULT true,
    UNIQUE (kind, offset_days, before_hours)
);

-- When reminders go out, in the operator's time zone.
CREATE TABLE notify_schedule (
    id              integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    send_time       time NOT NULL DEFAULT '10:00',
    channel         text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'whatsapp'))
);
INSERT INTO notify_schedule DEFAULT VALUES;

CREATE TABLE outbox (
    id                  bigserial PRIMARY KEY,
    -- one message per cause: 'due:<bill>:<offset>', 'event:<domain_event id>', 'expiry:...', 'otp:<id>', ...
    key                 text NOT NULL UNIQUE,
    customer_id         integer REFERENCES customer (id) ON DELETE SET NULL,
    channel             text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    to_address          text NOT NULL,
    body                text NOT NULL,
    segments            integer NOT NULL CHECK (segments >= 1),
    cause               text NOT NULL,
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'waiting_credit')),
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    -- a claim by a sender; a claim older than the lease is taken over (the worker died mid-send)
    claimed_at          timestamptz,
    -- SMS credit taken for this message (taken once, given back if it finally fails)
    credit_taken        boolean NOT NULL DEFAULT false,
    last_error          text NOT NULL DEFAULT '',
    provider_message_id text,
    gateway_reply       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('queued', 'sending', 'waiting_credit');
CREATE INDEX outbox_customer_idx ON outbox (customer_id, id DESC);
CREATE INDEX outbox_created_idx ON outbox (id DESC);

-- Which domain events have been turned into messages (the notify job's cursor, per event row).
ALTER TABLE domain_event ADD COLUMN notified_at timestamptz;
CREATE INDEX domain_event_pending_idx ON domain_event (id) WHERE notified_at IS NULL;

-- One-time sign-in codes for the customer portal: stored hashed, valid 5 minutes, 5 tries, used once.
CREATE TABLE otp_code (
    id              bigserial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    code_hash       text NOT NULL,
    expires_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    used_at         timestamptz,
    ip              text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX otp_code_customer_idx ON otp_code (customer_id, id DESC);
