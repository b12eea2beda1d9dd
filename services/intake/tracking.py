"""Tracking codes: with the reference, they open a request to someone without an account.

Paper, complaint-box and phone requesters have no account. Each request gets a code when it is
submitted (on the receipt and in the acknowledgement); reference and code together open what
the requester may see of it (`POST /api/v1/tracking`: in a body, so that the code stays out of
addresses and access logs).

Guessing is hopeless: 10 symbols of 32 (50 bits), tries limited per client address and per
reference (`Throttle.spend_tracking_try`), compared in constant time, and a wrong code answers
exactly as an unknown reference does. Intake keeps only the code's SHA-256: whoever can read
intake's database reads the requests themselves, so a slow hash would protect nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

# No 0/O or 1/I: a code is read aloud on the phone and typed from a paper receipt.
ALPHABET: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SYMBOLS: Final = 10
_WESTERN_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def new_code() -> str:
    """A fresh code, as printed and sent: two groups of five ("7KQ2M-XH4RP")."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS))
    return f"{symbols[:5]}-{symbols[5:]}"


def digest(code: str) -> str:
    """What intake keeps of a code: as typed in any case, with or without its dash or spaces,
    in Arabic-Indic digits or not."""
    typed = code.translate(_WESTERN_DIGITS).upper()
    return hashlib.sha256("".join(c for c in typed if c.isalnum()).encode()).hexdigest()


# Compared against when there is nothing to compare with, so that an unknown reference costs
# what a wrong code does.
_NOTHING: Final = hashlib.sha256(b"no request has this digest").hexdigest()


def opens(stored: str | None, typed: str) -> bool:
    """Whether `typed` is the code whose digest is `stored` (None: a request without one)."""
    matches = hmac.compare_digest(stored or _NOTHING, digest(typed))
    return stored is not None and matches
