"""RRD traffic graphs for ISPs: one file per customer or router interface, updated every 5 minutes.

- `archive`: what a file holds (two 64-bit octet counters as DERIVE min=0, archives for day/week/month/year).
- `samples`: a poll's reading for one file, checked before rrdtool sees it.
- `store`: `RRDStore` creates, updates many files at once, fetches typed rates and draws PNG graphs; one
  lock per process around librrd, optionally through rrdcached.
- `cached`: run and reach rrdcached (Debian package ``rrdcached``).
- `layout`: ``<data_dir>/rrd/<tenant>/customer-<id>.rrd`` and ``router-<id>-<interface>.rrd``, and removing a
  customer's files.
- `graph`: the look of a graph (size, colours, title, labels) and the period (day, week, month, year).

Needs the ``rrd`` extra (``pip install 'ispb-netsync[rrd]'``, which builds against librrd). See README.md.
"""

from ispb_netsync.rrd.archive import ARCHIVES, DOWNLOAD, HEARTBEAT, STEP, UPLOAD, Archive, definition
from ispb_netsync.rrd.cached import APT_HINT, RRDCached, RunningRRDCached, ping
from ispb_netsync.rrd.errors import InvalidName, InvalidSample, RRDCachedUnavailable, RRDError
from ispb_netsync.rrd.graph import GraphLook, GraphPeriod, graph_arguments
from ispb_netsync.rrd.layout import (
    customer_files,
    customer_rrd,
    interface_rrd,
    remove_customer_files,
    tenant_dir,
)
from ispb_netsync.rrd.samples import COUNTER_LIMIT, TrafficSample, update_value
from ispb_netsync.rrd.store import Refusal, RRDStore, TrafficRate, UpdateReport

__all__ = (
    # the store
    "RRDStore",
    "TrafficSample",
    "TrafficRate",
    "UpdateReport",
    "Refusal",
    "GraphLook",
    "GraphPeriod",
    # rrdcached
    "RRDCached",
    "RunningRRDCached",
    "APT_HINT",
    "ping",
    # where files live
    "tenant_dir",
    "customer_rrd",
    "interface_rrd",
    "customer_files",
    "remove_customer_files",
    # what a file holds
    "STEP",
    "HEARTBEAT",
    "DOWNLOAD",
    "UPLOAD",
    "ARCHIVES",
    "Archive",
    "COUNTER_LIMIT",
    "definition",
    "graph_arguments",
    "update_value",
    # errors
    "RRDError",
    "InvalidSample",
    "InvalidName",
    "RRDCachedUnavailable",
)
