"""Tenant slugs and the schema names derived from them.

A slug names an operator in URLs (``/portal/<slug>/``) and, prefixed with ``tenant_``, names its PostgreSQL
schema. It is validated before anything touches the database, because it ends up inside DDL.
"""

import re

from ispb_tenants.errors import InvalidSlug

SCHEMA_PREFIX = "tenant_"
MAX_SLUG_LENGTH = 40

# Lowercase letters and digits, single hyphens between them, starting with a letter. Hyphens map to
# underscores in the schema name; underscores are not allowed in slugs, so two slugs never share a schema.
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

# Words that would collide with the platform's own URLs or schemas.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "auth",
        "healthz",
        "login",
        "logout",
        "platform",
        "portal",
        "public",
        "static",
        "status",
        "www",
    }
)


def validate_slug(slug: str) -> str:
    """Return ``slug`` if it is a valid tenant slug, else raise `InvalidSlug` saying why.

    >>> validate_slug("dhaka-net")
    'dhaka-net'
    """
    if not slug:
        raise InvalidSlug(slug, "it is empty")
    if len(slug) < 2 or len(slug) > MAX_SLUG_LENGTH:
        raise InvalidSlug(slug, f"it must be 2 to {MAX_SLUG_LENGTH} characters long")
    if not _SLUG.fullmatch(slug):
        raise InvalidSlug(
            slug,
            "use lowercase letters a-z, digits and single hyphens, starting with a letter "
            "(no spaces, capitals, underscores or punctuation)",
        )
    if slug in RESERVED_SLUGS:
        raise InvalidSlug(slug, "it is reserved by the platform")
    return slug


def schema_for_slug(slug: str) -> str:
    """The PostgreSQL schema that holds the tenant's tables.

    >>> schema_for_slug("dhaka-net")
    'tenant_dhaka_net'
    """
    return SCHEMA_PREFIX + validate_slug(slug).replace("-", "_")


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL. Only used with names that already passed validation."""
    return '"' + name.replace('"', '""') + '"'
