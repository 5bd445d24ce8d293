"""The CSV customer import's parser: encodings, delimiters, headers, row checks and line numbers."""

from datetime import date

import pytest

from ispb_platform.customers.csv_import import MAX_BYTES, MAX_ROWS, ParsedImport, RowError, parse_customer_csv
from ispb_tenants.tables.tenant import CustomerStatus

PACKAGES = {"Home 10 Mbps": 1, "1": 1, "Family 40 Mbps": 3, "3": 3}


def parse(text: str, *, encoding: str = "utf-8") -> ParsedImport:
    return parse_customer_csv(text.encode(encoding), PACKAGES)


def errors_of(parsed: ParsedImport) -> set[tuple[int, str]]:
    return {(error.line, error.field) for error in parsed.errors}


def test_a_clean_file_gives_drafts_with_their_line_numbers():
    parsed = parse(
        "code,name,phone,email,address,area,package,status,pppoe_username,connection_date\n"
        "C1,Rahim Uddin,01711-000000,Rahim@Example.com,House 1,Mirpur,Home 10 Mbps,active,rahim,2026-01-31\n"
        "C2,Karim Mia,+8801811000000,,,,3,suspended,,\n"
    )
    assert parsed.file_errors == [] and parsed.errors == [] and parsed.total_rows == 2
    (line1, first), (line2, second) = parsed.rows
    assert (line1, line2) == (2, 3)
    assert first.phone == "+8801711000000" and first.email == "rahim@example.com" and first.package_id == 1
    assert first.connection_date == date(2026, 1, 31) and first.pppoe_username == "rahim"
    assert second.package_id == 3 and second.status is CustomerStatus.SUSPENDED and second.pppoe_username is None


def test_utf8_bom_and_bangla_names_survive():
    parsed = parse("code,name,phone\r\nC1,রহিম উদ্দিন,01711000000\r\n", encoding="utf-8-sig")
    assert parsed.file_errors == [] and parsed.rows[0][1].name == "রহিম উদ্দিন"


def test_bangla_header_names_are_understood():
    parsed = parse("id,নাম,মোবাইল,এলাকা\nC1,করিম মিয়া,01711000000,মিরপুর\n")
    assert parsed.file_errors == [] and parsed.rows[0][1].name == "করিম মিয়া" and parsed.rows[0][1].area == "মিরপুর"


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_semicolon_tab_and_comma_files_are_all_read(delimiter: str):
    parsed = parse(
        delimiter.join(["code", "name", "phone", "address"])
        + "\n"
        + delimiter.join(["C1", "Rahim Uddin", "01711000000", '"House 4, Road 2"'])
    )
    assert parsed.file_errors == [] and parsed.rows[0][1].address == "House 4, Road 2"


def test_header_aliases_map_case_insensitively():
    parsed = parse(
        "Customer ID;Full Name;Mobile No.;E-mail;Zone;Package Name;PPPoE;Connection Date\n"
        "C9;Nusrat Jahan;01911000000;n@isp.test;Uttara;Family 40 Mbps;nusrat;2025-12-01\n"
    )
    assert parsed.file_errors == [] and parsed.ignored_columns == []
    draft = parsed.rows[0][1]
    assert (draft.code, draft.area, draft.package_id, draft.pppoe_username) == ("C9", "Uttara", 3, "nusrat")
    assert draft.connection_date == date(2025, 12, 1)


@pytest.mark.parametrize(
    ("header", "field"),
    [("customer_id", "code"), ("ID", "code"), ("phone number", "phone"), ("USERNAME", "pppoe_username")],
)
def test_more_aliases(header: str, field: str):
    columns = {"code": "code", "name": "name", "phone": "phone"} | {field: header}
    values = {"code": "C1", "name": "Rahim", "phone": "01711000000", "pppoe_username": "rahim"}
    parsed = parse(",".join(columns.values()) + "\n" + ",".join(values[f] for f in columns))
    assert parsed.file_errors == [] and len(parsed.rows) == 1


