"""NetFlow records for ISPs: collect routers' flows with nfcapd, search them with nfdump.

Routers export NetFlow v5/v9 or IPFIX over UDP; nfcapd (Debian package ``nfdump``) stores them in files that
rotate every 5 minutes; nfdump searches the files. This package builds their command lines from typed values,
reads nfdump's output into typed records and never pastes a person's text into a filter.

- `query`: a search (`FlowQuery`: time range, addresses, networks, ports, protocol) and its nfdump filter.
- `nfdump`: `Nfdump.search` over an exporter's capture files, streaming and limited.
- `records`: `FlowRecord` and the CSV parser.
- `holders`: who held an address when (`AddressHolding`), and `attribute` to pair flows with customers.
- `files`: the capture files a time range needs, the directory layout, `purge_before` for retention.
- `collector`: nfcapd's command line for a set of exporters, `NfcapdCollector` that (re)starts it.
- `exporter`: a small NetFlow v9 exporter (`NetFlowV9Exporter`) for tests and demos.
"""

from ispb_netsync.netflow.collector import (
    APT_HINT,
    ExporterSource,
    NfcapdCollector,
    nfcapd_arguments,
    unknown_exporter,
)
from ispb_netsync.netflow.errors import (
    FlowOutputInvalid,
    InvalidFlowQuery,
    NetFlowError,
    NfdumpFailed,
    NfdumpMissing,
)
from ispb_netsync.netflow.exporter import Flow, NetFlowV9Exporter
from ispb_netsync.netflow.files import (
    EXPORT_LAG,
    ROTATION,
    CaptureFile,
    PurgeReport,
    capture_files,
    files_for,
    netflow_dir,
    purge_before,
    source_dir,
)
from ispb_netsync.netflow.holders import AddressHolding, AttributedFlow, attribute, holder_at
from ispb_netsync.netflow.nfdump import FlowSearch, Nfdump
from ispb_netsync.netflow.query import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    Address,
    FlowQuery,
    Network,
    Protocol,
    TimeRange,
    flow_query,
    nfdump_filter,
    parse_address,
    parse_network,
    parse_port,
)
from ispb_netsync.netflow.records import FlowRecord, parse_csv

__all__ = (
    # searching
    "Nfdump",
    "FlowSearch",
    "FlowQuery",
    "FlowRecord",
    "TimeRange",
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "Protocol",
    "flow_query",
    "nfdump_filter",
    "parse_address",
    "parse_network",
    "parse_port",
    "parse_csv",
    "Address",
    "Network",
    # who held an address
    "AddressHolding",
    "AttributedFlow",
    "attribute",
    "holder_at",
    # files
    "ROTATION",
    "EXPORT_LAG",
    "CaptureFile",
    "PurgeReport",
    "capture_files",
    "files_for",
    "netflow_dir",
    "source_dir",
    "purge_before",
    # collecting
    "ExporterSource",
    "NfcapdCollector",
    "nfcapd_arguments",
    "unknown_exporter",
    "APT_HINT",
    # exporting (tests, demos)
    "Flow",
    "NetFlowV9Exporter",
    # errors
    "NetFlowError",
    "InvalidFlowQuery",
    "NfdumpMissing",
    "NfdumpFailed",
    "FlowOutputInvalid",
)
