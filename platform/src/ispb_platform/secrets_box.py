"""Sealing secrets at rest (router API passwords and RADIUS secrets, PPPoE passwords, gateway secrets, the text
of a message that carries a secret) with a key derived from ``ISPB_SECRET_KEY``.

AES-256-GCM from ``cryptography`` (vetted, constant-time, authenticated). The 256-bit key is derived from the
platform secret with HKDF-SHA256, so the secret itself never meets the cipher; a random 96-bit nonce per value.
The associated data binds every sealed value to where it belongs, a `Binding`: the tenant (its id), the purpose
(``router.api_password``, ``customer.pppoe_password``, ...) and the row (its id, or another stable key of the
row). A value copied to another row, column or tenant does not open: `SealError`, never garbage.

A sealed value is ``v2:<key id>:<base64url(nonce + ciphertext + tag)>``. The key id is a fingerprint of the key
(HKDF with its own label, 12 hex digits; it says nothing about the key), so a value names the key that sealed it
and keys can rotate: values are opened with ``ISPB_SECRET_KEY`` or any key in ``ISPB_OLD_SECRET_KEYS`` (read
only), and ``ispb secrets reseal`` / ``ispb secrets rotate`` (``ispb_platform.secrets``) seal them again
under the current or a new key.

Rows that get their id from a sequence are sealed with that id: a new router takes its id from the sequence
before the insert (``network/routers/queries.py``), a customer's PPPoE password is sealed after the customer row
exists, in the same transaction. Rows without a numeric id use their own stable key: a gateway its channel, an
outbox message its unique ``key`` (known before the insert that may find it already there).

The values of the first scheme (``v1.<nonce>.<ciphertext>.<tag>``: HMAC-SHA256 in counter mode plus an HMAC tag,
no binding) still open, read only, until ``ispb secrets reseal`` has sealed them again; nothing seals ``v1``.
"""

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v2"
NONCE_BYTES = 12
_LEGACY = "v1"


class SealError(ValueError):
    """A sealed value does not open: malformed, changed, copied from another row, purpose or tenant, or sealed
    with a key this process does not have. ``str(error)`` says which, for an operator."""


class Purpose(StrEnum):
    """What a sealed value is; part of the associated data, so a value does not open as another purpose."""

    ROUTER_API_PASSWORD = "router.api_password"  # noqa: S105 (a name, not a password)
    ROUTER_RADIUS_SECRET = "router.radius_secret"  # noqa: S105
    CUSTOMER_PPPOE_PASSWORD = "customer.pppoe_password"  # noqa: S105
    NOTIFY_GATEWAY_SECRET = "notify.gateway_secret"  # noqa: S105
    OUTBOX_TEXT = "outbox.text"
    OLT_COMMUNITY = "olt.community"
    OLT_V3_AUTH_KEY = "olt.v3_auth_key"
    OLT_V3_PRIV_KEY = "olt.v3_priv_key"
    PAYMENT_GATEWAY_SECRET = "payments.gateway_secret"  # noqa: S105
    MONITOR_CHECK_SECRET = "monitor.check_secret"  # noqa: S105 (a RADIUS secret or RouterOS password of a check)
    ZABBIX_TOKEN = "monitor.zabbix_token"  # noqa: S105
    BACKUP_S3_SECRET = "backup.s3_secret"  # noqa: S105 (the backup bucket's secret access key, a platform row)


@dataclass(frozen=True)
class Binding:
    """Where a sealed value belongs: tenant id, purpose and row (an id or the row's stable key)."""

    tenant_id: int
    purpose: Purpose
    row: int | str

    def associated_data(self, key_id: str) -> bytes:
        # JSON of a list: unambiguous (no separator can be forged by a row key) and stable.
        return json.dumps([VERSION, key_id, self.tenant_id, self.purpose.value, str(self.row)]).encode()


_old_keys: tuple[str, ...] = ()


def accept_old_keys(keys: Iterable[str]) -> None:
    """Let this process open values sealed with these keys (``ISPB_OLD_SECRET_KEYS``, set by `load_settings`
    during a rotation). They never seal."""
    global _old_keys
    _old_keys = tuple(keys)


def accepted_old_keys() -> tuple[str, ...]:
    """The old keys this process opens values with (`accept_old_keys`): a backup sealed before a rotation
    still restores."""
    return _old_keys


