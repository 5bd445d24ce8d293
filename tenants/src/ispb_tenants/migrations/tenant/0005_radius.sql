-- RADIUS (issue 5): the FreeRADIUS 3 SQL tables, inside each tenant's schema.
--
-- Shaped exactly like FreeRADIUS 3.2's raddb/mods-config/sql/main/postgresql/schema.sql (same tables, columns,
-- types and unquoted identifiers), so the stock queries.conf runs unchanged. The generated FreeRADIUS config
-- (ispb radius config, docs/radius.md) gives every tenant its own rlm_sql instance whose table names are
-- qualified with this schema and whose connection's search_path is this schema only: a request from one
-- tenant's NAS can only ever read and write these tables.
--
-- The platform owns radcheck/radreply/radusergroup (rows computed by ispb_netsync.radius.customer_rows) and
-- the ispb-suspended group; FreeRADIUS writes radacct and radpostauth. `nas` is left out: clients come from
-- the generated clients.conf. `nasreload` is kept because the stock simul_count_query joins it.

CREATE TABLE radacct (
    RadAcctId           bigserial PRIMARY KEY,
    AcctSessionId       text NOT NULL,
    AcctUniqueId        text NOT NULL UNIQUE,
    UserName            text,
    Realm               text,
    NASIPAddress        inet NOT NULL,
    NASPortId           text,
    NASPortType         text,
    AcctStartTime       timestamp with time zone,
    AcctUpdateTime      timestamp with time zone,
    AcctStopTime        timestamp with time zone,
    AcctInterval        bigint,
    AcctSessionTime     bigint,
    AcctAuthentic       text,
    ConnectInfo_start   text,
    ConnectInfo_stop    text,
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
    Class               text
);
-- The stock indexes: open-session lookups by unique id (Stop, Interim-Update), closing a NAS's sessions on
-- Accounting-On/Off, usage by period, Class.
CREATE INDEX radacct_active_session_idx ON radacct (AcctUniqueId) WHERE AcctStopTime IS NULL;
CREATE INDEX radacct_bulk_close ON radacct (NASIPAddress, AcctStartTime) WHERE AcctStopTime IS NULL;
CREATE INDEX radacct_start_user_idx ON radacct (AcctStartTime, UserName);
CREATE INDEX radacct_calss_idx ON radacct (Class);
-- Ours: the online list and Simultaneous-Use (simul_count_query: UserName = ... AND AcctStopTime IS NULL).
CREATE INDEX radacct_online_user_idx ON radacct (UserName) WHERE AcctStopTime IS NULL;
-- Ours: closing stale sessions whose NAS stopped sending Interim-Updates (oldest update first).
CREATE INDEX radacct_stale_idx ON radacct (AcctUpdateTime) WHERE AcctStopTime IS NULL;

CREATE TABLE radcheck (
    id          serial PRIMARY KEY,
    UserName    text NOT NULL DEFAULT '',
    Attribute   text NOT NULL DEFAULT '',
    op          VARCHAR(2) NOT NULL DEFAULT '==',
    Value       text NOT NULL DEFAULT ''
);
CREATE INDEX radcheck_UserName ON radcheck (UserName, Attribute);

CREATE TABLE radgroupcheck (
    id          serial PRIMARY KEY,
    GroupName   text NOT NULL DEFAULT '',
    Attribute   text NOT NULL DEFAULT '',
    op          VARCHAR(2) NOT NULL DEFAULT '==',
    Value       text NOT NULL DEFAULT ''
);
CREATE INDEX radgroupcheck_GroupName ON radgroupcheck (GroupName, Attribute);

CREATE TABLE radgroupreply (
    id          serial PRIMARY KEY,
    GroupName   text NOT NULL DEFAULT '',
    Attribute   text NOT NULL DEFAULT '',
    op          VARCHAR(2) NOT NULL DEFAULT '=',
    Value       text NOT NULL DEFAULT ''
);
CREATE INDEX radgroupreply_GroupName ON radgroupreply (GroupName, Attribute);

CREATE TABLE radreply (
    id          serial PRIMARY KEY,
    UserName    text NOT NULL DEFAULT '',
    Attribute   text NOT NULL DEFAULT '',
    op          VARCHAR(2) NOT NULL DEFAULT '=',
    Value       text NOT NULL DEFAULT ''
);
CREATE INDEX radreply_UserName ON radreply (UserName, Attribute);

CREATE TABLE radusergroup (
    id          serial PRIMARY KEY,
    UserName    text NOT NULL DEFAULT '',
    GroupName   text NOT NULL DEFAULT '',
    priority    integer NOT NULL DEFAULT 0
);
CREATE INDEX radusergroup_UserName ON radusergroup (UserName);

CREATE TABLE radpostauth (
    id                  bigserial PRIMARY KEY,
    username            text NOT NULL,
    pass                text,
    reply               text,
    CalledStationId     text,
    CallingStationId    text,
    authdate            timestamp with time zone NOT NULL DEFAULT now(),
    Class               text
);
CREATE INDEX radpostauth_username_idx ON radpostauth (username);
CREATE INDEX radpostauth_class_idx ON radpostauth (Class);

CREATE TABLE nasreload (
    NASIPAddress    inet PRIMARY KEY,
    ReloadTime      timestamp with time zone NOT NULL
);

-- The suspended profile every tenant starts with (the same rows as ispb_netsync.radius.suspended_group_rows()):
-- suspended customers still connect, land in the router's "ispb-suspended" address list (redirected to the
-- suspension portal) at a trickle rate. A tenant that prefers rejecting adds radgroupcheck
-- (ispb-suspended, Auth-Type, :=, Reject) instead; docs/radius.md.
INSERT INTO radgroupreply (GroupName, Attribute, op, Value) VALUES
    ('ispb-suspended', 'Mikrotik-Address-List', ':=', 'ispb-suspended'),
    ('ispb-suspended', 'Mikrotik-Rate-Limit', ':=', '64k/64k');
