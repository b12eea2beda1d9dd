"""Passwords: argon2id hashes, checked off the event loop, with one policy for everyone.

Citizens (intake) and staff (routing) both sign in with a password; this is the one place that
hashes and checks them. Hashing costs tens of milliseconds of CPU on purpose, so it runs in a
worker thread and never stalls the other requests of the process.

What it must never do: store or log a password, say whether an account exists by answering
faster for unknown ones (`verify_password(None, …)` spends the same work as a real check), or
accept a hash of another algorithm.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shared.errors import Text

MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 128  # argon2 takes any length; a cap keeps a megabyte "password" cheap

# OWASP's argon2id recommendation (m = 19 MiB, t = 2, p = 1).
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, type=Type.ID)

# The few passwords every guesser tries first (NIST SP 800-63B: refuse known-bad ones).
_COMMON: Final = frozenset({
    "12345678", "123456789", "1234567890", "123123123", "11111111", "00000000", "87654321",
    "password", "password1", "password123", "passw0rd", "qwerty123", "qwertyuiop", "iloveyou",
    "abcd1234", "abc12345", "admin123", "welcome1", "11223344", "12341234", "qwerty12",
    "jordan123", "amman123", "الأردن123",
})

TOO_SHORT: Final = Text(
    f"كلمة المرور قصيرة: {MIN_LENGTH} أحرف على الأقل.",
    f"The password is too short: at least {MIN_LENGTH} characters.",
)
TOO_LONG: Final = Text(
    f"كلمة المرور طويلة: {MAX_LENGTH} حرفاً على الأكثر.",
    f"The password is too long: at most {MAX_LENGTH} characters.",
)
TOO_COMMON: Final = Text(
    "كلمة المرور شائعة يسهل تخمينها، اختر غيرها.",
    "The password is too common and easy to guess; choose another.",
)


def password_problem(password: str, *, personal: tuple[str, ...] = ()) -> Text | None:
    """Why this password is refused, or None when it is acceptable.

    Length and a list of known-bad passwords only, as NIST advises (no composition rules);
    `personal` holds values the password must not equal (a national number, a phone, a name).
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    folded = password.casefold()
    if folded in _COMMON or len(set(folded)) <= 2 or folded in {p.casefold() for p in personal}:
        return TOO_COMMON
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (unknown account) the same work is done."""
    return await asyncio.to_thread(_verify, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at sign-in."""
    return _HASHER.check_needs_rehash(stored_hash)


def _verify(stored_hash: str | None, password: str) -> bool:
    if stored_hash is None:
        _spend_the_same_work(password)
        return False
    if not stored_hash.startswith("$argon2id$"):
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _spend_the_same_work(password: str) -> None:
    try:
        _HASHER.verify(_dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("an account that does not exist")