def _hkdf(secret_key: str, label: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(secret_key.encode())


def derived_key(secret_key: str, label: bytes) -> bytes:
    """A 256-bit key for another use of the platform secret (backup files), apart from the one that seals
    values: HKDF with its own ``label``."""
    return _hkdf(secret_key, label, 32)


@lru_cache(maxsize=16)
def _aead(secret_key: str) -> AESGCM:
    return AESGCM(_hkdf(secret_key, b"ispb secrets_box v2 aes-256-gcm", 32))


@lru_cache(maxsize=16)
def key_id(secret_key: str) -> str:
    """The key's public fingerprint, written into every value it seals."""
    return _hkdf(secret_key, b"ispb secrets_box v2 key id", 6).hex()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(secret_key: str, plaintext: str, binding: Binding) -> str:
    """Seal ``plaintext`` for ``binding`` with ``secret_key`` (the current ``ISPB_SECRET_KEY``)."""
    if not secret_key:
        raise SealError("ISPB_SECRET_KEY is not set: nothing can be sealed")
    kid = key_id(secret_key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    cipher = _aead(secret_key).encrypt(nonce, plaintext.encode(), binding.associated_data(kid))
    return f"{VERSION}:{kid}:{_b64(nonce + cipher)}"


def sealed_key_id(sealed: str) -> str | None:
    """The key id a value names; None for a value of the first scheme (``v1``), which names none."""
    parts = sealed.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def is_current(secret_key: str, sealed: str) -> bool:
    """Whether ``sealed`` is in today's format under ``secret_key`` (nothing to re-seal)."""
    return sealed_key_id(sealed) == key_id(secret_key)


def reveal(secret_key: str, sealed: str, binding: Binding, *, old_keys: Iterable[str] | None = None) -> str:
    """Open a value sealed for ``binding``, with ``secret_key`` or one of the old keys (default: those this
    process accepts, `accept_old_keys`)."""
    keys = [k for k in (secret_key, *(_old_keys if old_keys is None else old_keys)) if k]
    if sealed.startswith(_LEGACY + "."):
        return _reveal_legacy(keys, sealed)
    parts = sealed.split(":")
    if len(parts) != 3 or parts[0] != VERSION:
        raise SealError("not a sealed value")
    kid = parts[1]
    key = next((k for k in keys if key_id(k) == kid), None)
    if key is None:
        known = ", ".join(key_id(k) for k in keys) or "none"
        raise SealError(
            f"sealed with key {kid}, which this process does not have (ISPB_SECRET_KEY and ISPB_OLD_SECRET_KEYS"
            f" are {known}): set the old key in ISPB_OLD_SECRET_KEYS, or enter the secret again"
        )
    try:
        data = _unb64(parts[2])
    except ValueError:
        raise SealError("not a sealed value") from None
    if len(data) < NONCE_BYTES + 16:
        raise SealError("not a sealed value (too short)")
    try:
        plain = _aead(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], binding.associated_data(kid))
    except InvalidTag:
        raise SealError(
            f"the sealed {binding.purpose.value} of row {binding.row} does not open: it was changed, or copied"
            " from another row, purpose or operator"
        ) from None
    return plain.decode()


# The first scheme, read only: HMAC-SHA256 counter-mode keystream, encrypt-then-MAC, no binding.
def _legacy_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"ispb:secrets_box:{purpose}".encode(), hashlib.sha256).digest()


def _legacy_keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        for counter in range(0, length // 32 + 1)
    )
    return b"".join(blocks)[:length]


def _reveal_legacy(keys: list[str], sealed: str) -> str:
    parts = sealed.split(".")
    if len(parts) != 4:
        raise SealError("not a sealed value")
    try:
        nonce, cipher, tag = (_unb64(part) for part in parts[1:])
    except ValueError:
        raise SealError("not a sealed value") from None
    for key in keys:
        expected = hmac.new(_legacy_key(key, "mac"), _LEGACY.encode() + nonce + cipher, hashlib.sha256).digest()
        if len(nonce) == 16 and hmac.compare_digest(expected, tag):
            stream = _legacy_keystream(_legacy_key(key, "enc"), nonce, len(cipher))
            return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode()
    raise SealError("the v1 sealed value was changed or sealed with a key this process does not have")
