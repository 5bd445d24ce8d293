"""Where RRD files live: every name stays inside its tenant's directory, two interfaces never share a file,
and a deleted customer's files go (twice is harmless)."""

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_netsync.rrd import (
    InvalidName,
    RRDStore,
    TrafficSample,
    customer_files,
    customer_rrd,
    interface_rrd,
    remove_customer_files,
    tenant_dir,
)
from ispb_netsync.rrd.archive import STEP

DATA = Path("/var/lib/ispb")
INTERFACES = st.text(min_size=1, max_size=25)


@given(INTERFACES, INTERFACES)
def test_interfaces_get_their_own_file_inside_the_tenants_directory(first: str, second: str) -> None:
    one, other = interface_rrd(DATA, "dhaka-net", 3, first), interface_rrd(DATA, "dhaka-net", 3, second)
    assert one.parent == other.parent == DATA / "rrd" / "dhaka-net"
    assert "/" not in one.name and one.name.startswith("router-3-") and one.suffix == ".rrd"
    assert unquote(one.name.removeprefix("router-3-").removesuffix(".rrd")) == first
    assert (one == other) == (first == second)


@pytest.mark.parametrize("tenant", ["", "..", "Dhaka", "a/b", "a b", "-x", "x" * 64, "tenant\n"])
def test_a_tenant_that_is_not_a_plain_directory_name_is_refused(tenant: str) -> None:
    with pytest.raises(InvalidName, match="use lowercase letters, digits"):
        tenant_dir(DATA, tenant)


@pytest.mark.parametrize("customer_id", [0, -1, True, "7", 1.0])
def test_a_customer_id_must_be_a_positive_whole_number(customer_id: object) -> None:
    with pytest.raises(InvalidName, match="customer id must be a positive whole number"):
        customer_rrd(DATA, "dhaka-net", customer_id)  # type: ignore[arg-type]


def test_an_interface_name_too_long_for_a_file_is_refused() -> None:
    with pytest.raises(InvalidName, match="too long for a file name"):
        interface_rrd(DATA, "dhaka-net", 3, "বাংলা" * 20)


def test_removing_a_customers_files_leaves_the_others(tmp_path: Path) -> None:
    store, start = RRDStore(), datetime(2026, 12, 1, tzinfo=UTC)
    for customer in (7, 8):
        store.create(customer_rrd(tmp_path, "acme", customer), start=start)
    store.update_many([TrafficSample(customer_rrd(tmp_path, "acme", 7), start.replace(minute=STEP // 60), 1, 1)])
    assert customer_files(tmp_path, "acme", 7) == (tmp_path / "rrd" / "acme" / "customer-7.rrd",)
    assert remove_customer_files(tmp_path, "acme", 7) == 1
    assert remove_customer_files(tmp_path, "acme", 7) == 0
    assert sorted(p.name for p in (tmp_path / "rrd" / "acme").iterdir()) == ["customer-8.rrd"]
