"""Invoice PDFs through the app: operators from the bill page, customers from the portal, shared signed links.

The PDF text is read back with ``pdftotext`` (poppler-utils): number, customer, total, VAT, due date, status.
Another customer's or another operator's invoice is a 404, and so is a forged or expired link.
"""

import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest

from factories import make_customer, make_package
from ispb_platform.auth.passwords import hash_password
from ispb_platform.billing.invoices.service import read_link, sign_link
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.runs import local_today
from ispb_tenants import Database

SECRET = "t" * 40  # the web_app fixture's ISPB_SECRET_KEY
PORTAL_PASSWORD = "portal password 1"


def pdf_text(pdf: bytes) -> str:
    binary = shutil.which("pdftotext")
    if binary is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    return subprocess.run([binary, "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.fixture(name="invoiced")
async def fx_invoiced(db: Database, make_tenant):
    tenant = await make_tenant("pdf")
    await db.pool.execute(
        "UPDATE platform.tenant SET address = 'House 7, Road 3, Mirpur, Dhaka', phone = '09610-000111' WHERE id = $1",
        tenant.id,
    )
    async with db.tenant(tenant) as scope:
        package_id = await make_package(
            scope, name="Fiber 20", price_minor=80000, download_kbps=20000, upload_kbps=20000, vat_rate_bp=500
        )
        ids = [
            await make_customer(
                scope,
                code=code,
                name=name,
                phone="+8801711000100",
                package_id=package_id,
                connection_date=date(2025, 1, 1),
                password_hash=hash_password(PORTAL_PASSWORD),
            )
            for code, name in (("C100", "রহিম উদ্দিন"), ("C200", "Karim Mia"))
        ]
    today = local_today(datetime.now(UTC), tenant)
    await generate_bills(JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant))
    async with db.tenant(tenant) as scope:
        bills = [
            await scope.connection.fetchrow("SELECT id, number, due_date FROM bill WHERE customer_id = $1", i)
            for i in ids
        ]
    return {"tenant": tenant, "customers": ids, "bills": bills}


async def test_operator_downloads_the_invoice_pdf(invoiced, make_client, make_staff, sign_in):
    tenant, bill = invoiced["tenant"], invoiced["bills"][0]
    client = make_client()
    await sign_in(client, await make_staff("operator_staff", tenant))
    answer = await client.get(f"/panel/bills/{bill['id']}/pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert f'filename="{bill["number"]}.pdf"' in answer.headers["content-disposition"]
    text = pdf_text(answer.content)
    for expected in (bill["number"], "840.00", "40.00", bill["due_date"].isoformat(), "Unpaid"):
        assert expected in text, f"{expected!r} missing from the PDF text"
    # pdftotext splits Bengali glyph clusters with spaces; the letters themselves must all be there, in order
    assert "রহিমউদ্দিন" in "".join(text.split())
    assert "Mirpur, Dhaka" in text


async def test_customer_gets_own_invoices_only(invoiced, make_client, csrf_of, make_tenant):
    tenant, own, other = invoiced["tenant"], invoiced["bills"][1], invoiced["bills"][0]
    client = make_client()
    token = csrf_of((await client.get(f"/portal/{tenant.slug}/login")).text)
    signed = await client.post(
        f"/portal/{tenant.slug}/login", data={"login": "C200", "password": PORTAL_PASSWORD, "_csrf_token": token}
    )
    assert signed.status_code == 303
    dashboard = await client.get(f"/portal/{tenant.slug}/")
    assert own["number"] in dashboard.text and other["number"] not in dashboard.text and "840.00" in dashboard.text
    mine = await client.get(f"/portal/{tenant.slug}/bills/{own['id']}/pdf")
    assert mine.status_code == 200 and "Karim Mia" in pdf_text(mine.content)
    assert (await client.get(f"/portal/{tenant.slug}/bills/{other['id']}/pdf")).status_code == 404
    assert (await client.get(f"/panel/bills/{own['id']}/pdf")).status_code == 403  # customers are not staff
    elsewhere = await make_tenant("elsewhere")
    assert (await client.get(f"/portal/{elsewhere.slug}/bills/{own['id']}/pdf")).status_code in (303, 404)


async def test_shared_link_opens_one_bill_until_it_expires(invoiced, make_client, make_staff, sign_in):
    tenant, bill = invoiced["tenant"], invoiced["bills"][0]
    operator = make_client()
    token = await sign_in(operator, await make_staff("operator_admin", tenant))
    shared = await operator.post(f"/panel/bills/{bill['id']}/share", data={"_csrf_token": token})
    assert shared.status_code == 200
    link = shared.text.split('value="', 1)[1].split('"', 1)[0]
    assert link.startswith("https://isp.test/invoices/")
    anonymous = make_client()
    opened = await anonymous.get(link.removeprefix("https://isp.test"))
    assert opened.status_code == 200 and bill["number"] in pdf_text(opened.content)

    signed = sign_link(SECRET, tenant.id, bill["id"])
    assert read_link(SECRET, signed) == (tenant.id, bill["id"])
    forged = signed.replace(f".{bill['id']}.", f".{invoiced['bills'][1]['id']}.", 1)
    expired = sign_link(SECRET, tenant.id, bill["id"], days=-1)
    other_key = sign_link("k" * 40, tenant.id, bill["id"])
    for bad in (forged, expired, other_key, "1.2.3", "not-a-token"):
        assert (await anonymous.get(f"/invoices/{bad}")).status_code == 404
