-- Accounting at scale (issue 14): radacct range-partitioned by month on AcctStartTime, one key row per session,
-- usage rolled up per customer and day, radpostauth without passwords.
--
-- Why partitions: tens of millions of accounting rows must not make the panel hang, and old months must go by
-- retention in one cheap DROP instead of a DELETE of millions of rows. Partitions are months in UTC, named
-- radacct_pYYYYMM; `radacct_add_month(day)` creates one (the job netsync.radacct_partitions keeps the next months
-- ready and drops the ones older than the tenant's accounting retention); radacct_default catches a start outside
-- every partition (a NAS with a wrong clock), and `radacct_add_month` moves such rows out when their month comes.
--
-- Why radacct_key: a unique constraint on a partitioned table must contain the partition key, so UNIQUE
-- (AcctUniqueId) alone is impossible on radacct; UNIQUE (AcctUniqueId, AcctStartTime) would let a retransmitted
-- Interim-Update or Stop (whose start time is derived from Event-Timestamp - Acct-Session-Time and moves by
-- seconds between retransmissions) open a second row for the same session. radacct_key holds one row per
-- Acct-Unique-Session-Id with the start time of its current row, so the session's row (and its partition) is
-- found by the exact key, and a session is opened once however often its packets arrive. The queries that write
-- both are in the generated FreeRADIUS configuration (platform network/radius/freeradius/queries.conf).

-- 1. The old table gives up its names (indexes, constraints, the id sequence stays and moves over).
ALTER TABLE radacct RENAME TO radacct_unpartitioned;
ALTER SEQUENCE radacct_radacctid_seq OWNED BY NONE;
DROP INDEX radacct_active_session_idx, radacct_bulk_close, radacct_start_user_idx, radacct_calss_idx,
    radacct_online_user_idx, radacct_stale_idx;
ALTER TABLE radacct_unpartitioned DROP CONSTRAINT radacct_pkey, DROP CONSTRAINT radacct_acctuniqueid_key;

CREATE TABLE radacct (
    RadAcctId           bigint NOT NULL DEFAULT nextval('radacct_radacctid_seq'),
    AcctSessionId       text NOT NULL,
    AcctUniqueId        text NOT NULL,
    UserName            text,
    Realm               text,
    NASIPAddress        inet NOT NULL,
    NASPortId           text,
    NASPortType         text,
    AcctStartTime       timestamp with time zone NOT NULL,  -- the partition key: every query sets it
    AcctUpdateTime      timestamp with time zone,
    AcctStopTime        timestamp with time zone,
    AcctInterval        bigint,
    AcctSessionTime     bigint,
    AcctAuthentic       text,
    ConnectInfo_start   text,
    ConnectInfo_stop    text,
    -- The session's totals (64-bit: Acct-Input-Gigawords << 32 + Acct-Input-Octets). They only grow: when a NAS
    -- restarts its counters mid-session, FreeRADIUS's queries add the new reading instead of replacing the total.
    AcctInputOctets     bigint,
    AcctOutputOctets    bigint,
    CalledStationId     text,
    CallingStationId    text,
    AcctTerminateCause  text,
    ServiceType         text,
    FramedProtocol      text,
    FramedIPAddress     inet,
    FramedIPv6Address   inet,
    FramedIPv6Prefix    inet,
    FramedInterfaceId   text,
    DelegatedIPv6Prefix inet,
    Class               text,
    -- What network.usage_rollup has counted of this row's octets: the rollup adds the difference (or, when the
    -- NAS counter went down, i.e. it restarted from zero, the new value) and moves these up to the counters.
    -- The NAS's last counter reading, to tell growth from a restart (see AcctInputOctets).
    NasInputOctets      bigint NOT NULL DEFAULT 0,
    NasOutputOctets     bigint NOT NULL DEFAULT 0,
    RolledInputOctets   bigint NOT NULL DEFAULT 0,
    RolledOutputOctets  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (RadAcctId, AcctStartTime),
    UNIQUE (AcctUniqueId, AcctStartTime)
) PARTITION BY RANGE (AcctStartTime);
ALTER SEQUENCE radacct_radacctid_seq OWNED BY radacct.RadAcctId;
CREATE TABLE radacct_default PARTITION OF radacct DEFAULT;

