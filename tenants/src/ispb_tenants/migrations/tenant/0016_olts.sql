-- OLTs polled over SNMP and their ONUs (netsync.olt_sync, every 15 minutes; docs/olt.md).
-- SNMP credentials are sealed like router passwords (secrets_box; bound to the OLT's id and purpose).
CREATE TABLE olt (
    id                  serial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name <> ''),
    host                text NOT NULL CHECK (host <> ''),
    snmp_port           integer NOT NULL DEFAULT 161 CHECK (snmp_port BETWEEN 1 AND 65535),
    snmp_version        text NOT NULL DEFAULT 'v2c' CHECK (snmp_version IN ('v2c', 'v3')),
    community_sealed    text,
    v3_username         text NOT NULL DEFAULT '',
    v3_auth_protocol    text NOT NULL DEFAULT 'SHA',
    v3_auth_key_sealed  text,
    v3_priv_protocol    text NOT NULL DEFAULT 'AES',
    v3_priv_key_sealed  text,
    v3_context          text NOT NULL DEFAULT '',
    vendor              text NOT NULL,
    site                text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'unknown'
                        CHECK (status IN ('unknown', 'up', 'down', 'auth_failed', 'garbage')),
    sys_descr           text NOT NULL DEFAULT '',
    onu_count           integer NOT NULL DEFAULT 0,
    garbled             integer NOT NULL DEFAULT 0,
    failures            integer NOT NULL DEFAULT 0,
    last_sync_at        timestamptz,
    last_success_at     timestamptz,
    last_error          text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (snmp_version = 'v3' OR community_sealed IS NOT NULL),
    CHECK (snmp_version = 'v2c' OR (v3_username <> '' AND v3_auth_key_sealed IS NOT NULL AND v3_priv_key_sealed IS NOT NULL))
);

-- An ONU is its serial (GPON) or MAC (EPON) on one OLT: it keeps its customer when it moves to another port.
-- Never deleted by the sync: an ONU a complete walk no longer lists gets missing_since.
CREATE TABLE onu (
    id              bigserial PRIMARY KEY,
    olt_id          integer NOT NULL REFERENCES olt (id) ON DELETE CASCADE,
    serial          text NOT NULL CHECK (serial <> ''),
    port            text NOT NULL,
    onu_index       integer NOT NULL,
    status          text NOT NULL CHECK (status IN ('online', 'offline', 'los', 'dying_gasp', 'unknown')),
    rx_dbm          numeric(5, 2),
    tx_dbm          numeric(5, 2),
    distance_m      integer,
    description     text NOT NULL DEFAULT '',
    last_change_at  timestamptz,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    online_at       timestamptz,
    missing_since   timestamptz,
    history_at      timestamptz,
    customer_id     integer REFERENCES customer (id) ON DELETE SET NULL,
    mapping         text NOT NULL DEFAULT 'none' CHECK (mapping IN ('none', 'auto', 'manual')),
    UNIQUE (olt_id, serial)
);
CREATE INDEX onu_customer ON onu (customer_id) WHERE customer_id IS NOT NULL;

-- Status and optical power over time: a row when the status changes, Rx moves by 0.5 dB or more, or an hour
-- has passed (not every 15 minutes: 25,000 ONUs would write 2.4 million rows a day). Kept 90 days.
CREATE TABLE onu_reading (
    id      bigserial PRIMARY KEY,
    onu_id  bigint NOT NULL REFERENCES onu (id) ON DELETE CASCADE,
    at      timestamptz NOT NULL,
    status  text NOT NULL,
    rx_dbm  numeric(5, 2),
    tx_dbm  numeric(5, 2)
);
CREATE INDEX onu_reading_onu_at ON onu_reading (onu_id, at);
CREATE INDEX onu_reading_at ON onu_reading (at);

-- The operator's ONU rules: one row. Rx below the threshold is "weak"; the mapping rule matches an ONU field
-- (its description or serial/MAC) against a customer field, compared without case, spaces or separators.
CREATE TABLE onu_settings (
    id                      integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    rx_threshold_dbm        numeric(5, 2) NOT NULL DEFAULT -27 CHECK (rx_threshold_dbm BETWEEN -40 AND 0),
    match_onu_field         text NOT NULL DEFAULT 'description' CHECK (match_onu_field IN ('description', 'serial', 'off')),
    match_customer_field    text NOT NULL DEFAULT 'code'
                            CHECK (match_customer_field IN ('code', 'pppoe_username', 'phone', 'name'))
);
INSERT INTO onu_settings (id) VALUES (1);
