"""Bills and Payments → Import payments: a bank or mobile-money statement, previewed line by line, then recorded
set-based with the same money rules as a payment recorded at the counter, each transaction once."""

import asyncio
import contextvars
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from factories import Line, make_bill, make_billing_profile, make_customer, make_payment
from ispb_billing import Money
from ispb_platform.auth.roles import Principal, Role, SessionKind
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute, local_today
from ispb_platform.notify.events import events_to_outbox
from ispb_platform.payments.imports import service
from ispb_platform.payments.imports.service import (
    Confirmation,
    confirm_import,
    preview_statement,
    request_confirmation,
)
from ispb_platform.payments.queries import PaymentMethod
from ispb_platform.payments.service import record_payment
from ispb_tenants import Database, TenantRef


def _operator(tenant: TenantRef) -> Principal:
    return Principal("test", SessionKind.STAFF, 0, Role.OPERATOR_ADMIN, "Test Operator", "op@isp.test", tenant)


async def _preview(db: Database, tenant: TenantRef, content: bytes, today: date) -> int:
    async with db.tenant(tenant) as scope:
        return await preview_statement(
            scope,
            _operator(tenant),
            file_name="statement.csv",
            content=content,
            default_method=PaymentMethod.MOBILE_MONEY,
            default_date=today,
            today=today,
        )


async def _confirm(db: Database, tenant: TenantRef, import_id: int, today: date) -> Confirmation:
    """The operator's "Record", then the job's work for that import (as ``payments.confirm_imports`` does it)."""
    async with db.tenant(tenant) as scope:
        await request_confirmation(scope, _operator(tenant), import_id, queue=None, ip="203.0.113.7")
    return await confirm_import(db, tenant, import_id, today=today, secret_key="t" * 40, queue=None)


async def _fetch(db: Database, tenant: TenantRef, sql: str, *args: Any) -> list[asyncpg.Record]:
    async with db.tenant(tenant) as scope:
        return list(await scope.connection.fetch(sql, *args))


async def _verdicts(db: Database, tenant: TenantRef, import_id: int) -> dict[int, tuple[str, str]]:
    rows = await _fetch(
        db, tenant, "SELECT line, status, problem FROM payment_import_line WHERE import_id = $1", import_id
    )
    return {r["line"]: (r["status"], r["problem"]) for r in rows}


@pytest.fixture(name="shop")
async def fx_shop(db: Database, make_tenant, make_staff, make_client, sign_in) -> dict[str, Any]:
    """A tenant with customers C1, C2 (own phones), C3 and C4 (one shared phone), a recorded bKash payment, and a
    signed-in operator."""
    tenant = await make_tenant("pimp")
    today = local_today(datetime.now(UTC), tenant)
    async with db.tenant(tenant) as scope:
        ids = {
            code: await make_customer(scope, code=code, name=f"Customer {code}", phone=phone)
            for code, phone in (
                ("C1", "+8801711000001"),
                ("C2", "+8801711000002"),
                ("C3", "+8801711000009"),
                ("C4", "+8801711000009"),
            )
        }
        await make_payment(
            scope, customer_id=ids["C2"], amount_minor=10000, method=PaymentMethod.MOBILE_MONEY, reference="TRXOLD 1"
        )
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    return {"tenant": tenant, "today": today, "ids": ids, "client": client, "token": token}


