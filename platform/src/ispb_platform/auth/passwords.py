"""Password hashing with argon2id (DESIGN 10).

argon2-cffi's default profile is RFC 9106's low-memory one (argon2id, 64 MiB, t=3, p=4), above OWASP's
minimum (19 MiB, t=2, p=1). `needs_rehash` lets sign-in upgrade old hashes when the parameters change.
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
