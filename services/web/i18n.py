"""The page's language, and numbers, dates and plurals said correctly in it.

Arabic first: a page is Arabic unless the person chose English (the `bkh_lang` cookie, set by the
language switch) or their browser prefers it. Counted phrases follow CLDR's plural rules through
Babel ("ساعة واحدة، ساعتان، 3 ساعات، 11 ساعة"), never a hand-made rule; times are shown in
Amman's time zone, whatever the server's.

What it must never do: guess a language from anything but those two signals, or format a number
or an instant by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_month_names
from babel.numbers import format_decimal
from starlette.requests import Request

from shared.errors import Language, preferred_language
from shared.locales import LOCALES

LANG_COOKIE: Final = "bkh_lang"
AMMAN: Final = ZoneInfo("Asia/Amman")
LANGUAGES: Final[tuple[Language, ...]] = ("ar", "en")
# Plain dicts: Babel's own mapping costs a lookup through its locale data on every read.
_MONTHS: Final = {language: dict(get_month_names("abbreviated", locale=locale))
                  for language, locale in LOCALES.items()}


def language_of(request: Request) -> Language:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen == "ar":
        return "ar"
    if chosen == "en":
        return "en"
    return preferred_language(request.headers.get("accept-language"))


def direction(language: Language) -> str:
    return "rtl" if language == "ar" else "ltr"


def number(value: float | int, language: Language) -> str:
    return format_decimal(value, locale=LOCALES[language])


def when(value: datetime | str | None, language: Language, *, with_time: bool = True) -> str:
    """An instant as Amman reads it: "7 كانون الأول 2026، 14:05" / "7 Dec 2026, 14:05".

    Babel's `format_datetime` with the pattern "d MMM y، HH:mm" says the same, but parses the
    pattern on every call: a work queue shows dozens of instants, so the CLDR month names are
    looked up once and the rest is arithmetic."""
    if value is None or value == "":
        return ""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = instant.astimezone(AMMAN)
    date_part = f"{local.day} {_MONTHS[language][local.month]} {local.year}"
    if not with_time:
        return date_part
    return f"{date_part}{'، ' if language == 'ar' else ', '}{local:%H:%M}"


def day(value: date | str | None, language: Language) -> str:
    """A calendar day with its weekday: "الأحد 20 أيلول 2027" / "Sunday 20 September 2027"."""
    if value is None or value == "":
        return ""
    found = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(found, "EEEE d MMMM y", locale=LOCALES[language])


def month(value: date, language: Language) -> str:
    """A month of a year: "مارس 2027" / "March 2027"."""
    return format_date(value, "MMMM y", locale=LOCALES[language])


@dataclass(frozen=True, slots=True)
class Plural:
    """A counted phrase in each CLDR plural category of each language; `{n}` is the number.

    Arabic has six categories (zero, one, two, few, many, other) and English two; a missing
    category falls back to `other`.
    """

    ar: dict[str, str]
    en: dict[str, str]

    def of(self, count: float | int, language: Language) -> str:
        forms = self.ar if language == "ar" else self.en
        category = LOCALES[language].plural_form(count)
        return forms.get(category, forms["other"]).format(n=number(count, language))
