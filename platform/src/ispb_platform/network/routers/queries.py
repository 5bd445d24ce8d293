"""Routers of an operator: validation, storage with sealed credentials, and the address to reach one.

Passwords and RADIUS secrets are sealed with ``ISPB_SECRET_KEY`` (``secrets_box``) before they reach the
database and opened only where a connection is made; pages never show them again.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any

import asyncpg

from ispb_netsync.routeros import RouterAddress
from ispb_platform.secrets_box import reveal, seal
from ispb_tenants import Connection

MODES = {"api": "API-managed (PPP secrets on the router)", "radius": "RADIUS-managed (secrets in ISPB)"}


@dataclass(frozen=True)
class RouterDraft:
    name: str
    host: str
    api_port: int
    use_tls: bool
    username: str
    password: str  # empty on edit: keep the stored one
    mode: str
    radius_secret: str  # empty on edit: keep the stored one
    nas_address: str | None
    coa_port: int


def _port(raw: str, default: int, field: str, errors: dict[str, str]) -> int:
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        errors[field] = "Enter a port from 1 to 65535."
        return default
    return int(raw)


def validate_router(data: dict[str, str], *, new: bool) -> tuple[RouterDraft | None, dict[str, str]]:
    value = {key: (text or "").strip() for key, text in data.items()}
    errors: dict[str, str] = {}
    name, host = value.get("name", ""), value.get("host", "")
    if not name or len(name) > 60:
        errors["name"] = "Name the router (up to 60 characters), e.g. Mirpur core."
    if not host or len(host) > 253 or " " in host:
        errors["host"] = "Enter the router's address, e.g. 10.0.0.1 or core.example.net."
    use_tls = value.get("use_tls") == "on"
    api_port = _port(value.get("api_port", ""), 8729 if use_tls else 8728, "api_port", errors)
    username = value.get("username", "")
    if not username or len(username) > 64:
        errors["username"] = "Enter the API user name."
    password = data.get("password", "")
    if new and not password:
        errors["password"] = "Enter the API user's password."  # noqa: S105 (a message)
    mode = value.get("mode", "api")
    if mode not in MODES:
        errors["mode"] = "Choose API-managed or RADIUS-managed."
    radius_secret = data.get("radius_secret", "")
    nas_address = value.get("nas_address", "") or None
    if mode == "radius":
        if new and len(radius_secret) < 8:
            errors["radius_secret"] = "Enter the RADIUS shared secret (at least 8 characters)."  # noqa: S105
        if nas_address is None:
            errors["nas_address"] = "Enter the address the router sends RADIUS requests from."
    if nas_address is not None:
        try:
            nas_address = str(ipaddress.ip_address(nas_address))
        except ValueError:
            errors["nas_address"] = "Enter an IP address such as 10.0.0.1."
    coa_port = _port(value.get("coa_port", ""), 3799, "coa_port", errors)
    if errors:
        return None, errors
    return RouterDraft(
        name, host, api_port, use_tls, username, password, mode, radius_secret, nas_address, coa_port
    ), {}


async def save_router(connection: Connection, secret_key: str, draft: RouterDraft, router_id: int | None) -> int:
    """Insert or update; raises ``asyncpg.UniqueViolationError`` for a duplicate name (in a savepoint)."""
    password = seal(secret_key, draft.password) if draft.password else None
    radius = seal(secret_key, draft.radius_secret) if draft.radius_secret else None
    async with connection.transaction():
        if router_id is None:
            return int(
                await connection.fetchval(
                    "INSERT INTO router (name, host, api_port, use_tls, username, password_sealed, mode,"
                    " radius_secret_sealed, nas_address, coa_port) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    " RETURNING id",
                    draft.name,
                    draft.host,
                    draft.api_port,
                    draft.use_tls,
                    draft.username,
                    password,
                    draft.mode,
                    radius,
                    draft.nas_address,
                    draft.coa_port,
                )
            )
        await connection.execute(
            "UPDATE router SET name = $2, host = $3, api_port = $4, use_tls = $5, username = $6,"
            " password_sealed = COALESCE($7, password_sealed), mode = $8,"
            " radius_secret_sealed = COALESCE($9, radius_secret_sealed), nas_address = $10, coa_port = $11,"
            " updated_at = now() WHERE id = $1",
            router_id,
            draft.name,
            draft.host,
            draft.api_port,
            draft.use_tls,
            draft.username,
            password,
            draft.mode,
            radius,
            draft.nas_address,
            draft.coa_port,
        )
        return router_id


async def get_router(connection: Connection, router_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow("SELECT * FROM router WHERE id = $1", router_id)
    return row


def address_of(router: Any, secret_key: str, *, timeout: float = 10.0) -> RouterAddress:
    """How to reach a router's API, with its password opened from the sealed column."""
    return RouterAddress(
        host=router["host"],
        username=router["username"],
        password=reveal(secret_key, router["password_sealed"]),
        port=router["api_port"],
        tls=router["use_tls"],
        timeout=timeout,
    )


def form_values(router: Any) -> dict[str, str]:
    values = {k: str(router[k] or "") for k in ("name", "host", "api_port", "username", "mode", "coa_port")}
    values["nas_address"] = str(router["nas_address"] or "")
    values["use_tls"] = "on" if router["use_tls"] else ""
    return values
