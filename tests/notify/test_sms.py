"""SMS length: GSM-7 or UCS-2, and segments, as handsets and operators count them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.notify.sms import SmsEncoding, encoding_of, fit, measure


def test_latin_text_is_gsm7_160_in_one_and_153_per_segment() -> None:
    assert measure("a" * 160).segments == 1
    assert measure("a" * 161).segments == 2
    assert measure("a" * 306).segments == 2
    assert measure("a" * 307).segments == 3
    assert measure("a" * 160).encoding is SmsEncoding.gsm7


def test_one_arabic_letter_makes_the_whole_text_ucs2_70_then_67() -> None:
    assert encoding_of("Reference BKH-1 ok") is SmsEncoding.gsm7
    assert encoding_of("Reference BKH-1 تم") is SmsEncoding.ucs2
    assert measure("ب" * 70).segments == 1
    assert measure("ب" * 71).segments == 2
    assert measure("ب" * 134).segments == 2
    assert measure("ب" + "a" * 134).segments == 3


def test_extension_characters_cost_two_septets_and_are_never_split() -> None:
    assert measure("€" * 80).units == 160
    assert measure("€" * 80).segments == 1
    # 152 septets then an escape pair: the pair cannot straddle the segment boundary.
    assert measure("a" * 152 + "€" + "a" * 152).segments == 3
    assert measure("a" * 151 + "€" + "a" * 153).segments == 2


def test_a_surrogate_pair_counts_two_units_and_stays_whole() -> None:
    assert measure("😀").units == 2
    assert measure("😀" * 35).segments == 1
    # 134 units would fill two segments exactly, but the pair cannot straddle them.
    assert measure("ب" * 66 + "😀" + "ب" * 66).segments == 3


def test_the_ellipsis_that_cuts_latin_text_keeps_it_gsm7() -> None:
    cut = fit("word " * 100, 1)
    assert cut.endswith("...")
    assert measure(cut).encoding is SmsEncoding.gsm7
    assert measure(cut).segments == 1


@given(st.text(min_size=0, max_size=1500), st.integers(min_value=1, max_value=6))
def test_a_fitted_text_never_exceeds_its_budget(text: str, budget: int) -> None:
    fitted = fit(text, budget)
    assert measure(fitted).segments <= budget
    if measure(text).segments <= budget:
        assert fitted == text
