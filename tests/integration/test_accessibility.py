"""Markup that keyboard and screen-reader users depend on (issue 13, WCAG 2.2 AA): a skip link as the first
focusable element of every layout, a main region it points at, and field errors linked to their fields."""

import re
from html.parser import HTMLParser

import pytest

FOCUSABLE = {"a", "button", "input", "select", "textarea", "summary"}


class _FirstFocusable(HTMLParser):
    """The first focusable element inside <body> (hidden inputs do not take focus) and every element's id."""

    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.first: tuple[str, dict[str, str | None]] | None = None
        self.ids: dict[str, str] = {}
        self._open_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "body":
            self.in_body = True
        if attributes.get("id"):
            self.ids[str(attributes["id"])] = ""
            self._open_id = str(attributes["id"])
        hidden = tag == "input" and attributes.get("type") == "hidden"
        if self.in_body and self.first is None and tag in FOCUSABLE and not hidden:
            self.first = (tag, attributes)

    def handle_data(self, data: str) -> None:
        if self._open_id:
            self.ids[self._open_id] += data

    def handle_endtag(self, tag: str) -> None:
        self._open_id = None


def _parse(html: str) -> _FirstFocusable:
    parser = _FirstFocusable()
    parser.feed(html)
    return parser


def _assert_skip_link_first(html: str, page: str) -> None:
    parsed = _parse(html)
    assert parsed.first is not None, page
    tag, attributes = parsed.first
    assert (tag, attributes.get("href"), attributes.get("class")) == ("a", "#main", "skip-link"), page
    assert "main" in parsed.ids, f"{page} has no id=main to skip to"
    assert re.search(r'<main[^>]* id="main" tabindex="-1"', html), page
    assert 'id="live-status"' in html and 'aria-live="polite"' in html, page


@pytest.fixture(name="signed_in")
async def fx_signed_in(make_tenant, make_staff, make_client, sign_in):
    tenant = await make_tenant("a11y")
    operator = make_client()
    operator_token = await sign_in(operator, await make_staff("operator_admin", tenant))
    admin = make_client()
    await sign_in(admin, await make_staff("platform_admin"))
    return tenant, operator, operator_token, admin


async def test_every_layout_starts_with_a_skip_link_to_main(signed_in, make_client):
    tenant, operator, _, admin = signed_in
    anonymous = make_client()
    pages = [
        (anonymous, "/login"),
        (anonymous, f"/portal/{tenant.slug}/login"),
        (operator, "/panel/"),
        (operator, "/panel/customers"),
        (operator, "/panel/billing-profiles/new"),
        (admin, "/admin/"),
    ]
    for client, page in pages:
        answer = await client.get(page)
        assert answer.status_code == 200, page
        _assert_skip_link_first(answer.text, page)


async def test_a_field_error_is_linked_to_its_field(signed_in):
    _, operator, token, _ = signed_in
    bad = await operator.post(
        "/panel/billing-profiles/new",
        data={"_csrf_token": token, "name": "Broken", "billing_day": "32", "due_days": "x", "grace_days": "1"},
    )
    assert bad.status_code == 422
    parsed = _parse(bad.text)
    invalid = re.findall(r'<(?:input|select|textarea)[^>]*aria-invalid="true"[^>]*>', bad.text)
    assert len(invalid) >= 2  # billing day and due days
    for field in invalid:
        described = re.search(r'aria-describedby="([^"]+)"', field)
        assert described, f"{field} names no message"
        assert parsed.ids.get(described[1], "").strip(), f"{field}: its message {described[1]} is missing or empty"
    assert "from 1 to 31" in parsed.ids["billing_day-message"]
