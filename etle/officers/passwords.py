"""Officer passwords: argon2id hashes (argon2-cffi), a minimum policy, constant-time misses."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from etle.config import PLACEHOLDER_SECRETS
from etle.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes anything; this stops megabyte "passwords" from costing CPU

# argon2-cffi's defaults follow RFC 9106's second recommendation (argon2id, 64 MiB, t=3).
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password-only-for-timing")


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"a password has at most {MAX_LENGTH} characters")
    if password.strip().lower() in PLACEHOLDER_SECRETS or len(set(password)) < 4:
        raise ValidationFailed("this password is too easy to guess")


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def rehash_password(password: str) -> str:
    """A fresh hash of a password already accepted (parameters raised since it was set)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches. An account without a hash costs the same time as one with,
    so response times do not tell which usernames exist."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        if not password_hash:
            _hasher.verify(_dummy_hash(), password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
