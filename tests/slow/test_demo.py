"""``ispb demo`` on the embedded default: no database or Redis URL, a fresh data directory, a real server."""

import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from peers.netflow import free_udp_port
from processes import ispb_environment

ISPB = str(Path(sys.executable).parent / "ispb")
pytestmark = pytest.mark.slow


def _start_demo(data_dir: Path, port: int) -> subprocess.Popen[str]:
    # the demo's NetFlow collector on a port of this test (a demo someone runs keeps 9995)
    env = ispb_environment(ISPB_DATA_DIR=str(data_dir), ISPB_NETFLOW_PORT=str(free_udp_port()))
    return subprocess.Popen(
        [ISPB, "demo", "--port", str(port), "--customers", "120"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_healthy(process: subprocess.Popen[str], url: str, timeout_s: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"ispb demo exited early:\n{process.stdout.read() if process.stdout else ''}"
        try:
            answer = httpx.get(url + "healthz", timeout=2)
            if answer.status_code == 200:
                return dict(answer.json())
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("ispb demo did not become healthy")


def _stop(process: subprocess.Popen[str], how: signal.Signals = signal.SIGINT) -> str:
    process.send_signal(how)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _payment_reaches_the_demo_gateway(url: str) -> None:
    """Issue 6 "done when": an operator records a payment; the confirmation goes through the outbox, the sender
    job and the HTTP client to the demo's SMS sink (on loopback, which the demo allows for its own port only), at
    once (not at the next minute's tick); the platform admin reads the sink."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as browser:
        login = browser.get("/login")
        browser.post(
            "/login",
            data={"_csrf_token": _csrf(login), "email": "owner@dhaka-fiber.test", "password": "demo-operator-pass"},
        )
        form = browser.get("/panel/customers/1/payments/new")
        assert form.status_code == 200, form.text[:300]
        saved = browser.post(
            "/panel/customers/1/payments/new",
            data={"_csrf_token": _csrf(form), "amount": "123.45", "method": "cash", "received_on": ""},
        )
        assert saved.status_code == 200, saved.text[:300]
        assert browser.get("/demo/sms-gateway/").status_code == 403  # every operator's codes: the admin's page
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as admin:
        login = admin.get("/login")
        admin.post(
            "/login", data={"_csrf_token": _csrf(login), "email": "admin@ispb.test", "password": "demo-admin-pass"}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sink = admin.get("/demo/sms-gateway/").text
            if "we received" in sink and "123.45" in sink:
                return
            time.sleep(0.5)
        raise AssertionError(f"the payment message did not reach the demo SMS gateway:\n{sink[:2000]}")


def _netflow_search_finds_a_demo_customer(url: str) -> None:
    """Issue 14 "done when": the demo's simulated router exports NetFlow for its online customers to the demo's
    nfcapd; once a one-minute capture file closes, Logs → NetFlow finds customer C000001's flows by customer."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as browser:
        login = browser.get("/login")
        browser.post(
            "/login",
            data={"_csrf_token": _csrf(login), "email": "owner@dhaka-fiber.test", "password": "demo-operator-pass"},
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            page = browser.get("/panel/logs/netflow", params={"customer": "C000001"}).text
            found = re.search(r"(\d+) flows? ·", page)
            if found and int(found.group(1)) > 0 and "151.101." in page:
                assert "C000001</a>" in page
                return
            time.sleep(5)
        raise AssertionError(f"NetFlow search found no flows of the demo customer:\n{page[-3000:]}")


def _sign_in_operator(browser: httpx.Client) -> httpx.Client:
    login = browser.get("/login")
    browser.post(
        "/login",
        data={"_csrf_token": _csrf(login), "email": "owner@dhaka-fiber.test", "password": "demo-operator-pass"},
    )
    return browser


def _through_demo_bkash(browser: httpx.Client, going: httpx.Response) -> httpx.Response:
    """From the page that sends the browser on to bKash, press Confirm payment at the demo gateway."""
    found = re.search(r'href="([^"]*/demo/bkash/checkout/[^"]+)"', going.text)
    assert found, going.text[:1000]
    checkout = browser.get(found.group(1))
    assert "Confirm payment" in checkout.text
    return browser.post(found.group(1) + "/pay")


def _wait_for(browser: httpx.Client, path: str, *words: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page = browser.get(path).text
        if all(word in page for word in words):
            return page
        time.sleep(0.5)
    raise AssertionError(f"{path} never showed {words}:\n{page[:3000]}")


def _online_payments_in_the_demo(url: str) -> None:
    """Issue 17 "done when": C000003 (suspended) pays from the suspension portal through the demo gateway and is
    back online on the simulated router; the operator buys SMS credit and sees it rise; the recheck job captures
    the payment whose callback was lost (C000013's)."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as customer:
        portal = customer.get("/suspended/dhaka-fiber/")
        assert "C000003" in portal.text and "Pay now with bKash" in portal.text, portal.text[:2000]
        going = customer.post("/suspended/dhaka-fiber/pay", data={"_csrf_token": _csrf(portal), "provider": "bkash"})
        result = _through_demo_bkash(customer, going)
        assert "Payment received" in result.text and "back on" in result.text, result.text[:2000]
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as operator:
        _sign_in_operator(operator)
        # the reactivation ran on the simulated router
        done = re.compile(
            r'data-label="Action">activate</td>\s*<td data-label="Status"><span class="badge succeeded">done'
        )
        deadline = time.monotonic() + 60
        while not done.search(page := operator.get("/panel/customers/3").text):
            assert time.monotonic() < deadline, page[:3000]
            time.sleep(0.5)
        gateway = operator.get("/panel/notifications/gateway")
        before = int(re.search(r"SMS credit: <strong>([\d,]+)</strong>", gateway.text).group(1).replace(",", ""))
        going = operator.post(
            "/panel/notifications/sms-credit", data={"_csrf_token": _csrf(gateway), "pack": "1", "provider": "bkash"}
        )
        assert "1,000 SMS were added" in _through_demo_bkash(operator, going).text
        _wait_for(operator, "/panel/notifications/gateway", f"SMS credit: <strong>{before + 1000:,}</strong>")
        automation = operator.get("/panel/automation")
        operator.post(
            "/panel/automation/run", data={"_csrf_token": _csrf(automation), "job": "payments.recheck_pending"}
        )
        _wait_for(operator, "/panel/customers/13", "Payment (gateway, DEMO")


def _overview_charts_the_demo_months(url: str) -> None:
    """Issue 18 "done when": the operator Overview shows bills vs payments for the demo's months (last month's and
    this month's bills, both with payments), with the table and the CSV export."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as operator:
        _sign_in_operator(operator)
        overview = operator.get("/panel/").text
        assert 'id="chart-bills-payments"' in overview and "<rect" in overview, overview[:3000]
        exported = operator.get("/panel/reports/bills-payments.csv")
        months = [line.split(",") for line in exported.content.decode("utf-8-sig").splitlines()[1:]]
        assert [m for m in months if Decimal(m[1] or 0) > 0 and Decimal(m[2] or 0) > 0] == months[-2:], months


def _subscriptions_in_the_demo(url: str) -> None:
    """Issue 18 "done when": the platform admin sees last month's subscription bills of both operators and the
    customers per operator chart; Scheduled jobs → subscription.suspend_unpaid → Run now locks Padma Link's
    panel; its owner pays the overdue bill through the demo's bKash on the locked page and the panel reopens."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as admin:
        login = admin.get("/login")
        admin.post(
            "/login", data={"_csrf_token": _csrf(login), "email": "admin@ispb.test", "password": "demo-admin-pass"}
        )
        overview = admin.get("/admin/subscriptions/")
        assert "Dhaka Fiber Net" in overview.text and "Padma Link Broadband" in overview.text, overview.text[:2000]
        assert overview.text.count('href="/admin/subscriptions/bills/') >= 4  # two months, both operators
        assert 'id="chart-customers-per-operator"' in overview.text
        jobs = admin.get("/admin/jobs")
        admin.post("/admin/jobs/run", data={"_csrf_token": _csrf(jobs), "job": "subscription.suspend_unpaid"})
        _wait_for(admin, "/admin/subscriptions/", "locked: unpaid")
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as owner:
        login = owner.get("/login")
        owner.post(
            "/login",
            data={"_csrf_token": _csrf(login), "email": "owner@padma-link.test", "password": "demo-operator-pass"},
        )
        locked = owner.get("/panel/customers")
        assert locked.url.path == "/panel/locked" and "Your panel is locked" in locked.text, locked.text[:2000]
        pay = re.search(r'action="(/panel/subscription/bills/\d+/pay)"', locked.text)
        assert pay, locked.text[:3000]
        going = owner.post(pay.group(1), data={"_csrf_token": _csrf(locked), "provider": "bkash"})
        assert "Paid." in _through_demo_bkash(owner, going).text
        assert owner.get("/panel/customers").url.path == "/panel/customers"


def test_demo_serves_on_the_embedded_database_and_keeps_its_data(tmp_path: Path, loopback_port: int):
    port = loopback_port
    url = f"http://127.0.0.1:{port}/"
    process = _start_demo(tmp_path, port)
    try:
        health = _wait_healthy(process, url)
        home = httpx.get(url, timeout=5).text
        portals = [
            httpx.get(url + "portal", params={"provider": slug}, timeout=5).headers.get("location")
            for slug in ("dhaka-fiber", "padma-link")
        ]
        _payment_reaches_the_demo_gateway(url)
        _netflow_search_finds_a_demo_customer(url)
        _online_payments_in_the_demo(url)
        _overview_charts_the_demo_months(url)
        _subscriptions_in_the_demo(url)
    finally:
        output = _stop(process)
    assert health == {
        "status": "ok",
        "checks": {"database": health["checks"]["database"], "queue": health["checks"]["queue"]},
    }  # type: ignore[index]
    assert health["checks"]["queue"]["backend"] == "postgres"  # type: ignore[index]
    assert 'action="/login"' in home and "Dhaka Fiber Net" not in home  # the front door lists no operator
    assert portals == ["/portal/dhaka-fiber/login", "/portal/padma-link/login"]  # the demo's two operators
    assert f"ISPB demo is ready: {url}" in output
    assert "admin@ispb.test" in output and "owner@dhaka-fiber.test" in output
    assert "Traceback" not in output
    assert "NetFlow: demo routers export to nfcapd" in output
    assert (tmp_path / "postgres" / "PG_VERSION").exists()
    assert not (tmp_path / "postgres" / "postmaster.pid").exists(), "the embedded PostgreSQL kept running"

    again = _start_demo(tmp_path, port)  # a second start reuses the data and adds nothing
    try:
        _wait_healthy(again, url)
    finally:
        _stop(again, signal.SIGTERM)  # as systemd or docker stop it: the embedded PostgreSQL stops too
    assert not (tmp_path / "postgres" / "postmaster.pid").exists(), "SIGTERM left the embedded PostgreSQL running"
    env = ispb_environment(ISPB_DATA_DIR=str(tmp_path))
    listed = subprocess.run([ISPB, "tenants", "list"], env=env, text=True, capture_output=True, check=True)
    assert listed.stdout.count("dhaka-fiber") == 1 and listed.stdout.count("padma-link") == 1
