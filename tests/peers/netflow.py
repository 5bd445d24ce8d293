"""A router exporting NetFlow v9 on loopback, for tests: ``ispb_netsync.netflow.NetFlowV9Exporter``'s packets sent
over UDP from the router's own address (any 127.x.y.z is this host), as a MikroTik ``/ip traffic-flow`` would.

    exporter = LoopbackExporter("127.1.2.3", collector_port)
    exporter.send([Flow(...)])
    exporter.send_raw([b"garbage"])
"""

import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from ispb_netsync.netflow import Flow, NetFlowV9Exporter


class LoopbackExporter:
    def __init__(self, address: str, collector_port: int, *, source_id: int = 1) -> None:
        self.address = address
        self.collector = ("127.0.0.1", collector_port)
        self.encoder = NetFlowV9Exporter(source_id=source_id, boot=datetime.now(UTC) - timedelta(days=1))

    def send(self, flows: Sequence[Flow], now: datetime | None = None) -> int:
        """Export ``flows``; the number of packets sent."""
        return self.send_raw(self.encoder.packets(flows, now=now or datetime.now(UTC)))

    def send_raw(self, payloads: Iterable[bytes]) -> int:
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((self.address, 0))
            for payload in payloads:
                udp.sendto(payload, self.collector)
                sent += 1
        return sent


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
