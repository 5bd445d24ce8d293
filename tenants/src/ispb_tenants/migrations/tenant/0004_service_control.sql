-- Service control (issue 5): routers, which router serves a customer, the suspension log, and the queue of
-- router commands that must reach a router even when it is down (retried with backoff, visible when failing).

CREATE TABLE router (
    id                  serial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    host                text NOT NULL CHECK (length(trim(host)) > 0),
    api_port            integer NOT NULL DEFAULT 8728 CHECK (api_port BETWEEN 1 AND 65535),
    use_tls             boolean NOT NULL DEFAULT false,
    username            text NOT NULL,
    -- encrypted at rest with a key derived from ISPB_SECRET_KEY (platform/src/ispb_platform/secrets_box.py)
    password_sealed     text NOT NULL,
    radius_secret_sealed text,
    mode                text NOT NULL DEFAULT 'api' CHECK (mode IN ('api', 'radius')),
    -- RADIUS: the address the router sends requests from (the NAS-IP), and its CoA/Disconnect port
    nas_address         inet,
    coa_port            integer NOT NULL DEFAULT 3799 CHECK (coa_port BETWEEN 1 AND 65535),
    status              text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'up', 'down')),
    identity            text NOT NULL DEFAULT '',
    version             text NOT NULL DEFAULT '',
    last_checked_at     timestamptz,
    last_error          text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (mode = 'api' OR (radius_secret_sealed IS NOT NULL AND nas_address IS NOT NULL))
);

ALTER TABLE customer
    ADD COLUMN router_id integer REFERENCES router (id) ON DELETE RESTRICT,
    -- a static address, when the customer has one (otherwise the session's address is used)
    ADD COLUMN ip_address inet,
    -- the PPPoE password pushed to API-managed routers (and RADIUS), sealed like router passwords
    ADD COLUMN pppoe_password_sealed text,
    -- the last address the platform saw the customer use (listed on suspension; the suspension portal finds
    -- the customer by it)
    ADD COLUMN last_address inet;
CREATE INDEX customer_address_idx ON customer (ip_address);
CREATE INDEX customer_last_address_idx ON customer (last_address);
CREATE INDEX customer_router_idx ON customer (router_id);

-- Every suspension and reactivation, by the job or by a person (Logs → Suspension Log).
CREATE TABLE suspension_log (
    id              bigserial PRIMARY KEY,
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    action          text NOT NULL CHECK (action IN ('suspended', 'activated')),
    bill_id         bigint REFERENCES bill (id) ON DELETE RESTRICT,
    amount_due_minor bigint,
    rule            text NOT NULL DEFAULT '',
    reason          text NOT NULL DEFAULT '',
    actor           text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
-- One automatic suspension per customer and overdue bill (DESIGN 3): two workers, or a rerun, log it once.
CREATE UNIQUE INDEX suspension_once_per_bill ON suspension_log (customer_id, bill_id)
    WHERE action = 'suspended' AND bill_id IS NOT NULL;
CREATE INDEX suspension_log_at_idx ON suspension_log (at DESC);
CREATE INDEX suspension_log_customer_idx ON suspension_log (customer_id, at DESC);

-- Work for routers: written in the business transaction, executed after commit by the queue, retried with
-- backoff until it holds. "ensure" commands, so running one twice changes nothing the second time.
CREATE TABLE router_command (
    id              bigserial PRIMARY KEY,
    router_id       integer NOT NULL REFERENCES router (id) ON DELETE CASCADE,
    customer_id     integer REFERENCES customer (id) ON DELETE CASCADE,
    action          text NOT NULL CHECK (action IN ('suspend', 'activate', 'apply_package', 'disconnect')),
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'superseded')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);
CREATE INDEX router_command_due_idx ON router_command (next_attempt_at) WHERE status = 'pending';
CREATE INDEX router_command_customer_idx ON router_command (customer_id, id DESC);
