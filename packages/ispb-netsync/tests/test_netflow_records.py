"""nfdump's CSV (as nfdump 1.7.1 prints it) becomes typed flow records; anything else is a clear error."""

import ipaddress
from datetime import UTC, datetime

import pytest

from ispb_netsync.netflow import FlowOutputInvalid, parse_csv

HEADER = (
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,"
    "ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"
)
LINE = (
    "2026-12-03 07:32:39,2026-12-03 07:34:39,120.000,100.64.0.5,8.8.8.8,40004,443,TCP,........,0,0,10,1004,0,0,"
    "0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,"
    "0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.2,0/1,1,"
    "2026-12-03 07:35:39.219"
)
TRAILER = ["Summary", "flows,bytes,packets,avg_bps,avg_pps,avg_bpp", "1,1004,10,66,0,100"]


def test_a_flow_line_becomes_a_record_and_the_trailer_ends_it() -> None:
    [record] = parse_csv([HEADER, LINE, *TRAILER])
    assert record.first == datetime(2026, 12, 3, 7, 32, 39, tzinfo=UTC)
    assert record.last == datetime(2026, 12, 3, 7, 34, 39, tzinfo=UTC)
    assert (record.source, record.destination) == (ipaddress.ip_address("100.64.0.5"), ipaddress.ip_address("8.8.8.8"))
    assert (record.source_port, record.destination_port, record.protocol) == (40004, 443, "TCP")
    assert (record.packets, record.octets) == (10, 1004)
    assert record.exporter == ipaddress.ip_address("127.0.0.2")
    assert record.touches(ipaddress.ip_address("8.8.8.8"))


def test_no_matching_flows_is_an_empty_answer() -> None:
    assert list(parse_csv([HEADER, "No matching flows", *TRAILER])) == []
    assert list(parse_csv([])) == []


def test_columns_are_found_by_name_not_position() -> None:
    names = HEADER.split(",")
    cells = LINE.split(",")
    order = list(reversed(range(len(names))))
    [record] = parse_csv([",".join(names[i] for i in order), ",".join(cells[i] for i in order)])
    assert record.octets == 1004


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["Line 1: Unknown protocol at 'bogus'"], "not its CSV"),
        ([HEADER, "2026-12-03 07:32:39,garbage"], "line 2 is not a flow"),
        ([HEADER, LINE.replace("100.64.0.5", "100.64.0.500")], "line 2 is not a flow"),
        ([HEADER, LINE.replace(",1004,", ",lots,")], "line 2 is not a flow"),
    ],
)
def test_garbage_output_is_a_typed_error(lines: list[str], message: str) -> None:
    with pytest.raises(FlowOutputInvalid, match=message):
        list(parse_csv(lines))
