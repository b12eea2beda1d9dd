"""Reference numbers: serial, unique, easy to read out on the phone, and checked when typed back.

    2026-0001234-7      year of receipt (Amman) · serial number · check digit

The serial number comes from one platform-wide sequence (never reset, so a number is unique
whatever the year says); the check digit is Damm's, which catches every single wrong digit and
every swap of two neighbouring digits, the mistakes people make reading a number aloud.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from shared.text import compact_identifier

AMMAN: Final = ZoneInfo("Asia/Amman")

# Damm's totally anti-symmetric quasigroup of order 10.
_DAMM: Final = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_TYPED: Final = re.compile(r"^([0-9]{4})([0-9]{7,})([0-9])$")


def damm(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return interim


def format_reference(number: int, received_at: datetime) -> str:
    year = received_at.astimezone(AMMAN).year
    serial = f"{number:07d}"
    return f"{year}-{serial}-{damm(f'{year}{serial}')}"


def parse_reference(typed: str) -> str | None:
    """The canonical reference for what someone typed (Arabic digits, no dashes…), or None
    when it cannot be one (wrong shape, or a check digit that does not match)."""
    match = _TYPED.fullmatch(compact_identifier(typed)[:40])
    if match is None:
        return None
    year, serial, check = match.groups()
    if damm(year + serial) != int(check):
        return None
    return f"{year}-{serial}-{check}"
