"""Reads for invoice documents: who issues them (the operator's name, contact details and logo).

The bill itself comes from ``billing/bills/queries.py``. The operator's row is read on the tenant scope's own
connection (``invoice_document`` receives it from callers that already hold a scope, such as the portal).
"""

from dataclasses import dataclass

from ispb_tenants import Connection


@dataclass(frozen=True)
class Issuer:
    name: str
    address: str
    phone: str
    email: str
    logo: bytes | None
    logo_type: str


async def issuer(connection: Connection, tenant_id: int) -> Issuer:
    row = await connection.fetchrow(
        "SELECT name, address, phone, email, logo, logo_type FROM platform.tenant WHERE id = $1", tenant_id
    )
    assert row is not None, "a tenant scope always has its tenant row"
    logo = bytes(row["logo"]) if row["logo"] is not None else None
    return Issuer(row["name"], row["address"], row["phone"], row["email"], logo, row["logo_type"] or "")
