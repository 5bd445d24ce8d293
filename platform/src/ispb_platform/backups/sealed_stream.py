"""Backup files sealed with the platform's key, written and read as streams (a dump is never held in memory).

A file is ``ISPB-BACKUP-1\\n``, a 4-byte length and a JSON header (what the backup is: kind, operator, server
version, the key id, the tables' figures as of the dump), then frames: a 4-byte length and one AES-256-GCM
sealed chunk of at most 1 MiB of pg_dump's output. The key is derived from ``ISPB_SECRET_KEY`` with HKDF
(its own label, apart from the one sealing secrets); each frame's nonce is a random per-file prefix, the
frame's number and a last-frame flag, and the header is every frame's associated data. So a frame changed,
dropped, reordered, a header edited or a file cut short does not open (`SealError`), never as a silently
shorter dump; the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár.

The header is readable without the key (``ispb backup list`` of files, the restore's checks); its figures
are not secrets beyond row counts.
"""

import json
import secrets
import struct
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ispb_platform.secrets_box import SealError, derived_key, key_id

MAGIC = b"ISPB-BACKUP-1\n"
CHUNK = 1 << 20
_PREFIX = 7
_LABEL = b"ispb backups v1 aes-256-gcm"
_MAX_HEADER = 16 << 20


def _aead(secret_key: str) -> AESGCM:
    return AESGCM(derived_key(secret_key, _LABEL))


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", number, 1 if last else 0)


async def seal_stream(secret_key: str, header: dict[str, Any], plain: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The sealed file, as a stream of pieces, for ``plain`` (pg_dump's output). ``header`` gets the key id."""
    if not secret_key:
        raise SealError("ISPB_SECRET_KEY is not set: a backup cannot be sealed")
    header = {**header, "key_id": key_id(secret_key)}
    prefix = secrets.token_bytes(_PREFIX)
    header_bytes = json.dumps({**header, "nonce_prefix": prefix.hex()}, sort_keys=True).encode()
    aead = _aead(secret_key)
    yield MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes
    number = 0
    held: bytes | None = None
    buffer = bytearray()
    async for piece in plain:
        buffer += piece
        while len(buffer) >= CHUNK:
            if held is not None:
                yield _frame(aead, prefix, number, held, header_bytes, last=False)
                number += 1
            held, buffer = bytes(buffer[:CHUNK]), buffer[CHUNK:]
    if held is not None and buffer:
        yield _frame(aead, prefix, number, held, header_bytes, last=False)
        number += 1
        held = None
    yield _frame(aead, prefix, number, held if held is not None else bytes(buffer), header_bytes, last=True)


def _frame(aead: AESGCM, prefix: bytes, number: int, data: bytes, header: bytes, *, last: bool) -> bytes:
    sealed = aead.encrypt(_nonce(prefix, number, last), data, header)
    return struct.pack(">I", len(sealed)) + sealed


class _Reader:
    """Exact reads over a stream of pieces of any size."""

    def __init__(self, pieces: AsyncIterator[bytes]) -> None:
        self._pieces = pieces
        self._buffer = bytearray()

    async def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            piece = await anext(self._pieces, None)
            if piece is None:
                got = bytes(self._buffer)
                self._buffer.clear()
                return got
            self._buffer += piece
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


@dataclass(frozen=True)
class Opened:
    header: dict[str, Any]
    plain: AsyncIterator[bytes]


async def open_stream(keys: Iterable[str], pieces: AsyncIterator[bytes]) -> Opened:
    """Read the header, pick the key it names among ``keys`` (current and old ones) and return the plain stream.

    The stream raises `SealError` where the file was changed or cut short, before yielding anything wrong.
    """
    reader = _Reader(pieces)
    header_bytes, header = await _read_header(reader)
    kid = header.get("key_id")
    key = next((k for k in keys if k and key_id(k) == kid), None)
    if key is None:
        raise SealError(
            f"this backup was sealed with key {kid}, which this process does not have: set that ISPB_SECRET_KEY"
            " (or add it to ISPB_OLD_SECRET_KEYS) to restore it"
        )
    return Opened(header, _frames(_aead(key), bytes.fromhex(header["nonce_prefix"]), header_bytes, reader))


async def read_header(pieces: AsyncIterator[bytes]) -> dict[str, Any]:
    """Only the header of a backup file (no key needed)."""
    _, header = await _read_header(_Reader(pieces))
    return header


async def _read_header(reader: _Reader) -> tuple[bytes, dict[str, Any]]:
    if await reader.read(len(MAGIC)) != MAGIC:
        raise SealError("not an ISPB backup file")
    (length,) = struct.unpack(">I", await reader.read(4) or b"\0\0\0\0")
    header_bytes = await reader.read(length)
    if not 0 < length <= _MAX_HEADER or len(header_bytes) != length:
        raise SealError("the backup file's header is damaged or cut short")
    try:
        header: dict[str, Any] = json.loads(header_bytes)
    except ValueError:
        raise SealError("the backup file's header is damaged") from None
    return header_bytes, header


async def _frames(aead: AESGCM, prefix: bytes, header: bytes, reader: _Reader) -> AsyncIterator[bytes]:
    number = 0
    while True:
        size = await reader.read(4)
        if len(size) < 4:
            raise SealError("the backup file is cut short: its last part is missing")
        (length,) = struct.unpack(">I", size)
        sealed = await reader.read(length)
        if len(sealed) != length:
            raise SealError("the backup file is cut short: its last part is missing")
        for last in (False, True):
            try:
                data = aead.decrypt(_nonce(prefix, number, last), sealed, header)
            except InvalidTag:
                continue
            break
        else:
            raise SealError(f"part {number + 1} of the backup file does not open: the file was changed")
        yield data
        if last:
            if await reader.read(1):
                raise SealError("the backup file has data after its last part: the file was changed")
            return
        number += 1
