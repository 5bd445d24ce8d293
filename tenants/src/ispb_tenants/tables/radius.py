"""FreeRADIUS 3 SQL tables of every tenant schema (migration 0005), as the stock PostgreSQL schema shapes them.

FreeRADIUS writes ``radacct`` and ``radpostauth``; the platform writes a customer's radcheck/radreply/radusergroup
rows (``ispb_netsync.radius.customer_rows``) and closes stale sessions. The stock queries.conf reads these tables,
so their columns never change here without the migration. Columns named after Python keywords (``class``,
``pass``) get a trailing underscore as attributes.
"""

from piccolo.columns import BigInt, BigSerial, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.columns import Inet
from ispb_tenants.tables.tenant import Customer


class RadAcct(Table, tablename="radacct"):
    """An accounting session: open while ``acctstoptime`` is NULL (the online list, Simultaneous-Use).

    Partitioned by month on ``acctstarttime`` (migration 0012): its real key is (radacctid, acctstarttime), and a
    session's unique id is unique through `RadAcctKey`. Filter by ``acctstarttime`` where you can.
    """

    radacctid = BigSerial(primary_key=True)
    acctsessionid = Text()
    acctuniqueid = Text()
    username = Text(null=True, default=None)
    realm = Text(null=True, default=None)
    nasipaddress = Inet()
    nasportid = Text(null=True, default=None)
    nasporttype = Text(null=True, default=None)
    acctstarttime = Timestamptz()
    acctupdatetime = Timestamptz(null=True, default=None)
    acctstoptime = Timestamptz(null=True, default=None)
    acctinterval = BigInt(null=True, default=None)
    acctsessiontime = BigInt(null=True, default=None)
    acctauthentic = Text(null=True, default=None)
    connectinfo_start = Text(null=True, default=None)
    connectinfo_stop = Text(null=True, default=None)
    acctinputoctets = BigInt(null=True, default=None)
    acctoutputoctets = BigInt(null=True, default=None)
    calledstationid = Text(null=True, default=None)
    callingstationid = Text(null=True, default=None)
    acctterminatecause = Text(null=True, default=None)
    servicetype = Text(null=True, default=None)
    framedprotocol = Text(null=True, default=None)
    framedipaddress = Inet(null=True, default=None)
    framedipv6address = Inet(null=True, default=None)
    framedipv6prefix = Inet(null=True, default=None)
    framedinterfaceid = Text(null=True, default=None)
    delegatedipv6prefix = Inet(null=True, default=None)
    class_ = Text(db_column_name="class", null=True, default=None)
    nasinputoctets = BigInt(default=0)
    """The NAS's last counter reading; ``acctinputoctets`` is the session total, which survives counter restarts."""
    nasoutputoctets = BigInt(default=0)
    rolledinputoctets = BigInt(default=0)
    """What the usage rollup has counted of ``acctinputoctets`` (``network/radius/usage.py``)."""
    rolledoutputoctets = BigInt(default=0)


class RadAcctKey(Table, tablename="radacct_key"):
    """One row per Acct-Unique-Session-Id: the start time (so the partition) of its current ``radacct`` row."""

    acctuniqueid = Text(primary_key=True)
    acctstarttime = Timestamptz()


class CustomerUsageDaily(Table, tablename="customer_usage_daily"):
    """Octets a customer moved on one day of the tenant's calendar (``network.usage_rollup`` adds to it).

    The key is (customer_id, day); Piccolo knows one primary key column, so it names the first."""

    customer = ForeignKey(Customer, db_column_name="customer_id", primary_key=True, null=False)
    day = Date()
    download_octets = BigInt(default=0)
    upload_octets = BigInt(default=0)


class CustomerTrafficTotal(Table, tablename="customer_traffic_total"):
    """A customer's octets since counting began, only growing (migration 0013): the counters of the customer's
    traffic graph. ``network.usage_rollup`` adds to it with the daily usage."""

    customer = ForeignKey(Customer, db_column_name="customer_id", primary_key=True, null=False)
    download_octets = BigInt(default=0)
    upload_octets = BigInt(default=0)


class RadCheck(Table, tablename="radcheck"):
    """A check attribute of one user (e.g. ``Cleartext-Password := ...``)."""

    username = Text(default="")
    attribute = Text(default="")
    op = Varchar(length=2, default="==")
    value = Text(default="")


class RadGroupCheck(Table, tablename="radgroupcheck"):
    groupname = Text(default="")
    attribute = Text(default="")
    op = Varchar(length=2, default="==")
    value = Text(default="")


class RadGroupReply(Table, tablename="radgroupreply"):
    """A reply attribute of a group (the ``ispb-suspended`` group every tenant starts with)."""

    groupname = Text(default="")
    attribute = Text(default="")
    op = Varchar(length=2, default="=")
    value = Text(default="")


class RadReply(Table, tablename="radreply"):
    """A reply attribute of one user (e.g. ``Mikrotik-Rate-Limit``, ``Framed-IP-Address``)."""

    username = Text(default="")
    attribute = Text(default="")
    op = Varchar(length=2, default="=")
    value = Text(default="")


class RadUserGroup(Table, tablename="radusergroup"):
    username = Text(default="")
    groupname = Text(default="")
    priority = Integer(default=0)


class RadPostAuth(Table, tablename="radpostauth"):
    """What FreeRADIUS answered to each authentication (written by FreeRADIUS)."""

    id = BigSerial(primary_key=True)
    username = Text()
    pass_ = Text(db_column_name="pass", null=True, default=None, secret=True)
    reply = Text(null=True, default=None)
    calledstationid = Text(null=True, default=None)
    callingstationid = Text(null=True, default=None)
    authdate = Timestamptz(default=TimestamptzNow())
    class_ = Text(db_column_name="class", null=True, default=None)


class NasReload(Table, tablename="nasreload"):
    """When a NAS last rebooted (Accounting-On/Off); the stock simul_count_query joins it."""

    nasipaddress = Inet(primary_key=True)
    reloadtime = Timestamptz()
