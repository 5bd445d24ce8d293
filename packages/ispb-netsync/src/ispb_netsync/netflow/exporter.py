"""A small NetFlow v9 exporter: what a router sends its collector, for tests and demos.

Routers (RouterOS ``/ip traffic-flow``, Cisco, Juniper) export NetFlow v9 or IPFIX over UDP to a collector such
as nfcapd. This module encodes flows as NetFlow v9 packets (RFC 3954) with the ``struct`` module: one template
flowset (IPv4 addresses, ports, protocol, octets, packets, first and last switched) followed by a data flowset,
so a collector that has never heard from the exporter can decode the first packet. It is a peer for the
collector, not a flow meter: the flows are the caller's.

    exporter = NetFlowV9Exporter(source_id=1, boot=now - timedelta(hours=1))
    for packet in exporter.packets([Flow(...)], now=now):
        socket.sendto(packet, ("127.0.0.1", 9995))
"""

import ipaddress
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ispb_netsync.netflow.errors import NetFlowError

TEMPLATE_ID = 256
FLOWS_PER_PACKET = 24
"""24 records of 29 bytes stay well inside a 1,400-byte datagram with the template."""

# (field type, length) from RFC 3954 section 8, in record order
_FIELDS = (
    (8, 4),  # IPV4_SRC_ADDR
    (12, 4),  # IPV4_DST_ADDR
    (7, 2),  # L4_SRC_PORT
    (11, 2),  # L4_DST_PORT
    (4, 1),  # PROTOCOL
    (1, 4),  # IN_BYTES
    (2, 4),  # IN_PKTS
    (22, 4),  # FIRST_SWITCHED (ms of system uptime)
    (21, 4),  # LAST_SWITCHED
)
_RECORD = struct.Struct("!4s4sHHBIIII")
_HEADER = struct.Struct("!HHIIII")


@dataclass(frozen=True)
class Flow:
    """One unidirectional IPv4 flow as a router meters it."""

    source: str
    destination: str
    source_port: int
    destination_port: int
    protocol: int
    octets: int
    packets: int
    first: datetime
    last: datetime


@dataclass
class NetFlowV9Exporter:
    """Encodes flows into NetFlow v9 packets with increasing sequence numbers (per exporter, as a router does).

    ``boot`` is the exporter's start: flow times travel as milliseconds of uptime, so flows must not start
    before it (nor more than 49 days after: the 32-bit uptime wraps).
    """

    source_id: int
    boot: datetime
    sequence: int = field(default=0)

    def packets(self, flows: Sequence[Flow], *, now: datetime) -> Iterator[bytes]:
        """The packets that carry ``flows``, each with the template first."""
        for start in range(0, len(flows), FLOWS_PER_PACKET):
            yield self._packet(flows[start : start + FLOWS_PER_PACKET], now)

    def _packet(self, flows: Sequence[Flow], now: datetime) -> bytes:
        template = _template_flowset()
        records = b"".join(self._record(flow) for flow in flows)
        padding = b"\0" * (-len(records) % 4)
        data = struct.pack("!HH", TEMPLATE_ID, 4 + len(records) + len(padding)) + records + padding
        header = _HEADER.pack(9, 1 + len(flows), self._uptime(now), int(now.timestamp()), self.sequence, self.source_id)
        self.sequence = (self.sequence + 1) % 2**32
        return header + template + data

    def _record(self, flow: Flow) -> bytes:
        try:
            return _RECORD.pack(
                ipaddress.IPv4Address(flow.source).packed,
                ipaddress.IPv4Address(flow.destination).packed,
                flow.source_port,
                flow.destination_port,
                flow.protocol,
                min(flow.octets, 2**32 - 1),
                min(flow.packets, 2**32 - 1),
                self._uptime(flow.first),
                self._uptime(flow.last),
            )
        except (ValueError, struct.error) as error:
            raise NetFlowError(f"cannot export flow {flow}: {error}") from None

    def _uptime(self, moment: datetime) -> int:
        milliseconds = int((moment - self.boot).total_seconds() * 1000)
        if not 0 <= milliseconds < 2**32:
            raise NetFlowError(f"{moment.isoformat()} is outside the exporter's uptime (boot {self.boot.isoformat()})")
        return milliseconds


def _template_flowset() -> bytes:
    fields = b"".join(struct.pack("!HH", kind, length) for kind, length in _FIELDS)
    body = struct.pack("!HH", TEMPLATE_ID, len(_FIELDS)) + fields
    return struct.pack("!HH", 0, 4 + len(body)) + body
