"""How long an SMS is: its encoding (GSM-7 or UCS-2) and its segments, and cutting it to a budget.

A text made only of the GSM 03.38 alphabet travels in 7-bit septets: 160 in one message, 153 per
segment once it is split (the rest carries the concatenation header); characters of the
extension table (`€ [ ] { } ~ ^ | \\` and form feed) cost two septets and are never split across
segments. One character outside it (one Arabic letter is enough) makes the whole text UCS-2:
70 UTF-16 units in one message, 67 per segment, and a surrogate pair is never split.

No library on PyPI does this and is kept up, and the rules are fixed by the standard: this is
the whole of it. It must never change the text it measures, only report on it or cut it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")


class SmsEncoding(StrEnum):
    gsm7 = "gsm7"
    ucs2 = "ucs2"


# (units in a single message, units per segment of a split message)
_LIMITS: Final = {SmsEncoding.gsm7: (160, 153), SmsEncoding.ucs2: (70, 67)}
_ELLIPSIS: Final = {SmsEncoding.gsm7: "...", SmsEncoding.ucs2: "…"}


@dataclass(frozen=True, slots=True)
class SmsLength:
    encoding: SmsEncoding
    units: int      # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def encoding_of(text: str) -> SmsEncoding:
    gsm = all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)
    return SmsEncoding.gsm7 if gsm else SmsEncoding.ucs2


def _cost(character: str, encoding: SmsEncoding) -> int:
    if encoding is SmsEncoding.gsm7:
        return 2 if character in GSM7_EXTENSION else 1
    return 2 if ord(character) > 0xFFFF else 1  # a surrogate pair in UTF-16


def measure(text: str) -> SmsLength:
    encoding = encoding_of(text)
    costs = [_cost(c, encoding) for c in text]
    single, per_segment = _LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return SmsLength(encoding, units, 1 if text else 0)
    segments, room = 1, per_segment
    for cost in costs:
        if cost > room:  # an escape pair or a surrogate pair is never split
            segments, room = segments + 1, per_segment
        room -= cost
    return SmsLength(encoding, units, segments)


def fit(text: str, budget: int) -> str:
    """The text itself when it fits in `budget` segments, else as much as fits and an ellipsis.

    The cut never changes the encoding: a GSM-7 text is cut with "..." so that it stays GSM-7.
    """
    if measure(text).segments <= budget:
        return text
    ellipsis = _ELLIPSIS[encoding_of(text)]
    low, high = 0, len(text)  # the longest prefix that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle].rstrip() + ellipsis).segments <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ellipsis
