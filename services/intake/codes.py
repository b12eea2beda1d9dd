"""One-time codes sent by SMS: drawn at random, kept only as an HMAC, compared in constant time.

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


def code_hmac(secret: str, challenge_id: uuid.UUID, code: str) -> str:
    message = f"{challenge_id}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def code_matches(secret: str, challenge_id: uuid.UUID, code: str, stored_hmac: str) -> bool:
    return hmac.compare_digest(code_hmac(secret, challenge_id, code), stored_hmac)
