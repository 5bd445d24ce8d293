"""Who may be signed in, and as what."""

from dataclasses import dataclass
from enum import StrEnum

from ispb_tenants import TenantRef


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    GROUP_ADMIN = "group_admin"
    OPERATOR_ADMIN = "operator_admin"
    OPERATOR_STAFF = "operator_staff"
    CUSTOMER = "customer"


ADMINS = frozenset({Role.PLATFORM_ADMIN, Role.GROUP_ADMIN})
OPERATORS = frozenset({Role.OPERATOR_ADMIN, Role.OPERATOR_STAFF})
OPERATOR_ADMINS = frozenset({Role.OPERATOR_ADMIN})
CUSTOMERS = frozenset({Role.CUSTOMER})


class SessionKind(StrEnum):
    STAFF = "staff"
    """Platform and operator users (``platform.platform_user``)."""
    CUSTOMER = "customer"
    """A customer of one operator, signed in to that operator's portal."""


@dataclass(frozen=True)
class Principal:
    """The signed-in person behind a request."""

    session_id: str
    kind: SessionKind
    user_id: int
    role: Role
    name: str
    login: str
    tenant: TenantRef | None
    locked: bool = False
    """The operator's panel is locked for an unpaid subscription bill (``subscriptions/locking.py``): its staff
    reach only the routes that declare ``open_when_locked`` (the locked page, paying, signing out)."""

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATORS

    def require_tenant(self) -> TenantRef:
        if self.tenant is None:
            raise RuntimeError(f"{self.role} has no operator")
        return self.tenant
