"""Which routers the NetFlow collector gives nfcapd, and how it tells about the rest (pure parts of collect.py)."""

import ipaddress
import logging
from pathlib import Path

import pytest

from ispb_platform.network.netflow.collect import CollectorLog, plan_sources
from ispb_platform.network.netflow.queries import RouterExporter, exporter_address


def test_each_router_is_a_source_under_its_tenant_and_ambiguous_ones_are_left_out() -> None:
    shared = ipaddress.ip_address("10.0.0.1")
    exporters = [
        RouterExporter("dhaka", 1, "Core", ipaddress.ip_address("10.0.0.9")),
        RouterExporter("dhaka", 2, "Edge", shared),
        RouterExporter("padma", 1, "Core", shared),
        RouterExporter("padma", 2, "Named", None),
    ]
    sources, skipped = plan_sources(exporters, Path("/data"))
    assert [(s.ident, str(s.address), str(s.directory)) for s in sources] == [
        ("dhaka-r1", "10.0.0.9", "/data/netflow/dhaka/router-1")
    ]
    assert [(s.exporter.tenant, s.exporter.router_id) for s in skipped] == [("dhaka", 2), ("padma", 1), ("padma", 2)]
    assert "also another router's address" in skipped[0].reason and "no IP address" in skipped[2].reason


def test_the_exporter_address_is_the_netflow_then_nas_address_then_an_ip_host() -> None:
    assert str(exporter_address("10.0.0.3", "10.0.0.2", "10.0.0.1")) == "10.0.0.3"
    assert str(exporter_address(None, ipaddress.ip_address("10.0.0.2"), "10.0.0.1")) == "10.0.0.2"
    assert str(exporter_address(None, None, " 10.0.0.1 ")) == "10.0.0.1"
    assert exporter_address(None, None, "core.example.net") is None


async def test_an_unknown_exporter_is_told_once_an_hour_not_once_a_packet(caplog: pytest.LogCaptureFixture) -> None:
    log = CollectorLog()
    with caplog.at_level(logging.INFO, logger="ispb.netflow"):
        for _ in range(50):
            await log("Unknown flow source: '203.0.113.9'")
            await log("Skip UDP packet. Ignored packets so far 7 packets")
        await log("Unknown flow source: '203.0.113.10'")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "NetFlow from 203.0.113.9 skipped: no router has this exporter address",
        "NetFlow from 203.0.113.10 skipped: no router has this exporter address",
    ]
    assert not any("Skip UDP packet" in r.getMessage() for r in caplog.records)
