"""Secrets that are never kept: one-time codes, and keyed digests of what must not be stored.

A code is drawn at random and kept only as an HMAC over its challenge; a value that must not be
kept in the clear but must be recognised again (a password inside an idempotency fingerprint, a
phone number in a rate-limit key) is kept as a keyed digest, so that a leaked table or Redis
dump cannot be reversed by trying every phone number.

What it must never do: store or log a code, or let a code of one challenge open another (the
HMAC covers the challenge id).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_code(length: int) -> str:
    return f"{secrets.randbelow(10**length):0{length}d}"


def keyed_digest(secret: str, *parts: str) -> str:
    """HMAC-SHA256 (hex) of the parts, one per line."""
    return hmac.new(secret.encode(), "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def code_hmac(secret: str, challenge_id: uuid.UUID, code: str) -> str:
    return keyed_digest(secret, str(challenge_id), code)


def code_matches(secret: str, challenge_id: uuid.UUID, code: str, stored_hmac: str) -> bool:
    return hmac.compare_digest(code_hmac(secret, challenge_id, code), stored_hmac)