async def test_preview_judges_every_line_with_its_reason_and_records_nothing(db: Database, shop):
    tenant, today, client, token = shop["tenant"], shop["today"], shop["client"], shop["token"]
    d = today.strftime("%d/%m/%Y")
    statement = (
        "\ufeffMerchant statement;01700000000\r\n"  # an export's account line above the header
        "TrxID;Customer ID;Amount (BDT);Date;Method\r\n"
        f'TRX1;C1;"1,200.50";{d} 10:15;bKash\r\n'  # 3: ready, by customer id
        f"TRX2;01711-000002;500;{today.isoformat()};\r\n"  # 4: ready, by phone
        f"trxold1;C2;100;{d};bkash\r\n"  # 5: already recorded (as "TRXOLD 1")
        f"TRX1;C2;50;{d};Nagad\r\n"  # 6: repeats line 3
        f"TRX3;C999;100;{d};\r\n"  # 7: unknown customer
        f"TRX4;01711000009;100;{d};\r\n"  # 8: two customers have that phone
        f'TRX5;C1;"12,5";{d};\r\n'  # 9: unclear amount
        f"TRX6;C1;-50;{d};\r\n"  # 10: money out
        f";C1;100;{d};\r\n"  # 11: no reference
        "TRX7;C1;100;31/02/2026;\r\n"  # 12: no such date
        f"TRX8;C1;100;{(today + timedelta(days=1)).isoformat()};\r\n"  # 13: future
        f"TRX9;C1;100;{d};PayPal\r\n"  # 14: unknown method
        "\r\n"
    ).encode()
    form = await client.get("/panel/payments/import")
    assert form.status_code == 200 and 'name="file"' in form.text
    bills_page = await client.get("/panel/bills")
    assert 'href="/panel/payments/import"' in bills_page.text  # linked from Bills and Payments
    answer = await client.post(
        "/panel/payments/import",
        data={"_csrf_token": token, "method": "mobile_money", "received_on": today.isoformat()},
        files={"file": ("bkash.csv", statement, "text/csv")},
    )
    assert answer.status_code == 303, answer.text[:2000]
    import_id = int(answer.headers["location"].rsplit("/", 1)[1])
    verdicts = await _verdicts(db, tenant, import_id)
    assert {line: status for line, (status, _) in verdicts.items()} == {
        3: "ready",
        4: "ready",
        5: "duplicate",
        6: "duplicate",
        7: "unknown_customer",
        8: "unknown_customer",
        9: "invalid",
        10: "invalid",
        11: "invalid",
        12: "invalid",
        13: "invalid",
        14: "invalid",
    }
    assert "already recorded" in verdicts[5][1] and "repeats line 3" in verdicts[6][1]
    assert "No customer has the id C999" in verdicts[7][1] and "2 customers have the phone" in verdicts[8][1]
    assert "12,5" in verdicts[9][1] and "going out" in verdicts[10][1] and "recorded twice" in verdicts[11][1]
    assert "31/02/2026" in verdicts[12][1] and "future" in verdicts[13][1] and "PayPal" in verdicts[14][1]
    [line] = await _fetch(db, tenant, "SELECT * FROM payment_import_line WHERE import_id = $1 AND line = 3", import_id)
    assert (line["amount_minor"], line["method"], line["received_on"]) == (120050, "mobile_money", today)
    assert (await _fetch(db, tenant, "SELECT count(*) AS n FROM payment"))[0]["n"] == 1  # nothing written
    assert (await _fetch(db, tenant, "SELECT count(*) AS n FROM domain_event"))[0]["n"] == 1

    page = await client.get(f"/panel/payments/import/{import_id}")
    assert page.status_code == 200 and "Record 2 payments" in page.text and "1,700.50" in page.text
    assert "repeats line 3" in page.text and "Unknown customer" in page.text  # refused lines shown first
    refused = await client.get(f"/panel/payments/import/{import_id}/refused.csv")
    rows = refused.text.lstrip("\ufeff").splitlines()
    assert rows[0] == "TrxID,Customer ID,Amount (BDT),Date,Method,ISPB line,ISPB reason" and len(rows) == 11
    assert rows[5].startswith('TRX5,C1,"12,5",') and ",9," in rows[5]

    confirmed = await client.post(f"/panel/payments/import/{import_id}/confirm", data={"_csrf_token": token})
    assert confirmed.status_code == 303
    waiting = await client.get(f"/panel/payments/import/{import_id}")
    assert "Recording 2 payments: this page shows how far it is" in waiting.text  # the flash
    assert "Waiting for the worker to record 2 payments" in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    assert 'action="/panel/payments/import/' not in waiting.text  # no second "Record" button
    polled = await client.get(f"/panel/payments/import/{import_id}/progress", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and 'id="import-progress"' in polled.text and "<html" not in polled.text
    assert (await _fetch(db, tenant, "SELECT count(*) AS n FROM payment"))[0]["n"] == 1  # the job records
    run = await execute(db, get_job("payments.confirm_imports"), tenant=tenant, trigger=Trigger.MANUAL, key="t")
    assert run.counts == {"imports": 1, "payments": 2, "reactivated": 0}
    polled = await client.get(f"/panel/payments/import/{import_id}/progress", headers={"HX-Request": "true"})
    assert polled.headers["HX-Redirect"] == f"/panel/payments/import/{import_id}"  # done: the whole page again
    done = await client.get(f"/panel/payments/import/{import_id}?show=ready")
    assert "Payments recorded (1,700.50 BDT)" in done.text and "import-progress" not in done.text
    payments = await _fetch(db, tenant, "SELECT reference, amount_minor, note FROM payment ORDER BY id")
    assert [(p["reference"], p["amount_minor"]) for p in payments][1:] in (
        [("TRX1", 120050), ("TRX2", 50000)],
        [("TRX2", 50000), ("TRX1", 120050)],
    )
    assert all(p["note"].startswith(f"Statement import {import_id}, line ") for p in payments[1:])
    [activity] = await _fetch(
        db, tenant, "SELECT summary, details FROM activity_log WHERE action = 'payments.imported'"
    )
    details = json.loads(activity["details"]) if isinstance(activity["details"], str) else activity["details"]
    assert "Imported 2 payments (1,700.50 BDT)" in activity["summary"] and "10 lines refused" in activity["summary"]
    assert (details["recorded"], details["duplicate"], details["unknown_customer"], details["invalid"]) == (2, 2, 2, 6)


async def test_a_file_that_cannot_be_read_comes_back_with_the_reason_beside_the_field(db: Database, shop):
    client, token, today = shop["client"], shop["token"], shop["today"]
    data = {"_csrf_token": token, "method": "bank", "received_on": today.isoformat()}
    workbook = await client.post(
        "/panel/payments/import", data=data, files={"file": ("s.xlsx", b"PK\x03\x04rest", "application/zip")}
    )
    assert workbook.status_code == 422 and "Excel workbook" in workbook.text
    assert '<option value="bank" selected' in workbook.text  # what was chosen is kept
    no_header = await client.post(
        "/panel/payments/import", data=data, files={"file": ("s.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert no_header.status_code == 422 and "No header row found" in no_header.text
    bad_date = await client.post(
        "/panel/payments/import",
        data=data | {"received_on": (today + timedelta(days=3)).isoformat()},
        files={"file": ("s.csv", b"TrxID,Phone,Amount\nX1,01711000001,5\n", "text/csv")},
    )
    assert bad_date.status_code == 422 and "in the future" in bad_date.text
    assert (await _fetch(db, shop["tenant"], "SELECT count(*) AS n FROM payment_import"))[0]["n"] == 0


async def _billed_twin(db: Database, tenant: TenantRef, today: date) -> dict[str, int]:
    """Customers with open bills: A owes two months, B one (with VAT), C nothing, D a bill already half paid."""
    async with db.tenant(tenant) as scope:
        ids = {
            code: await make_customer(scope, code=code, phone=f"+88017110001{n:02d}") for n, code in enumerate("ABCD")
        }
        old, new = today.replace(day=1) - timedelta(days=40), today.replace(day=1)
        await make_bill(scope, customer_id=ids["A"], period_start=old.replace(day=1), lines=(Line(net_minor=84000),))
        await make_bill(scope, customer_id=ids["A"], period_start=new, lines=(Line(net_minor=84000),))
        vat = Line(net_minor=80001, vat_rate_bp=750, vat_minor=6000)
        await make_bill(scope, customer_id=ids["B"], period_start=new, lines=(vat,))
        await make_bill(scope, customer_id=ids["D"], period_start=new, lines=(Line(net_minor=100000),))
        await make_payment(scope, customer_id=ids["D"], amount_minor=33333, received_on=today)
    return ids


PAYMENTS = [  # (customer, amount, reference): A twice (the second sees what the first paid), B exactly, C credit
    ("A", 120050, "TA1"),
    ("B", 86001, "TB1"),
    ("A", 60000, "TA2"),
    ("C", 99999, "TC1"),
    ("D", 66667, "TD1"),
    ("A", 1, "TA3"),
]


async def _ledger(db: Database, tenant: TenantRef) -> dict[str, Any]:
    """Everything a payment changes, by customer code and bill period (ids differ between tenants)."""
    bills = await _fetch(
        db,
        tenant,
        "SELECT c.code, b.period_start, b.paid_minor, b.status FROM bill b JOIN customer c ON c.id = b.customer_id"
        " ORDER BY c.code, b.period_start",
    )
    allocations = await _fetch(
        db,
        tenant,
        "SELECT p.reference, b.period_start, a.amount_minor FROM payment_allocation a JOIN payment p ON p.id ="
        " a.payment_id JOIN bill b ON b.id = a.bill_id ORDER BY p.reference, b.period_start",
    )
    payments = await _fetch(
        db, tenant, "SELECT reference, amount_minor, unapplied_minor, method FROM payment ORDER BY reference"
    )
    balances = await _fetch(
        db,
        tenant,
        "SELECT c.code, a.balance_minor, (SELECT coalesce(sum(CASE WHEN l.kind = 'debit' THEN l.amount_minor"
        " ELSE -l.amount_minor END), 0) FROM ledger_entry l WHERE l.customer_id = c.id) AS ledger"
        " FROM customer c JOIN customer_account a ON a.customer_id = c.id ORDER BY c.code",
    )
    events = await _fetch(
        db,
        tenant,
        "SELECT c.code, e.payload FROM domain_event e JOIN customer c ON c.id = e.customer_id"
        " WHERE e.name = 'payment.received' ORDER BY e.id",
    )
    by_payment = {r["id"]: r["reference"] for r in await _fetch(db, tenant, "SELECT id, reference FROM payment")}
    periods = {
        r["id"]: (r["code"], r["period_start"])
        for r in await _fetch(
            db, tenant, "SELECT b.id, c.code, b.period_start FROM bill b JOIN customer c ON c.id = b.customer_id"
        )
    }
    payloads = []
    for event in events:
        payload = json.loads(event["payload"]) if isinstance(event["payload"], str) else dict(event["payload"])
        payload["reference"] = by_payment[payload.pop("payment_id")]
        payload["bills_paid"] = [periods[b] for b in payload["bills_paid"]]
        payloads.append((event["code"], payload))
    return {
        "bills": [tuple(r) for r in bills],
        "allocations": [tuple(r) for r in allocations],
        "payments": [tuple(r) for r in payments],
        "balances": [tuple(r) for r in balances],
        "events": sorted(payloads, key=lambda e: e[1]["reference"]),
    }


async def test_an_import_records_exactly_what_recording_each_payment_at_the_counter_records(db: Database, make_tenant):
    imported, counter = await make_tenant("pimpa"), await make_tenant("pimpb")
    today = local_today(datetime.now(UTC), imported)
    await _billed_twin(db, imported, today)
    counter_ids = await _billed_twin(db, counter, today)
    rows = "".join(f'{ref},{code},"{amount // 100:,}.{amount % 100:02d}"\n' for code, amount, ref in PAYMENTS)
    import_id = await _preview(db, imported, ("Reference,Customer,Amount\n" + rows).encode(), today)
    done = await _confirm(db, imported, import_id, today)
    assert (done.summary.recorded, done.summary.recorded_minor) == (6, sum(a for _, a, _ in PAYMENTS))
    for code, amount, reference in PAYMENTS:  # the same payments, one by one, in the file's order
        async with db.tenant(counter) as scope:
            await record_payment(
                scope.connection,
                customer_id=counter_ids[code],
                amount=Money(amount, "BDT"),
                method=PaymentMethod.MOBILE_MONEY,
                reference=reference,
                received_on=today,
                received_by="test",
            )
    got, expected = await _ledger(db, imported), await _ledger(db, counter)
    assert got == expected
    assert all(balance == ledger for _, balance, ledger in got["balances"])  # the cache equals the ledger
    a_bills = [b for b in got["bills"] if b[0] == "A"]
    assert [(b[2], b[3]) for b in a_bills] == [(84000, "paid"), (84000, "paid")]  # 1,200.50 + 600 + 0.01
    assert ("A", -12051) in [(c, b) for c, b, _ in got["balances"]]  # 1,800.51 paid for 1,680.00 owed


async def test_a_second_confirmation_and_a_second_upload_record_nothing_again(db: Database, shop):
    tenant, today = shop["tenant"], shop["today"]
    content = b"TrxID,Customer,Amount\nR1,C1,100\nR2,C2,200\n"
    first = await _preview(db, tenant, content, today)
    again = await _preview(db, tenant, content, today)  # previewed before the first is confirmed: ready too
    assert (await _confirm(db, tenant, first, today)).summary.recorded == 2
    twice = await _confirm(db, tenant, first, today)
    assert (twice.recorded, twice.finished, twice.summary.recorded) == (0, False, 2)
    late = await _confirm(db, tenant, again, today)
    assert (late.summary.recorded, late.summary.duplicate) == (0, 2)
    assert {s for s, _ in (await _verdicts(db, tenant, again)).values()} == {"duplicate"}
    assert "recorded after the preview" in (await _verdicts(db, tenant, again))[2][1]
    third = await _preview(db, tenant, content, today)
    assert {s for s, _ in (await _verdicts(db, tenant, third)).values()} == {"duplicate"}
    rows = await _fetch(db, tenant, "SELECT reference FROM payment WHERE reference LIKE 'R_'")
    assert sorted(r["reference"] for r in rows) == ["R1", "R2"]
    client, token = shop["client"], shop["token"]
    answer = await client.post(f"/panel/payments/import/{first}/confirm", data={"_csrf_token": token})
    assert answer.status_code == 303
    assert "already imported" in (await client.get(answer.headers["location"])).text
    asked = await _fetch(
        db, tenant, "SELECT count(*) AS n FROM activity_log WHERE action = 'payments.import_confirmed'"
    )
    assert asked[0]["n"] == 2  # first and again, asked for once each: the clicks after changed nothing


async def test_concurrent_confirmations_record_each_transaction_once(db: Database, shop):
    """Two imports of the same transactions, confirmed at the same time: one records them, the other waits
    (the unique index) and marks its lines duplicate; its other lines are still recorded."""
    tenant, today = shop["tenant"], shop["today"]
    first = await _preview(db, tenant, b"TrxID,Customer,Amount\nK1,C1,100\nK2,C2,200\n", today)
    # the same references, paid in by other customers (other row locks: only the index stands between them)
    second = await _preview(db, tenant, b"TrxID,Customer,Amount\nK1,C3,100\nK2,C4,200\nK3,C3,300\n", today)
    same = await _preview(db, tenant, b"TrxID,Customer,Amount\nK1,C1,100\nK2,C2,200\n", today)
    async with db.tenant(tenant) as scope:
        await request_confirmation(scope, _operator(tenant), first, queue=None, ip="")
    async with db.tenant(tenant) as scope:
        await service._confirm_chunk(scope, first, today, "", None)  # the first import's chunk, not committed yet
        # their own transactions: tasks started from an empty context, not inside this scope's
        racing = asyncio.create_task(_confirm(db, tenant, second, today), context=contextvars.Context())
        locked = asyncio.create_task(_confirm(db, tenant, same, today), context=contextvars.Context())
        await asyncio.sleep(0.5)
        assert not racing.done() and not locked.done()  # waiting for this transaction's references and locks
    assert (await confirm_import(db, tenant, first, today=today, secret_key="", queue=None)).finished
    late, blocked = await racing, await locked
    assert (late.summary.recorded, late.summary.duplicate) == (1, 2)
    assert (blocked.summary.recorded, blocked.summary.duplicate) == (0, 2)
    payments = await _fetch(
        db,
        tenant,
        "SELECT p.reference, c.code FROM payment p JOIN customer c ON c.id = p.customer_id"
        " WHERE p.reference LIKE 'K_' ORDER BY p.reference",
    )
    assert [tuple(p) for p in payments] == [("K1", "C1"), ("K2", "C2"), ("K3", "C3")]
    balances = await _fetch(
        db, tenant, "SELECT c.code, a.balance_minor FROM customer c JOIN customer_account a ON a.customer_id = c.id"
    )
    assert {r["code"]: r["balance_minor"] for r in balances}["C3"] == -30000  # K3 only, not K1
    results = await asyncio.gather(*(_confirm(db, tenant, i, today) for i in (first, second, same)))
    assert all(r.summary.confirmed and not r.finished and r.recorded == 0 for r in results)


async def test_two_runs_of_one_import_at_once_record_each_line_once(db: Database, shop, monkeypatch):
    """Two workers on the same import (the button's run and the minute's): they take turns chunk by chunk under
    the import's row lock, each going on from the other's mark; one of them confirms it."""
    tenant, today = shop["tenant"], shop["today"]
    monkeypatch.setattr(service, "CHUNK", 1)  # a chunk per customer: four chunks to share
    rows = "".join(f"W{n},{code},{n + 1}00\n" for n, code in enumerate(["C1", "C2", "C1", "C3", "C4", "C2"]))
    import_id = await _preview(db, tenant, ("TrxID,Customer,Amount\n" + rows).encode(), today)
    async with db.tenant(tenant) as scope:
        await request_confirmation(scope, _operator(tenant), import_id, queue=None, ip="")
    runs = await asyncio.gather(
        *(
            asyncio.create_task(
                confirm_import(db, tenant, import_id, today=today, secret_key="", queue=None),
                context=contextvars.Context(),
            )
            for _ in range(2)
        )
    )
    assert sum(r.recorded for r in runs) == 6 and sum(r.finished for r in runs) == 1
    payments = await _fetch(db, tenant, "SELECT reference FROM payment WHERE reference LIKE 'W_' ORDER BY reference")
    assert [p["reference"] for p in payments] == ["W0", "W1", "W2", "W3", "W4", "W5"]
    [summary] = await _fetch(
        db, tenant, "SELECT status, recorded, recorded_minor FROM payment_import WHERE id = $1", import_id
    )
    assert tuple(summary) == ("confirmed", 6, 210000)
    events = await _fetch(db, tenant, "SELECT count(*) AS n FROM domain_event WHERE name = 'payment.received'")
    assert events[0]["n"] == 7  # the shop's older payment and these six


async def test_a_run_that_dies_mid_way_is_completed_by_the_next_exactly_once(db: Database, make_tenant, monkeypatch):
    """The worker dies in the second chunk: the first chunk stays recorded with the import's mark, the second is
    rolled back whole; the next run records the rest, and the ledger is the one recording each payment at the
    counter gives."""
    imported, counter = await make_tenant("pimpk"), await make_tenant("pimpl")
    today = local_today(datetime.now(UTC), imported)
    await _billed_twin(db, imported, today)
    counter_ids = await _billed_twin(db, counter, today)
    monkeypatch.setattr(service, "CHUNK", 2)
    rows = "".join(f'{ref},{code},"{amount // 100:,}.{amount % 100:02d}"\n' for code, amount, ref in PAYMENTS)
    import_id = await _preview(db, imported, ("Reference,Customer,Amount\n" + rows).encode(), today)
    async with db.tenant(imported) as scope:
        await request_confirmation(scope, _operator(imported), import_id, queue=None, ip="")
    reactivate, chunks = service._reactivate_paid, []

    async def dies_in_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        chunks.append(args[1])
        if len(chunks) == 2:
            raise ConnectionResetError("the worker was killed")
        return await reactivate(*args, **kwargs)

    monkeypatch.setattr(service, "_reactivate_paid", dies_in_the_second_chunk)
    with pytest.raises(ConnectionResetError):
        await confirm_import(db, imported, import_id, today=today, secret_key="", queue=None)
    [state] = await _fetch(
        db, imported, "SELECT status, recorded, recorded_through FROM payment_import WHERE id = $1", import_id
    )
    first_chunk = await _fetch(
        db, imported, "SELECT count(*) AS n FROM payment WHERE note LIKE $1", f"Statement import {import_id},%"
    )
    # A's three lines: a chunk of 2 lines ends after its last customer's lines
    assert state["status"] == "confirming" and state["recorded"] == first_chunk[0]["n"] == 3
    assert state["recorded_through"] == max(chunks[0])
    again = await confirm_import(db, imported, import_id, today=today, secret_key="", queue=None)
    assert again.finished and again.recorded == 3 and again.summary.recorded == 6
    assert again.summary.recorded_minor == sum(a for _, a, _ in PAYMENTS)
    for code, amount, reference in PAYMENTS:
        async with db.tenant(counter) as scope:
            await record_payment(
                scope.connection,
                customer_id=counter_ids[code],
                amount=Money(amount, "BDT"),
                method=PaymentMethod.MOBILE_MONEY,
                reference=reference,
                received_on=today,
                received_by="test",
            )
    assert await _ledger(db, imported) == await _ledger(db, counter)


async def test_an_imported_payment_sends_its_message(db: Database, shop):
    tenant, today = shop["tenant"], shop["today"]
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO notify_event (event, enabled, channel) VALUES ('payment.received', true, 'sms')"
        )
        await scope.connection.execute("UPDATE domain_event SET notified_at = now()")  # the older payment's
    import_id = await _preview(db, tenant, b"TrxID,Customer,Amount\nM1,C1,1200.50\nM2,01711000002,300\n", today)
    await _confirm(db, tenant, import_id, today)
    assert await events_to_outbox(db, tenant) == 2
    messages = await _fetch(db, tenant, "SELECT to_address, body FROM outbox ORDER BY to_address")
    assert len(messages) == 2
    assert "1,200.50 BDT" in messages[0]["body"] and "300.00 BDT" in messages[1]["body"]
    assert await events_to_outbox(db, tenant) == 0  # once each


async def test_suspended_customers_who_paid_what_was_overdue_are_reactivated(db: Database, make_tenant):
    tenant = await make_tenant("pimpr")
    today = local_today(datetime.now(UTC), tenant)
    overdue = today.replace(day=1) - timedelta(days=70)
    async with db.tenant(tenant) as scope:
        auto = await make_billing_profile(scope, auto_activate=True)
        manual = await make_billing_profile(scope, auto_activate=False)
        ids = {}
        for code, profile in (("PAID", auto), ("PART", auto), ("HAND", manual), ("OK", auto)):
            status = "active" if code == "OK" else "suspended"
            ids[code] = await make_customer(scope, code=code, billing_profile_id=profile, status=status)
            await make_bill(scope, customer_id=ids[code], period_start=overdue.replace(day=1))
    content = b"TrxID,Customer,Amount\nP1,PAID,500\nP2,PART,100\nP3,HAND,500\nP4,OK,500\n"
    import_id = await _preview(db, tenant, content, today)
    done = await _confirm(db, tenant, import_id, today)
    assert (done.summary.recorded, done.reactivated, done.summary.reactivated) == (4, 1, 1)
    statuses = await _fetch(db, tenant, "SELECT code, status FROM customer ORDER BY code")
    assert {r["code"]: r["status"] for r in statuses} == {
        "PAID": "active",
        "PART": "suspended",  # still owes 400.00 overdue
        "HAND": "suspended",  # its profile leaves reactivation to a person
        "OK": "active",
    }
    log = await _fetch(db, tenant, "SELECT customer_id, action, actor FROM suspension_log")
    assert [(r["customer_id"], r["action"]) for r in log] == [(ids["PAID"], "activated")]
    assert log[0]["actor"] == "system (statement import by Test Operator <op@isp.test>)"
    events = await _fetch(db, tenant, "SELECT name FROM domain_event WHERE name = 'customer.activated'")
    assert len(events) == 1


async def test_a_failed_attempt_shows_on_the_progress_until_a_retry_records_the_import(db: Database, shop, monkeypatch):
    tenant, today, client, token = shop["tenant"], shop["today"], shop["client"], shop["token"]
    import_id = await _preview(db, tenant, b"TrxID,Customer,Amount\nF1,C1,100\n", today)
    await client.post(f"/panel/payments/import/{import_id}/confirm", data={"_csrf_token": token})
    job = get_job("payments.confirm_imports")

    async def database_away(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(service.queries, "next_chunk", database_away)
        with pytest.raises(ConnectionRefusedError):
            await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="fails")
    polled = await client.get(f"/panel/payments/import/{import_id}/progress", headers={"HX-Request": "true"})
    assert "The last attempt failed at" in polled.text and "the database went away" in polled.text
    assert 'hx-trigger="every 2s"' in polled.text  # still polling: the retry is coming
    assert (await execute(db, job, tenant=tenant, trigger=Trigger.MANUAL, key="retry")).counts["payments"] == 1
    page = await client.get(f"/panel/payments/import/{import_id}")
    assert "Payments recorded (100.00 BDT)" in page.text and "The last attempt failed" not in page.text
