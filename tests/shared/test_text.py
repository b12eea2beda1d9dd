"""The search key and digit folding: what people type on Arabic keyboards compares as one
(intake compares submissions with it, routing indexes requests with it)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.text import ascii_digits, search_key, similarity

# The plain definition the fast versions must agree with, character for character.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Arabic letters, Arabic-Indic digits, Latin and punctuation: the alphabet of submissions.
_TYPED = st.text(
    st.characters(codec="utf-8", categories=("L", "M", "N", "P", "Zs"))
    | st.sampled_from(list("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹أإآٱىئؤةکیـًٌٍَُِّْ"))
)


@given(_TYPED)
def test_ascii_digits_changes_only_the_arabic_indic_digits(text: str) -> None:
    assert ascii_digits(text) == text.translate(_DIGITS)


def test_search_key_folds_alef_forms_taa_marbuta_diacritics_and_digits() -> None:
    assert search_key("إنارة الشارع") == search_key("انارة  الشارع") == "اناره الشارع"
    assert search_key("مُعامَلَة رقم ٤٥") == "معامله رقم 45"
    assert search_key("مستشفى", "آبار") == "مستشفي ابار"
    assert search_key("Street LIGHT, broken!") == "street light broken"


def test_search_key_folds_tatweel_and_hamza_on_waw_and_yaa() -> None:
    assert search_key("مســؤول") == search_key("مسوول") == "مسوول"
    assert search_key("رئيس البلدية") == "رييس البلديه"
    assert search_key("الطلب ٢٠٣٠-٠٠٠٠٠١٢") == "الطلب 2030 0000012"


@given(_TYPED)
def test_search_key_is_idempotent(text: str) -> None:
    assert search_key(search_key(text)) == search_key(text)


def test_similar_subjects_share_most_words() -> None:
    assert similarity(search_key("انقطاع المياه في الحي"), search_key("إنقطاع المياه في الحيّ")) == 1
    assert similarity(search_key("انقطاع المياه"), search_key("حفرة في الشارع")) == 0
