"""Every message kind has its templates in Arabic and English, renders whole, and fits its SMS
budget; email HTML reads right to left in Arabic, escapes what people wrote, and has a plain
text part. A kind missing a language, or a template using a word it was not given, fails here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notify.config import NotifySettings
from services.notify.messages import TEMPLATES_DIR, MessageKind, Messages
from services.notify.sms import SmsEncoding, measure
from shared.events import catalog as c
from shared.events.vocabulary import ClosingCode, CodePurpose, Language, LegalGround, SlaStage

BUDGET = NotifySettings(service_name="notify").sms_segment_budget
MESSAGES = Messages(segment_budget=BUDGET)
AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
# The longest link a response carries: the public address, the path, a signed token.
RATING_LINK = ("https://bekhedmetkom.gov.jo/rate/BKH-2026-000123?token="
               + "e" * 115 + "." + "m" * 43)


def facts(message: MessageKind, **overrides: Any) -> dict[str, Any]:
    """What each kind's handler puts in its context, at plausible full length."""
    common = {"reference": "BKH-2026-000123", "subject": "انقطاع المياه عن الحي منذ أسبوع",
              "entity_name": "وزارة المياه والري"}
    by_kind: dict[MessageKind, dict[str, Any]] = {
        MessageKind.code: {"code": "482913", "purpose": "registration", "expires_at": AT},
        MessageKind.received: {**common, "kind": "complaint", "submitted_at": AT.isoformat(),
                               "tracking_code": "7KQ2M-XH4RP"},
        MessageKind.assigned: common,
        MessageKind.accepted: {**common, "days": 7},
        MessageKind.info_requested: {**common, "question": "ما رقم عداد المياه؟"},
        MessageKind.extended: {**common, "days": 3, "reason": "زيارة ميدانية",
                               "extension_number": 1},
        MessageKind.responded: {**common, "actions_taken": "فحص الخط", "solution": "أُصلح",
                                "action_url": RATING_LINK},
        MessageKind.duplicate_answered: {**common, "answered": "BKH-2026-000099",
                                         "actions_taken": "فحص الخط", "solution": "أُصلح"},
        MessageKind.closed: {**common, "closing_code": "resolved", "merged_into": None},
        MessageKind.reopened: {**common, "decision": "لم تُحل المشكلة"},
        MessageKind.rejected: {**common, "legal_ground": "before_court", "reason": "قضية"},
        MessageKind.officer_assigned: {**common, "kind": "complaint"},
        MessageKind.officer_distributed: {**common, "kind": "inquiry"},
        MessageKind.officer_reopened: {**common, "decision": "لم تُحل المشكلة"},
        MessageKind.officer_chased: {**common, "stage": "first_response",
                                     "due_at": AT.isoformat(), "chase": 2,
                                     "note": "مضى أسبوع على الموعد ولم يصلني رد"},
        MessageKind.officer_overdue_digest: {
            "overdue": [{"reference": f"BKH-2026-{n:06d}", "overdue_since": AT.isoformat()}
                        for n in range(5)], "count": 5},
        MessageKind.escalated: {**common, "level": 2, "stage": "processing",
                                "overdue_since": AT.isoformat()},
        MessageKind.report_published: {"cadence": "monthly", "period_start": date(2026, 10, 1),
                                       "period_end": date(2026, 10, 31),
                                       "action_url": "https://bekhedmetkom.gov.jo/api/v1/"
                                       "analytics/reports/" + str(uuid.uuid4())},
        MessageKind.review_opened: common,
        MessageKind.triaged: {"reference": "BKH-2026-000123", "reason": "no_entity"},
        MessageKind.report_arrived: {},
    }
    return {**by_kind[message], **overrides}


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_has_a_template_in_every_language(kind: MessageKind, language: Language
                                                     ) -> None:
    assert (TEMPLATES_DIR / language / f"{kind}.j2").is_file()


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_whole_and_its_sms_fits_the_budget(kind: MessageKind,
                                                              language: Language) -> None:
    context = facts(kind)
    sms = MESSAGES.sms(kind, language, context)
    email = MESSAGES.email(kind, language, context)
    assert sms
    assert email.subject
    assert email.text
    assert "…" not in sms or language is Language.ar  # nothing was cut to fit
    assert measure(sms).segments <= BUDGET
    if "reference" in context:
        assert context["reference"] in sms
        assert context["reference"] in email.subject


