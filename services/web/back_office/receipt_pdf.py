"""The complaint-box clerk's receipt as a PDF: what they print and hand over with the paper form.

Arabic letters joined (HarfBuzz through fpdf2's text shaping) in the same vendored Noto Sans
Arabic the pages use; the reference and the tracking code each on a line of their own, left to
right, so that no bidirectional reordering can scramble them. The fonts are read from their
WOFF2 files once per process into TrueType copies (decompressing WOFF2 for every receipt cost
several times the rest of the work); a receipt is still tens of milliseconds of CPU, so it is
made off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import unicodedata
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

from fontTools.ttLib import TTFont
from fpdf import FPDF

from shared.errors import Language

FONTS: Final = Path(__file__).resolve().parents[1] / "static" / "vendor" / "fonts"
ARABIC, LATIN = "NotoArabic", "NotoLatin"
_WEIGHTS: Final = (("", "400"), ("B", "700"))
Direction = Literal["ltr", "rtl"]


@functools.cache
def _truetype_fonts() -> Path:
    """TrueType copies of the vendored WOFF2 fonts, made once per process."""
    folder = Path(tempfile.mkdtemp(prefix="bkh-fonts-"))
    for source in FONTS.glob("noto-sans-arabic-*.woff2"):
        font = TTFont(source)
        font.flavor = None
        font.save(folder / f"{source.stem}.ttf")
    return folder


def direction_of(text: str, arabic: bool) -> Direction:
    """The direction of a text's first strong letter (the page's when it has none)."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "rtl" if arabic else "ltr"


def _document(language: Language) -> FPDF:
    with warnings.catch_warnings():  # fpdf2 notes that A5's dimensions were fixed in 2.8.5
        warnings.simplefilter("ignore", UserWarning)
        pdf = FPDF(format="A5")
    pdf.set_margins(14, 14, 14)
    pdf.set_auto_page_break(auto=True, margin=14)
    fonts = _truetype_fonts()
    for style, weight in _WEIGHTS:
        pdf.add_font(ARABIC, style, fonts / f"noto-sans-arabic-arabic-{weight}-normal.ttf")
        pdf.add_font(LATIN, style, fonts / f"noto-sans-arabic-latin-{weight}-normal.ttf")
    pdf.set_fallback_fonts([LATIN if language == "ar" else ARABIC])
    pdf.set_title("Bekhedmetkom receipt")
    pdf.add_page()
    return pdf


def render(*, language: Language, words: Callable[[str], str], reference: str,
           tracking_code: str | None, facts: list[tuple[str, str]]) -> bytes:
    """The receipt: the platform's name, the title, the reference and the tracking code large,
    then each fact (label, value) and what the requester does next."""
    arabic = language == "ar"
    align = "R" if arabic else "L"
    body = ARABIC if arabic else LATIN
    pdf = _document(language)

    def paragraph(text: str, *, size: float = 11, bold: bool = False, gap: float = 1.5,
                  font: str = body, direction: Direction = "rtl" if arabic else "ltr") -> None:
        pdf.set_text_shaping(use_shaping_engine=True, direction=direction)
        pdf.set_font(font, "B" if bold else "", size)
        pdf.multi_cell(0, size * 0.55, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    paragraph(words("app.name"), size=13, bold=True, gap=0.5)
    paragraph(words("paper.receipt_title"), size=20, bold=True, gap=4)
    paragraph(words("caller.reference"), size=10)
    paragraph(reference, size=22, bold=True, gap=3, font=LATIN, direction="ltr")
    if tracking_code:
        paragraph(words("track.code"), size=10)
        paragraph(tracking_code, size=22, bold=True, gap=4, font=LATIN, direction="ltr")
    for label, value in facts:
        paragraph(label, size=10, bold=True, gap=0)
        # What people wrote reads in its own direction, whatever the receipt's language.
        paragraph(value, size=11, gap=2.5, direction=direction_of(value, arabic))
    pdf.ln(2)
    paragraph(words("paper.receipt_lead"), size=10.5)
    paragraph(words("paper.receipt_note"), size=10.5)
    return bytes(pdf.output())


async def render_off_the_loop(**kwargs: Any) -> bytes:
    """`render` in a worker thread: its 60 ms of CPU must not hold every other page."""
    return await asyncio.to_thread(functools.partial(render, **kwargs))
