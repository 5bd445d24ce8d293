"""Sealing secrets at rest (router API passwords, RADIUS shared secrets) with a key from ``ISPB_SECRET_KEY``.

The design card's dependencies have no AES library, so this uses HMAC-SHA256 from the standard library in a
standard construction: a keystream from HMAC in counter mode over a random 16-byte nonce (a PRF-based stream
cipher), then encrypt-then-MAC with a separate HMAC key over version, nonce and ciphertext. Keys are derived
from the platform secret with HMAC (HKDF-style, per purpose), so the session key material is never reused.
A sealed value is ``v1.<nonce>.<ciphertext>.<tag>`` in URL-safe base64; tampering, a wrong key or a truncated
value raises :class:`SealError` rather than returning garbage.

Rotating ``ISPB_SECRET_KEY`` makes sealed values unreadable: re-enter router passwords after a rotation.
"""

import base64
import hashlib
import hmac
import secrets

VERSION = "v1"


class SealError(ValueError):
    """A sealed value is malformed, was tampered with, or was sealed with another key."""


def _key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"ispb:secrets_box:{purpose}".encode(), hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        for counter in range(0, length // 32 + 1)
    )
    return b"".join(blocks)[:length]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(secret_key: str, plaintext: str) -> str:
    nonce = secrets.token_bytes(16)
    data = plaintext.encode()
    cipher = bytes(a ^ b for a, b in zip(data, _keystream(_key(secret_key, "enc"), nonce, len(data)), strict=True))
    tag = hmac.new(_key(secret_key, "mac"), VERSION.encode() + nonce + cipher, hashlib.sha256).digest()
    return ".".join((VERSION, _b64(nonce), _b64(cipher), _b64(tag)))


def reveal(secret_key: str, sealed: str) -> str:
    parts = sealed.split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        raise SealError("not a sealed value")
    try:
        nonce, cipher, tag = (_unb64(part) for part in parts[1:])
    except ValueError:
        raise SealError("not a sealed value") from None
    expected = hmac.new(_key(secret_key, "mac"), VERSION.encode() + nonce + cipher, hashlib.sha256).digest()
    if len(nonce) != 16 or not hmac.compare_digest(expected, tag):
        raise SealError("the sealed value was changed or sealed with another ISPB_SECRET_KEY")
    data = bytes(a ^ b for a, b in zip(cipher, _keystream(_key(secret_key, "enc"), nonce, len(cipher)), strict=True))
    return data.decode()