def test_unknown_columns_are_ignored_and_listed():
    parsed = parse("code,name,phone,Father's name,Remarks,\nC1,Rahim,01711000000,Abdul,VIP,\n")
    assert parsed.file_errors == [] and len(parsed.rows) == 1
    assert parsed.ignored_columns == ["Father's name", "Remarks"]


def test_missing_required_columns_are_a_file_error_naming_each():
    parsed = parse("Customer Name,Remarks\nRahim,VIP\n")
    assert parsed.rows == [] and parsed.errors == [] and len(parsed.file_errors) == 2
    assert "customer id" in parsed.file_errors[0] and "mobile" in parsed.file_errors[1]
    assert parsed.ignored_columns == ["Remarks"]  # shown so the operator sees why nothing matched


def test_two_columns_meaning_the_same_field_are_a_file_error():
    parsed = parse("code,customer id,name,phone\nC1,C1,Rahim,01711000000\n")
    assert parsed.rows == [] and "both mean code" in parsed.file_errors[0]


def test_empty_file_is_a_file_error():
    assert parse("").file_errors and parse("\n\n ,,\n").file_errors


def test_blank_lines_are_skipped_but_still_counted_for_line_numbers():
    parsed = parse("code,name,phone\n\nC1,Rahim,01711000000\n,,\n  \nC2,Karim,123\n\n")
    assert parsed.total_rows == 2 and [line for line, _ in parsed.rows] == [3]
    assert parsed.errors == [RowError(6, "phone", parsed.errors[0].message, "123")]


def test_a_quoted_cell_spanning_lines_is_one_spreadsheet_row():
    parsed = parse('code,name,phone,address\nC1,Rahim,01711000000,"House 1\nRoad 2"\nC2,Karim,bad\n')
    assert parsed.rows[0][1].address == "House 1\nRoad 2"
    assert errors_of(parsed) == {(3, "phone")}


def test_bad_phone_date_and_package_are_reported_with_lines_and_form_messages():
    parsed = parse(
        "code,name,phone,package,connection_date\n"
        "C1,Rahim,01711000000,Home 10 Mbps,2026-01-31\n"
        "C2,Karim,12345,,\n"
        "C3,Jamal,01711000001,,31/13/2026\n"
        "C4,Kamal,01711000002,Gold 1 Gbps,\n"
        "C 5,,01711000003,,\n"
    )
    assert [line for line, _ in parsed.rows] == [2]
    assert errors_of(parsed) == {(3, "phone"), (4, "connection_date"), (5, "package"), (6, "code"), (6, "name")}
    by_field = {error.field: error for error in parsed.errors}
    assert by_field["phone"].value == "12345" and "01711-000000" in by_field["phone"].message
    assert by_field["connection_date"].value == "31/13/2026" and "DD/MM/YYYY" in by_field["connection_date"].message
    assert by_field["package"].message == "No package named 'Gold 1 Gbps'."
    assert parsed.total_rows == 5


def test_short_rows_are_padded_and_extra_cells_ignored():
    parsed = parse("code,name,phone,area\nC1,Rahim,01711000000\nC2,Karim,01711000001,Mirpur,extra,cells\n")
    assert parsed.errors == [] and [d.area for _, d in parsed.rows] == ["", "Mirpur"]


def test_a_repeated_code_or_pppoe_username_rejects_the_later_row_naming_the_first():
    parsed = parse(
        "code,name,phone,pppoe_username\n"
        "C1,Rahim,01711000000,rahim\n"
        "C2,Karim,01711000001,karim\n"
        "C1,Jamal,01711000002,jamal\n"
        "C3,Kamal,01711000003,karim\n"
        "C1,Arif,01711000004,\n"
    )
    assert [line for line, _ in parsed.rows] == [2, 3]
    assert [(e.line, e.field, e.value) for e in parsed.errors] == [
        (4, "code", "C1"),
        (5, "pppoe_username", "karim"),
        (6, "code", "C1"),
    ]
    assert all("line 2" in e.message for e in parsed.errors if e.field == "code")
    assert "line 3" in parsed.errors[1].message


