"""The front door (``/``): staff sign in there, customers find their provider's portal, nobody learns which
operators the installation serves."""

import pytest

from ispb_platform.web.home import NOT_FOUND
from ispb_tenants import Database, TenantRef


async def test_front_page_offers_staff_sign_in_and_a_customer_way_in_and_lists_no_operator(make_client, make_tenant):
    operator: TenantRef = await make_tenant("front")
    page = await make_client().get("/")
    assert page.status_code == 200
    assert 'action="/login"' in page.text and 'name="email"' in page.text and 'name="password"' in page.text
    assert 'action="/portal"' in page.text and 'name="provider"' in page.text
    assert operator.slug not in page.text and operator.name not in page.text
    assert "PostgreSQL" not in page.text and "Redis" not in page.text and "running" not in page.text


@pytest.mark.parametrize("typed", ["{slug}", " {SLUG} ", "https://isp.test/portal/{slug}/login", "/portal/{slug}/"])
async def test_a_provider_code_or_portal_link_leads_to_that_portal_sign_in(make_client, make_tenant, typed: str):
    operator: TenantRef = await make_tenant("way")
    provider = typed.format(slug=operator.slug, SLUG=operator.slug.upper())
    answer = await make_client().get("/portal", params={"provider": provider})
    assert answer.status_code == 303 and answer.headers["location"] == f"/portal/{operator.slug}/login"


async def test_unknown_malformed_and_suspended_providers_get_the_same_neutral_answer(
    make_client, make_tenant, db: Database
):
    suspended: TenantRef = await make_tenant("gone")
    await db.pool.execute("UPDATE platform.tenant SET status = 'suspended' WHERE id = $1", suspended.id)
    other: TenantRef = await make_tenant("other")
    bodies = []
    for provider in ("no-such-isp", "x'; DROP SCHEMA platform; --", "", suspended.slug):
        answer = await make_client().get("/portal", params={"provider": provider})
        assert answer.status_code == 404 and NOT_FOUND in answer.text
        assert other.slug not in answer.text and other.name not in answer.text
        bodies.append(answer.text.replace(provider, "").replace(provider.replace("'", "&#39;"), ""))
    assert len({body.split('name="csrf-token"')[0] for body in bodies}) == 1


@pytest.mark.parametrize(("role", "home"), [("platform_admin", "/admin/"), ("operator_admin", "/panel/")])
async def test_signed_in_staff_at_the_front_door_go_to_their_home(
    make_client, make_staff, make_tenant, sign_in, role: str, home: str
):
    tenant = await make_tenant("home") if role == "operator_admin" else None
    client = make_client()
    await sign_in(client, await make_staff(role, tenant))
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == home