-- Indexes, created on every partition. Closing a NAS's sessions on Accounting-On/Off:
CREATE INDEX radacct_bulk_close ON radacct (NASIPAddress, AcctStartTime) WHERE AcctStopTime IS NULL;
-- The online list and Simultaneous-Use (simul_count_query: UserName = ... AND AcctStopTime IS NULL):
CREATE INDEX radacct_online_user_idx ON radacct (UserName) WHERE AcctStopTime IS NULL;
-- The online list, newest first: read backwards partition by partition, it stops after a page of rows instead of
-- sorting every open session:
CREATE INDEX radacct_online_start_idx ON radacct (AcctStartTime, RadAcctId) WHERE AcctStopTime IS NULL;
-- Closing stale sessions whose NAS stopped sending Interim-Updates (oldest update first):
CREATE INDEX radacct_stale_idx ON radacct (AcctUpdateTime) WHERE AcctStopTime IS NULL;
-- A customer's sessions, newest first (customer page, NetFlow/IP questions by user):
CREATE INDEX radacct_user_start_idx ON radacct (UserName, AcctStartTime);
-- Rows whose counters moved since the usage rollup last counted them: all the rollup ever reads.
CREATE INDEX radacct_unrolled_idx ON radacct (RadAcctId)
    WHERE coalesce(AcctInputOctets, 0) <> RolledInputOctets OR coalesce(AcctOutputOctets, 0) <> RolledOutputOctets;

-- One row per Acct-Unique-Session-Id: where its current radacct row is (AcctStartTime picks the partition).
CREATE TABLE radacct_key (
    AcctUniqueId    text PRIMARY KEY,
    AcctStartTime   timestamp with time zone NOT NULL
);
CREATE INDEX radacct_key_start_idx ON radacct_key (AcctStartTime);  -- retention deletes by start time

