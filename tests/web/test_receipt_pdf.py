"""The complaint-box clerk's PDF receipt, read back: in Arabic and English, the reference and
the tracking code whole, what the requester wrote in its own direction."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.web.back_office.receipt_pdf import direction_of, render
from services.web.words import word
from shared.errors import Language


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_receipt_holds_the_reference_the_code_and_the_facts(language: Language) -> None:
    pdf = render(language=language, words=lambda key: word(key, language),
                 reference="2026-0000123-4", tracking_code="KLB4W-EUM5W",
                 facts=[(word("queue.subject", language), "<b>Water cut</b> since May 2")])
    assert pdf.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for whole in ("2026-0000123-4", "KLB4W-EUM5W", "<b>Water cut</b> since May 2",
                  "bekhedmetkom.gov.jo/track"):
        assert whole in text, (whole, text)


def test_a_receipt_without_its_code_says_nothing_of_one() -> None:
    pdf = render(language="en", words=lambda key: word(key, "en"), reference="2026-0000123-4",
                 tracking_code=None, facts=[])
    assert "Tracking code" not in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_what_people_wrote_reads_in_its_own_direction() -> None:
    assert direction_of("تأخر صرف الدواء 2", arabic=False) == "rtl"
    assert direction_of("2 Water cut", arabic=True) == "ltr"
    assert direction_of("2026", arabic=True) == "rtl"
