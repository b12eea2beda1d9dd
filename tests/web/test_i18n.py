"""Numbers, instants and counted phrases as the pages say them, by CLDR's rules (Babel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_datetime

from services.web.i18n import AMMAN, when
from services.web.words import PLURALS
from shared.errors import Language
from shared.locales import LOCALES

INSTANTS = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=37 * n, minutes=611 * n)
            for n in range(12)]


@pytest.mark.parametrize("language", ["ar", "en"])
def test_an_instant_is_said_as_babel_says_it_in_ammans_time(language: Language) -> None:
    pattern = "d MMM y، HH:mm" if language == "ar" else "d MMM y, HH:mm"
    for instant in INSTANTS:
        expected = format_datetime(instant, pattern, tzinfo=AMMAN, locale=LOCALES[language])
        assert when(instant, language) == expected
        assert when(instant.isoformat(), language, with_time=False) == format_datetime(
            instant, "d MMM y", tzinfo=AMMAN, locale=LOCALES[language])


@pytest.mark.parametrize(("count", "said"), [
    (1, "باقي ساعة عمل واحدة"), (2, "باقي ساعتا عمل"), (3, "باقي 3 ساعات عمل"),
    (11, "باقي 11 ساعة عمل"), (100, "باقي 100 ساعة عمل")])
def test_arabic_counts_follow_cldrs_plural_rules(count: int, said: str) -> None:
    assert PLURALS["working_hours_left"].of(count, "ar") == said


def test_english_counts_take_their_plural() -> None:
    assert PLURALS["working_days_left"].of(1, "en") == "1 working day left"
    assert PLURALS["working_days_left"].of(4, "en") == "4 working days left"
