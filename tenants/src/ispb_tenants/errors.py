"""Typed errors of the tenancy layer; each carries the message a person should read."""


class TenancyError(Exception):
    """Base class of tenancy errors."""


class InvalidSlug(TenancyError, ValueError):
    """A tenant slug that cannot be used."""

    def __init__(self, slug: str, reason: str) -> None:
        super().__init__(f"invalid tenant slug {slug!r}: {reason}")
        self.slug = slug
        self.reason = reason


class TenantExists(TenancyError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"a tenant with slug {slug!r} already exists")
        self.slug = slug


class TenantNotFound(TenancyError, LookupError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"no tenant with slug {slug!r}")
        self.slug = slug


class TenantContextError(TenancyError, RuntimeError):
    """Raised when code would work in two tenants' schemas at once, or in none."""


class MigrationError(TenancyError):
    """A migration that cannot be applied, or one that changed after it was applied."""