def test_a_rejected_row_still_claims_its_code():
    parsed = parse("code,name,phone\nC1,Rahim,bad phone\nC1,Karim,01711000000\n")
    assert parsed.rows == [] and errors_of(parsed) == {(2, "phone"), (3, "code")}


def test_invalid_utf8_is_a_clear_file_error_with_the_line():
    content = b"code,name,phone\nC1,Rahim,01711000000\n" + "C2,Müller,01711000001\n".encode("latin-1")
    parsed = parse_customer_csv(content, PACKAGES)
    assert parsed.rows == [] and len(parsed.file_errors) == 1
    assert "UTF-8" in parsed.file_errors[0] and "line 3" in parsed.file_errors[0]


def test_files_over_the_size_limit_are_refused_unread():
    parsed = parse_customer_csv(b"code,name,phone\n" + b"x" * MAX_BYTES, PACKAGES)
    assert parsed.rows == [] and "5 MB" in parsed.file_errors[0]


def test_the_row_limit_allows_exactly_max_rows_and_refuses_one_more():
    header = "code,name,phone\n"
    rows = "".join(f"C{n},Rahim,01711000000\n" for n in range(MAX_ROWS))
    assert len(parse(header + rows).rows) == MAX_ROWS
    parsed = parse(header + rows + "C-last,Rahim,01711000000\n")
    assert parsed.rows == [] and parsed.errors == [] and "50,000" in parsed.file_errors[0]


def test_nul_characters_are_a_file_error_because_postgresql_cannot_store_them():
    parsed = parse("code,name,phone\nC1,Rahim,01711000000\nC2,Kar\x00im,01711000001\n")
    assert parsed.rows == [] and "NUL" in parsed.file_errors[0] and "line 3" in parsed.file_errors[0]


def test_utf16_unicode_text_exports_are_read_like_utf8():
    """Excel's "Unicode text" (UTF-16 with its byte-order mark, tab-separated) reads as the statement import
    reads it (web/csv_files.py); a UTF-16 file without the mark is refused as unreadable."""
    parsed = parse("code\tname\tphone\nC1\tRahim\t01711000000\n", encoding="utf-16")
    assert parsed.file_errors == [] and [draft.name for _, draft in parsed.rows] == ["Rahim"]
    bare = parse_customer_csv("code,name\nC1,Rahim\n".encode("utf-16-le"), PACKAGES)
    assert bare.rows == [] and "UTF-8" in bare.file_errors[0]


def test_an_excel_workbook_is_refused_with_advice():
    parsed = parse_customer_csv(b"PK\x03\x04" + bytes(range(256)), PACKAGES)
    assert parsed.rows == [] and "Excel workbook" in parsed.file_errors[0] and "CSV UTF-8" in parsed.file_errors[0]


def test_an_unreadable_line_is_a_file_error():
    parsed = parse("code,name,phone\nC1,Rahim,01711000000\nC2," + "x" * 200_000 + ",01711000001\n")
    assert parsed.rows == [] and "Line 3" in parsed.file_errors[0]


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("1711000000", "+8801711000000"),  # a spreadsheet dropped the leading 0
        ("01711-000000", "+8801711000000"),
        ("+880 1711 000000", "+8801711000000"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_mobile_numbers_as_spreadsheets_write_them(phone: str, stored: str):
    parsed = parse(f"code,name,phone\nC1,Rahim,{phone}\n")
    assert parsed.rows[0][1].phone == stored


@pytest.mark.parametrize(
    ("written", "meant"),
    [("31/01/2026", date(2026, 1, 31)), ("1-2-2026", date(2026, 2, 1)), ("05.11.2025", date(2025, 11, 5))],
)
def test_day_first_dates_are_read(written: str, meant: date):
    parsed = parse(f"code,name,phone,connection_date\nC1,Rahim,01711000000,{written}\n")
    assert parsed.rows[0][1].connection_date == meant
