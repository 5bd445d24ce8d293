"""Reading bank and mobile-money statements: export shapes, amounts, dates, line numbers; and the import's plan,
which must settle bills exactly as recording the same payments one by one would."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ispb_billing import Money, OpenBill, allocate
from ispb_platform.payments.imports.queries import LockedCustomer, ReadyLine
from ispb_platform.payments.imports.service import plan_payments
from ispb_platform.payments.imports.statement import (
    Defaults,
    StatementLine,
    StatementRejected,
    parse_amount,
    read_statement,
)
from ispb_platform.payments.queries import PaymentMethod

TODAY = date(2026, 12, 2)
DEFAULTS = Defaults(PaymentMethod.BANK, date(2026, 12, 1), TODAY, "BDT")


def lines_of(content: bytes | str, defaults: Defaults = DEFAULTS) -> list[StatementLine]:
    data = content.encode() if isinstance(content, str) else content
    return list(read_statement(data, defaults).lines)


def test_bom_semicolons_crlf_a_preamble_and_header_case_are_forgiven():
    statement = "\ufeffCity Bank;Account 0012;Dec 2026\r\n\r\nTRXID;CUSTOMER ID;AMOUNT (BDT);Value Date\r\n"
    statement += 'T1;C1;"1,200.50";01/12/2026\r\n\r\nT2;C2;500;2026-11-30 09:15:00\r\n'
    first, second = lines_of(statement)
    assert (first.line, first.reference, first.customer_code, first.amount_minor) == (4, "T1", "C1", 120050)
    assert (first.received_on, first.method, first.problem) == (date(2026, 12, 1), PaymentMethod.BANK, "")
    assert (second.line, second.received_on, second.amount_minor) == (6, date(2026, 11, 30), 50000)
    assert first.original == 'T1,C1,"1,200.50",01/12/2026'


def test_a_bkash_merchant_export_takes_the_trxid_and_the_payers_reference_as_customer_id():
    statement = (
        "Date,Time,Transaction Type,TrxID,Sender / Receiver,Amount,Reference,Balance\n"
        "01-Dec-2026,10:15 AM,Payment,9L2K3J4H,01711-000001,800.00,C-0042,15800.00\n"
        "1 Dec 2026,11:00 AM,Payment,9L2K3J4I,8801811000002,500,,16300.00\n"
    )
    parsed = read_statement(statement.encode(), DEFAULTS)
    assert parsed.ignored_columns == ["Time", "Transaction Type", "Balance"]
    first, second = list(parsed.lines)
    assert (first.reference, first.customer_code, first.customer_phone) == ("9L2K3J4H", "C-0042", "+8801711000001")
    assert (second.customer_code, second.customer_phone, second.received_on) == (
        "",
        "+8801811000002",
        date(2026, 12, 1),
    )


def test_a_customer_column_holding_phones_is_matched_by_phone_too():
    [line] = lines_of("Reference,Customer,Amount\nR1,01711-000001,5\n")
    assert (line.customer_code, line.customer_phone) == ("01711-000001", "+8801711000001")


@pytest.mark.parametrize(
    ("cell", "minor"),
    [("1,200.50", 120050), ("1,00,000", 10000000), ("৳ 500", 50000), ("Tk 1,200", 120000), ("500 BDT", 50000)],
)
def test_amounts_as_exports_write_them(cell: str, minor: int):
    assert parse_amount(cell, "BDT") == (minor, "")


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("12,5", "unclear"),
        ("1.200,50", "unclear"),
        ("12.345", "more decimals than BDT"),
        ("-50", "going out"),
        ("0", "zero"),
        ("", "No amount"),
        ("99999999999999", "too large"),
        ("1e3", "unclear"),
    ],
)
def test_amounts_that_could_be_misread_are_refused_with_the_reason(cell: str, reason: str):
    minor, problem = parse_amount(cell, "BDT")
    assert minor is None and reason in problem


def test_dates_methods_and_references_are_checked_per_line():
    statement = (
        "Reference,Customer,Amount,Date,Method\n"
        "R1,C1,5,1-Dec-2026,bKash\n"
        "R2,C1,5,01.12.2026,BEFTN\n"
        "R3,C1,5,,\n"
        "R4,C1,5,2026-12-03,cash\n"
        "R5,C1,5,2025-11-01,cash\n"
        "R6,C1,5,12/31/2026,cash\n"
        "R7,C1,5,,cheque card\n"
        ",C1,5,,\n"
        f"{'X' * 101},C1,5,,\n"
        "R10,,5,,\n"
    )
    got = {line.line: line for line in lines_of(statement)}
    assert got[2].method is PaymentMethod.MOBILE_MONEY and got[3].method is PaymentMethod.BANK
    assert (got[4].received_on, got[4].method) == (DEFAULTS.received_on, DEFAULTS.method)  # the form's defaults
    assert "future" in got[5].problem and "more than a year ago" in got[6].problem
    assert "not a date" in got[7].problem and "day first" in got[7].problem  # 31 is no month
    assert "cheque card" in got[8].problem and "recorded twice" in got[9].problem
    assert "longer than 100" in got[10].problem and "No customer id or phone" in got[11].problem
    assert [n for n, line in got.items() if not line.problem] == [2, 3, 4]


def test_utf16_exports_are_read():
    assert lines_of("Reference\tPhone\tAmount\r\nR1\t01711000001\t5\r\n".encode("utf-16"))[0].amount_minor == 500


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04...", "Excel workbook"),
        (b"\xff\xfe\xff", "UTF-16"),
        (b"name,phone\nRahim,0171\n", "No header row found"),
        (b"Reference,Amount\nR1,5\n", "no customer column"),
        (b'Reference,Customer,Amount\nR1,C1,"5\n', "cannot be read"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_as_a_whole(content: bytes, message: str):
    with pytest.raises(StatementRejected, match=message):
        lines_of(content)


def _bills(customer: int, outstanding: list[int]) -> list[OpenBill]:
    return [
        OpenBill(customer * 100 + n, date(2026, 1 + n, 7), date(2026, 1 + n, 1), Money(amount, "BDT"))
        for n, amount in enumerate(outstanding)
    ]


@settings(deadline=None)  # a shared 2-CPU machine: timing is not what this test is about
@given(
    st.lists(st.lists(st.integers(1, 100_000), max_size=3), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 150_000)), min_size=1, max_size=12),
)
def test_the_plan_settles_bills_as_recording_each_payment_in_turn_would(
    outstanding: list[list[int]], payments: list[tuple[int, int]]
):
    customers = len(outstanding)
    lines = [
        ReadyLine(n + 2, customer % customers, amount, f"R{n}", "bank") for n, (customer, amount) in enumerate(payments)
    ]
    bills = {c: _bills(c, amounts) for c, amounts in enumerate(outstanding)}
    locked = {c: LockedCustomer("active", sum(amounts)) for c, amounts in enumerate(outstanding)}
    planned = plan_payments(lines, bills, locked, "BDT")
    left = {c: list(b) for c, b in bills.items()}  # one payment after the other, with the rule itself
    balance = {c: sum(amounts) for c, amounts in enumerate(outstanding)}
    for line, plan in zip(lines, planned, strict=True):
        expected = allocate(Money(line.amount_minor, "BDT"), left[line.customer_id])
        paid = {a.bill_id: a.amount for a in expected.allocations}
        left[line.customer_id] = [
            OpenBill(b.bill_id, b.due_date, b.issue_date, b.outstanding - paid.get(b.bill_id, Money(0, "BDT")))
            for b in left[line.customer_id]
        ]
        balance[line.customer_id] -= line.amount_minor
        assert plan.settlement == expected and plan.balance_minor == balance[line.customer_id]
        assert plan.settlement.applied + plan.settlement.unapplied == Money(line.amount_minor, "BDT")


def test_dates_a_year_back_are_the_limit():
    edge = (TODAY - timedelta(days=366)).isoformat()
    [line] = lines_of(f"Reference,Customer,Amount,Date\nR1,C1,5,{edge}\n")
    assert line.problem == "" and line.received_on == TODAY - timedelta(days=366)
