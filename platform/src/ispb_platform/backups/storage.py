"""Where backup files go: a directory under ``ISPB_DATA_DIR/backups``, or an S3-compatible bucket.

Both take a stream and give one back, so a dump of any size passes through in 1 MiB pieces. A local file is
written as ``<name>.part``, flushed to disk and renamed when complete: a failure (a full disk, a killed
worker) leaves no file that looks like a backup and touches no earlier one. S3 goes through ``obstore``
(Rust's object_store: async, streaming multipart uploads, 15 MB installed; boto3 is sync and twice the size),
and an upload that fails is aborted by the store, so no partial object is left either.
"""

import asyncio
import contextlib
import errno
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import obstore
from obstore.store import S3Store

_READ_CHUNK = 1 << 20


class BackupStorageError(RuntimeError):
    """Writing or reading a backup file failed; the message says why in words an operator can act on."""


class Destination(Protocol):
    @property
    def name(self) -> str: ...

    async def write(self, key: str, pieces: AsyncIterator[bytes]) -> int: ...

    def read(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class LocalDestination:
    """Files under ``root`` (``ISPB_DATA_DIR/backups``)."""

    root: Path
    name: str = "local"

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise BackupStorageError(f"backup name {key!r} leads outside {self.root}")
        return path

    async def write(self, key: str, pieces: AsyncIterator[bytes]) -> int:
        final = self.path(key)
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        part = final.with_name(final.name + ".part")
        size = 0
        handle = await asyncio.to_thread(open, part, "wb")
        try:
            async for piece in pieces:
                await asyncio.to_thread(handle.write, piece)
                size += len(piece)
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
        except OSError as error:
            await asyncio.to_thread(_discard, handle, part)
            if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise BackupStorageError(
                    f"the disk holding {final.parent} is full ({error.strerror}) after {size:,} bytes of this"
                    " backup: it was discarded and earlier backups are untouched; free space or point backups"
                    " elsewhere"
                ) from error
            raise BackupStorageError(f"could not write {final}: {error.strerror or error}") from error
        except BaseException:
            await asyncio.to_thread(_discard, handle, part)
            raise
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(os.replace, part, final)
        return size

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self.path(key)
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise BackupStorageError(f"backup file {path} is missing") from None
        try:
            while piece := await asyncio.to_thread(handle.read, _READ_CHUNK):
                yield piece
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)


def _discard(handle: BinaryIO, part: Path) -> None:
    with contextlib.suppress(OSError):  # the close of a file on a full disk may fail too; the file goes anyway
        handle.close()
    part.unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Destination:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, Backblaze, ...), under ``prefix``."""

    bucket: str
    endpoint: str
    region: str
    access_key: str
    secret_key: str
    prefix: str = ""
    name: str = "s3"

    def _store(self) -> S3Store:
        return S3Store(
            self.bucket,
            endpoint=self.endpoint or None,
            region=self.region,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            virtual_hosted_style_request=False,
            client_options={"allow_http": self.endpoint.startswith("http://")},
        )

    def _path(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    async def write(self, key: str, pieces: AsyncIterator[bytes]) -> int:
        size = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal size
            async for piece in pieces:
                size += len(piece)
                yield piece

        try:
            await obstore.put_async(self._store(), self._path(key), counted(), chunk_size=8 << 20)
        except (OSError, obstore.exceptions.BaseError) as error:
            raise BackupStorageError(f"could not upload to bucket {self.bucket}: {error}") from error
        return size

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            result = await obstore.get_async(self._store(), self._path(key))
            async for piece in result.stream(min_chunk_size=_READ_CHUNK):
                yield bytes(piece)
        except (OSError, obstore.exceptions.BaseError) as error:
            raise BackupStorageError(f"could not read {key} from bucket {self.bucket}: {error}") from error

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self._store(), self._path(key))
        except (OSError, obstore.exceptions.BaseError) as error:
            raise BackupStorageError(f"could not delete {key} from bucket {self.bucket}: {error}") from error
