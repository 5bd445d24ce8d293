import pytest

from ispb_tenants import InvalidSlug, schema_for_slug, validate_slug


@pytest.mark.parametrize("slug", ["ab", "dhaka-net", "isp1", "a1-b2-c3", "z" * 40])
def test_good_slugs_pass(slug: str):
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("Dhaka", "lowercase"),
        ("my isp", "no spaces"),
        ("a", "2 to 40"),
        ("isp_one", "underscores"),
        ("portal", "reserved"),
        ("", "empty"),
        ("isp';--", "punctuation"),
    ],
)
def test_bad_slugs_say_why(slug: str, reason: str):
    with pytest.raises(InvalidSlug, match=reason):
        validate_slug(slug)


def test_schema_names_are_prefixed_and_use_underscores():
    assert schema_for_slug("dhaka-net") == "tenant_dhaka_net"
