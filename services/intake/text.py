"""What people type, made safe: names, free text and phone numbers.

Citizens type on Arabic keyboards (Arabic-Indic digits) and paste from anywhere (invisible
direction marks, markup). These functions turn that into one canonical form for storage and
refuse what must never be stored in a name. The search key and digit folding are the kernel's
(`shared.text`): routing searches with the same one. They are pure: no I/O, no clock.

What it must never do: change the text a citizen wrote (the original is kept), or accept a name
that could reorder or hide text when displayed to an officer (bidirectional controls) or render
as markup.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import phonenumbers

from shared.errors import Text
from shared.text import ascii_digits

# Explicit direction controls (LRE…PDF, LRI…PDI), marks (LRM, RLM, ALM) and zero-width format
# characters: invisible, and able to make an officer read a name in another order.
BIDI_AND_INVISIBLE: Final = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff"
)
# One letter, mark, or a joiner a name may contain between its words.
_NAME_JOINERS: Final = frozenset(" -'\u2019.")
# In free text ZWNJ/ZWJ shape Persian and Arabic words legitimately; direction controls do not.
_DIRECTION_CONTROLS: Final = re.compile(
    "[" + "".join(sorted(BIDI_AND_INVISIBLE - {"\u200c", "\u200d"})) + "]"
)
_CONTROL_EXCEPT_LINES: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_invisible_controls(text: str) -> bool:
    return not BIDI_AND_INVISIBLE.isdisjoint(text)


def name_problem(name: str) -> Text | None:
    """Why a personal name is refused (the field error's message), or None."""
    if has_invisible_controls(name):
        return Text("يحتوي الاسم على محارف اتجاه أو تنسيق غير مرئية",
                    "The name contains invisible direction or formatting characters")
    if "<" in name or ">" in name or "&" in name:
        return Text("يحتوي الاسم على محارف ترميز (< > &)", "The name contains markup characters")
    for character in name:
        category = unicodedata.category(character)
        if not (category[0] in "LM" or character in _NAME_JOINERS):
            return Text("يقتصر الاسم على الحروف والمسافات والشرطات والفواصل العليا",
                        "The name may contain only letters, spaces, hyphens and apostrophes")
    if not any(unicodedata.category(c).startswith("L") for c in name):
        return Text("يجب أن يحتوي الاسم على حروف", "The name must contain letters")
    return None


def clean_name(name: str) -> str:
    """NFC, single spaces, no surrounding blanks: one spelling per name as typed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def free_text_problem(text: str) -> Text | None:
    """Why a subject or description is refused, or None (markup is kept as plain text)."""
    if _CONTROL_EXCEPT_LINES.search(text):
        return Text("يحتوي النص على محارف تحكّم", "The text contains control characters")
    if _DIRECTION_CONTROLS.search(text):
        return Text("يحتوي النص على محارف اتجاه غير مرئية",
                    "The text contains invisible direction characters")
    return None


class InvalidPhone(ValueError):
    def __init__(self, code: str, message: Text) -> None:
        super().__init__(message.en)
        self.code = code
        self.message = message


_NOT_A_PHONE = Text("رقم الهاتف غير صحيح", "The phone number is not a valid phone number")


def mobile_e164(number: str, *, region: str) -> str:
    """A mobile number in E.164 (`+962791234567`), or `InvalidPhone` saying why not."""
    try:
        parsed = phonenumbers.parse(ascii_digits(number), region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("phone_format", _NOT_A_PHONE) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("phone_format", _NOT_A_PHONE)
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidPhone("phone_not_mobile", Text(
            "رقم الهاتف ليس رقم هاتف خلوي (يجب أن يصله رمز التحقق برسالة نصية)",
            "The phone number is not a mobile number (an SMS code must reach it)"))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