-- 2. A month's partition, created standalone and attached, so that rows which landed in radacct_default for that
-- month move into it (a plain CREATE ... PARTITION OF would fail on them). Returns false when it exists already.
-- Months are UTC. Callers serialise (the job holds an advisory lock; the migration runs alone).
CREATE FUNCTION radacct_add_month(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', day)::date;
    low timestamptz := make_timestamptz(extract(year FROM month_start)::int, extract(month FROM month_start)::int,
                                        1, 0, 0, 0, 'UTC');
    high timestamptz := low + interval '1 month';
    part text := 'radacct_p' || to_char(month_start, 'YYYYMM');
    here text := current_schema();
BEGIN
    IF to_regclass(format('%I.%I', here, part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- No start for this month may reach the default partition between the move and the attach (the attach would
    -- fail on it): hold the default partition until commit. Writers wait that long (the caller's lock_timeout).
    EXECUTE format('LOCK TABLE %I.radacct_default IN ACCESS EXCLUSIVE MODE', here);
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.radacct INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', here, part, here);
    EXECUTE format('WITH moved AS (DELETE FROM %I.radacct_default WHERE AcctStartTime >= $1 AND AcctStartTime < $2'
                   ' RETURNING *) INSERT INTO %I.%I SELECT * FROM moved', here, here, part) USING low, high;
    EXECUTE format('ALTER TABLE %I.radacct ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                   here, here, part, low, high);
    RETURN true;
END
$$;

-- 3. The existing rows: partitions for every month they started in (and the next three), then the rows (counted:
-- step 4 puts their usage in the usage table in one statement) and their keys.
UPDATE radacct_unpartitioned SET AcctStartTime = coalesce(AcctUpdateTime, AcctStopTime, now())
WHERE AcctStartTime IS NULL;
SELECT radacct_add_month(m::date)
FROM generate_series(
    date_trunc('month', least((SELECT min(AcctStartTime) FROM radacct_unpartitioned), now()) AT TIME ZONE 'UTC'),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months',
    interval '1 month') AS m;
INSERT INTO radacct (RadAcctId, AcctSessionId, AcctUniqueId, UserName, Realm, NASIPAddress, NASPortId, NASPortType,
    AcctStartTime, AcctUpdateTime, AcctStopTime, AcctInterval, AcctSessionTime, AcctAuthentic, ConnectInfo_start,
    ConnectInfo_stop, AcctInputOctets, AcctOutputOctets, CalledStationId, CallingStationId, AcctTerminateCause,
    ServiceType, FramedProtocol, FramedIPAddress, FramedIPv6Address, FramedIPv6Prefix, FramedInterfaceId,
    DelegatedIPv6Prefix, Class, NasInputOctets, NasOutputOctets, RolledInputOctets, RolledOutputOctets)
SELECT RadAcctId, AcctSessionId, AcctUniqueId, UserName, Realm, NASIPAddress, NASPortId, NASPortType,
    AcctStartTime, AcctUpdateTime, AcctStopTime, AcctInterval, AcctSessionTime, AcctAuthentic, ConnectInfo_start,
    ConnectInfo_stop, AcctInputOctets, AcctOutputOctets, CalledStationId, CallingStationId, AcctTerminateCause,
    ServiceType, FramedProtocol, FramedIPAddress, FramedIPv6Address, FramedIPv6Prefix, FramedInterfaceId,
    DelegatedIPv6Prefix, Class, coalesce(AcctInputOctets, 0), coalesce(AcctOutputOctets, 0),
    coalesce(AcctInputOctets, 0), coalesce(AcctOutputOctets, 0)
FROM radacct_unpartitioned;
INSERT INTO radacct_key (AcctUniqueId, AcctStartTime) SELECT AcctUniqueId, AcctStartTime FROM radacct_unpartitioned;
DROP TABLE radacct_unpartitioned;

-- 4. Usage per customer and day (the tenant's local day), kept by network.usage_rollup from radacct's counter
-- deltas. A billing cycle's usage is the sum of its days (at most 31 rows): cycles differ per customer and
-- change with the billing profile, days do not.
CREATE TABLE customer_usage_daily (
    customer_id     integer NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    day             date NOT NULL,
    download_octets bigint NOT NULL DEFAULT 0 CHECK (download_octets >= 0),  -- to the customer (Acct-Output)
    upload_octets   bigint NOT NULL DEFAULT 0 CHECK (upload_octets >= 0),    -- from the customer (Acct-Input)
    PRIMARY KEY (customer_id, day)
);
-- Days older than the accounting retention go with their months (netsync.radacct_partitions).
CREATE INDEX customer_usage_daily_day_idx ON customer_usage_daily (day);
-- The usage of the accounting history, on the day of each session's last update in the tenant's time zone, as
-- the rollup dates it (set-based here: the rollup's chunks would take many runs over millions of rows).
INSERT INTO customer_usage_daily (customer_id, day, download_octets, upload_octets)
SELECT c.id,
       (coalesce(a.AcctUpdateTime, a.AcctStartTime) AT TIME ZONE coalesce(
           (SELECT t.timezone FROM platform.tenant t WHERE t.schema_name = current_schema()), 'UTC'))::date,
       sum(a.RolledOutputOctets), sum(a.RolledInputOctets)
FROM radacct a
JOIN customer c ON c.pppoe_username = a.UserName
GROUP BY 1, 2;

-- 5. The stock post-auth query stored every attempted password in clear; ours stores none. Forget the old ones.
UPDATE radpostauth SET pass = NULL WHERE pass IS NOT NULL;
