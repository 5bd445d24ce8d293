"""Password hashing with argon2id (DESIGN 10).

argon2-cffi's default profile is RFC 9106's low-memory one (argon2id, 64 MiB, t=3, p=4), above OWASP's
minimum (19 MiB, t=2, p=1). `needs_rehash` lets sign-in upgrade old hashes when the parameters change.

One hash costs tens of milliseconds of CPU by design, so request handlers use the ``*_async`` forms: they run
in a worker thread (argon2-cffi releases the GIL), keeping the event loop free for other requests.
"""

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD = 10  # staff accounts; long passphrases beat composition rules (NIST SP 800-63B)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)