@pytest.mark.parametrize("kind", list(MessageKind))
def test_english_sms_stays_gsm7_when_its_words_are_latin(kind: MessageKind) -> None:
    latin = {key: value for key, value in facts(kind).items()}
    for key in ("subject", "entity_name", "question", "reason", "decision", "solution",
                "actions_taken"):
        if key in latin and not (kind is MessageKind.triaged and key == "reason"):
            latin[key] = "Ministry of Water and Irrigation"
    assert measure(MESSAGES.sms(kind, Language.en, latin)).encoding is SmsEncoding.gsm7


@pytest.mark.parametrize(
    ("key", "values"),
    [("kind", [k.value for k in c.SubmittableKind.__args__]),  # type: ignore[attr-defined]
     ("closing_code", list(ClosingCode)), ("legal_ground", list(LegalGround)),
     ("reason", list(c.TriageReason)), ("purpose", list(CodePurpose)),
     ("stage", list(SlaStage)), ("cadence", list(c.ReportCadence)), ("level", [1, 2])],
)
@pytest.mark.parametrize("language", list(Language))
def test_every_value_an_event_carries_has_words_in_both_languages(
    key: str, values: list[Any], language: Language
) -> None:
    users = [kind for kind in MessageKind if key in facts(kind)]
    assert users
    for kind in users:
        for value in values:
            assert MESSAGES.sms(kind, language, facts(kind, **{key: value}))


@settings(max_examples=40, deadline=None)
@given(free=st.text(min_size=1, max_size=2000))
def test_free_text_never_pushes_an_sms_past_its_budget(free: str) -> None:
    for kind, key in ((MessageKind.info_requested, "question"),
                      (MessageKind.extended, "reason"), (MessageKind.rejected, "reason"),
                      (MessageKind.received, "subject")):
        for language in Language:
            sms = MESSAGES.sms(kind, language, facts(kind, **{key: free}))
            assert measure(sms).segments <= BUDGET


def test_arabic_email_html_reads_right_to_left_and_english_left_to_right() -> None:
    arabic = MESSAGES.email(MessageKind.received, Language.ar, facts(MessageKind.received))
    english = MESSAGES.email(MessageKind.received, Language.en, facts(MessageKind.received))
    assert '<html lang="ar" dir="rtl">' in arabic.html
    assert '<body dir="rtl"' in arabic.html
    assert "text-align:right" in arabic.html
    assert '<html lang="en" dir="ltr">' in english.html


def test_reference_numbers_are_isolated_inside_arabic_text_and_only_there() -> None:
    arabic = MESSAGES.sms(MessageKind.received, Language.ar, facts(MessageKind.received))
    english = MESSAGES.sms(MessageKind.received, Language.en, facts(MessageKind.received))
    assert "\u2066BKH-2026-000123\u2069" in arabic
    assert "\u2066" not in english


@pytest.mark.parametrize("kind", [MessageKind.responded, MessageKind.report_published])
def test_a_link_ends_its_sms_untouched_so_phones_open_exactly_it(kind: MessageKind) -> None:
    # A directional mark glued to a link would be taken into it by some linkifiers (Android
    # counts any character above U+00A0 as part of a path): the signature would no longer match.
    context = facts(kind)
    for language in Language:
        assert MESSAGES.sms(kind, language, context).endswith(" " + context["action_url"])


def test_what_people_wrote_is_escaped_in_html_and_kept_in_text() -> None:
    hostile = '<script>alert("x")</script> & <b>'
    email = MESSAGES.email(MessageKind.received, Language.en,
                           facts(MessageKind.received, subject=hostile))
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert hostile in email.text


def test_the_response_email_has_a_button_and_the_link_in_its_text() -> None:
    email = MESSAGES.email(MessageKind.responded, Language.ar, facts(MessageKind.responded))
    assert f'href="{RATING_LINK}"' in email.html
    assert "قيّم الخدمة" in email.html
    assert RATING_LINK in email.text


@pytest.mark.parametrize("language", list(Language))
def test_a_duplicate_s_closing_names_the_request_that_carries_it(language: Language) -> None:
    sms = MESSAGES.sms(MessageKind.closed, language,
                       facts(MessageKind.closed, closing_code="duplicate",
                             merged_into="BKH-2026-000099"))
    assert "BKH-2026-000099" in sms


def test_a_missing_word_fails_rendering_instead_of_sending_a_blank() -> None:
    context = facts(MessageKind.accepted)
    del context["days"]
    with pytest.raises(Exception, match="days"):
        MESSAGES.sms(MessageKind.accepted, Language.ar, context)
