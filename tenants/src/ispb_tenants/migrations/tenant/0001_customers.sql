-- An operator's own schema: packages, customers and the activity log.
-- Applied with search_path set to "<tenant schema>", platform. No foreign key leaves this schema except to
-- platform tables (DESIGN 2, 8).

CREATE TABLE package (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    service_type    text NOT NULL DEFAULT 'pppoe' CHECK (service_type IN ('pppoe', 'hotspot', 'static')),
    -- Money is integer minor units of the tenant's currency (DESIGN 4), never a float.
    price_minor     bigint NOT NULL CHECK (price_minor >= 0),
    download_kbps   integer NOT NULL CHECK (download_kbps > 0),
    upload_kbps     integer NOT NULL CHECK (upload_kbps > 0),
    validity_days   integer NOT NULL DEFAULT 30 CHECK (validity_days > 0),
    is_active       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customer (
    id              serial PRIMARY KEY,
    -- The customer id people use (portal sign-in, receipts, SMS), unique within the operator.
    code            text NOT NULL UNIQUE CHECK (length(trim(code)) > 0),
    name            text NOT NULL CHECK (length(trim(name)) > 0),
    phone           text NOT NULL,
    email           text,
    address         text NOT NULL DEFAULT '',
    area            text NOT NULL DEFAULT '',
    package_id      integer REFERENCES package (id) ON DELETE RESTRICT,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'disabled')),
    pppoe_username  text UNIQUE,
    connection_date date NOT NULL DEFAULT CURRENT_DATE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_status_idx ON customer (status);
CREATE INDEX customer_area_idx ON customer (area);
CREATE INDEX customer_package_idx ON customer (package_id);
CREATE INDEX customer_phone_idx ON customer (phone);

-- Who did what, when and from where. Purged by maintenance.purge_activity_logs per the tenant's retention.
CREATE TABLE activity_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    actor_user_id   integer,
    action          text NOT NULL,
    object_type     text NOT NULL DEFAULT '',
    object_id       text NOT NULL DEFAULT '',
    summary         text NOT NULL DEFAULT '',
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    ip              text
);
CREATE INDEX activity_log_at_idx ON activity_log (at);
