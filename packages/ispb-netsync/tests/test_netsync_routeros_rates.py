"""Rate strings: the customer's download/upload become the router's rx/tx (upload first), never swapped."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ispb_netsync.routeros import bits_per_second, rate_limit, same_rates

kbps = st.integers(min_value=0, max_value=100_000_000)


def test_upload_comes_first_because_the_router_receives_what_the_customer_uploads() -> None:
    assert rate_limit(download_kbps=20_000, upload_kbps=5_000) == "5M/20M"


@pytest.mark.parametrize(
    ("download", "upload", "expected"),
    [(10_000, 10_000, "10M/10M"), (1_500, 512, "512k/1500k"), (2_000_000, 1_000_000, "1G/2G"), (0, 0, "0/0")],
)
def test_rates_use_the_largest_whole_decimal_unit(download: int, upload: int, expected: str) -> None:
    assert rate_limit(download, upload) == expected


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_a_speed_that_is_not_whole_kbps_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="kbit/s"):
        rate_limit(bad, 1_000)  # type: ignore[arg-type]


@given(kbps, kbps)
def test_the_string_reads_back_as_the_speeds_in_bits(download: int, upload: int) -> None:
    rx, tx = rate_limit(download, upload).split("/")
    assert (bits_per_second(rx), bits_per_second(tx)) == (upload * 1_000, download * 1_000)
    assert same_rates(rate_limit(download, upload), f"{upload * 1_000}/{download * 1_000}")


@given(kbps, kbps)
def test_swapped_speeds_never_compare_equal_unless_they_are_equal(download: int, upload: int) -> None:
    assert same_rates(rate_limit(download, upload), rate_limit(upload, download)) == (download == upload)


def test_rate_specs_with_bursts_compare_part_by_part() -> None:
    assert same_rates("2M/4M 4M/8M 1M/2M 8/8", "2000k/4000k 4M/8M 1000000/2000000 8/8")
    assert not same_rates("2M/4M 4M/8M", "2M/4M")
    assert not same_rates("2M/4M 4M/8M 1M/2M 8/8", "2M/4M 4M/8M 1M/2M 16/16")
