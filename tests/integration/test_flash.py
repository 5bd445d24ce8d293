"""Banners come only from the server's flash messages (``web/flash.py``): shown once after a save, never from
text in a URL."""

import pytest

CRAFTED = "<script>alert(1)</script>Your account is locked, call 01700000000"


@pytest.fixture(name="operator")
async def fx_operator(make_client, make_staff, make_tenant, sign_in):
    tenant = await make_tenant("flash")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    return client, token, tenant


@pytest.mark.parametrize(
    "url",
    [
        "/panel/notifications/gateway?tested={text}",
        "/panel/automation?queued={text}",
        "/panel/customers?saved={text}&message={text}&notice={text}",
        "/?provider=&flash={text}",
    ],
)
async def test_text_in_a_query_string_never_becomes_a_banner(operator, url: str):
    client, _, _ = operator
    page = await client.get(url.format(text=CRAFTED), follow_redirects=True)
    assert page.status_code == 200
    assert "data-flash" not in page.text and "account is locked" not in page.text and "<script>alert" not in page.text


async def test_a_save_shows_its_message_once(operator):
    client, token, _ = operator
    saved = await client.post(
        "/panel/packages/new",
        data={"_csrf_token": token, "name": "Flash 10", "price": "500", "download_mbps": "10", "upload_mbps": "5"},
    )
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert page.text.count("Package saved") == 1 and 'role="status" data-flash' in page.text
    again = await client.get(saved.headers["location"])
    assert "Package saved" not in again.text and "data-flash" not in again.text


async def test_an_htmx_fragment_does_not_take_the_message_meant_for_the_next_page(operator):
    client, token, _ = operator
    saved = await client.post(
        "/panel/notifications/expiration",
        data={"_csrf_token": token, "leads": "3d", "body": "Hi {{ customer_name }}, ends {{ expiry_date }}"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and saved.headers["hx-redirect"] == "/panel/notifications/expiration"
    fragment = await client.get("/panel/customers", headers={"HX-Request": "true"})
    assert "Expiry notices saved" not in fragment.text
    assert (await client.get("/panel/notifications/expiration")).text.count("Expiry notices saved") == 1
    assert "Expiry notices saved" not in (await client.get("/panel/notifications/expiration")).text


async def test_a_refused_gateway_test_is_an_alert_not_a_notice(operator):
    client, token, _ = operator
    tested = await client.post("/panel/notifications/gateway/test", data={"_csrf_token": token, "to": "01711000005"})
    assert tested.status_code == 303 and tested.headers["location"] == "/panel/notifications/gateway"
    page = await client.get(tested.headers["location"])
    assert (
        '<p class="alert" role="alert" data-flash>Save the SMS gateway first, then send a test message.</p>'
        in page.text
    )
