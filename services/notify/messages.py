"""Messages: every kind notify sends, its Jinja2 templates in Arabic and English, and rendering.

Each kind (`MessageKind`) has one template per language, `templates/<language>/<kind>.j2`, with
three blocks: `subject` (email), `sms` (the whole SMS) and `body` (the email's text, paragraphs
separated by blank lines); an optional `action` block labels a link (`action_url`). The email's
HTML part is the body laid out by `templates/layout.html.j2` (right to left for Arabic, escaped);
its plain-text part is the body itself. Identifiers set inside Arabic text (reference numbers,
links, codes) are wrapped in Unicode directional isolates (`ltr` filter), so that
`BKH-2025-000123` reads the same in a right-to-left line.

Templates see only the context given to them; an unknown variable is an error (tests render
every kind in both languages, so a missing language or variable fails the suite, never
production). This module must never send, store or log what it renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context
from prometheus_client import Counter

from services.notify.sms import SmsEncoding, encoding_of, fit
from shared.errors import Text
from shared.events.vocabulary import Language

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
AMMAN: Final = ZoneInfo("Asia/Amman")
_LRI, _PDI = "\u2066", "\u2069"  # left-to-right isolate … pop directional isolate
SMS_CUT = Counter("bkh_notify_sms_cut_total", "SMS texts cut to the segment budget",
                  ["kind", "language"])


class MessageKind(StrEnum):
    """What a message is about; also its template's name and the `template` in events."""

    code = "citizen.code"
    received = "requester.received"
    assigned = "requester.assigned"
    accepted = "requester.accepted"
    info_requested = "requester.info_requested"
    extended = "requester.extended"
    responded = "requester.responded"
    duplicate_answered = "requester.duplicate_answered"
    closed = "requester.closed"
    reopened = "requester.reopened"
    rejected = "requester.rejected"
    officer_assigned = "officer.assigned"
    officer_distributed = "officer.distributed"
    officer_reopened = "officer.reopened"
    officer_chased = "officer.chased"
    officer_overdue_digest = "officer.overdue_digest"
    escalated = "official.escalated"
    report_published = "official.report_published"
    review_opened = "cmu.review_opened"
    triaged = "cmu.triaged"
    report_arrived = "commission.report_arrived"


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str


def _in(text: Text, language: Language) -> str:
    return text.ar if language is Language.ar else text.en


def _ltr(context: Context, value: object) -> str:
    text = str(value)
    return f"{_LRI}{text}{_PDI}" if context.get("language") == Language.ar else text


def _amman(value: datetime | str) -> str:
    """An instant as Amman's clocks show it (contexts keep instants as ISO strings, in UTC)."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(AMMAN).strftime("%Y-%m-%d %H:%M")


def _clip(value: object, length: int) -> str:
    text = " ".join(str(value).split())  # one line: an SMS or a subject has no paragraphs
    if len(text) <= length:
        return text
    # "…" is not in the GSM-7 alphabet: it would make a Latin-only SMS cost twice as much.
    ellipsis = "..." if encoding_of(text) is SmsEncoding.gsm7 else "…"
    return text[: length - len(ellipsis)].rstrip() + ellipsis


def _working_days(context: Context, count: int) -> str:
    if context.get("language") != Language.ar:
        return "1 working day" if count == 1 else f"{count} working days"
    if count == 1:
        return "يوم عمل واحد"
    if count == 2:
        return "يومَي عمل"
    return f"{count} أيام عمل" if 3 <= count <= 10 else f"{count} يوم عمل"


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["ltr"] = pass_context(_ltr)
    environment.filters["amman"] = _amman
    environment.filters["clip"] = _clip
    environment.filters["working_days"] = pass_context(_working_days)
    return environment


class Messages:
    """Renders a kind in a language; templates are compiled once and kept."""

    def __init__(self, *, segment_budget: int) -> None:
        self.segment_budget = segment_budget
        self._environment = _environment()
        self._layout = self._environment.get_template("layout.html.j2")
        self._words = {
            language: self._environment.get_template(f"{language}/_words.j2").module
            for language in Language
        }
        self._templates: dict[tuple[MessageKind, Language], Template] = {}

    def template(self, kind: MessageKind, language: Language) -> Template:
        key = (kind, language)
        if key not in self._templates:
            self._templates[key] = self._environment.get_template(f"{language}/{kind}.j2")
        return self._templates[key]

    def _block(self, template: Template, name: str, context: Mapping[str, Any]) -> str:
        render = template.blocks.get(name)
        if render is None:
            return ""
        return "".join(render(template.new_context(dict(context)))).strip()

    def _context(self, language: Language, context: Mapping[str, Any]) -> dict[str, Any]:
        # A `Text` (a name the directory gives in both languages) speaks the message's language.
        values = {k: _in(v, language) if isinstance(v, Text) else v for k, v in context.items()}
        return {**values, "language": language, "w": self._words[language]}

    def sms(self, kind: MessageKind, language: Language, context: Mapping[str, Any]) -> str:
        """The SMS text, cut to the segment budget if a template let it grow past it."""
        template = self.template(kind, language)
        text = " ".join(self._block(template, "sms", self._context(language, context)).split())
        fitted = fit(text, self.segment_budget)
        if fitted != text:  # a template to shorten: the tests should have caught it
            SMS_CUT.labels(kind.value, language.value).inc()
        return fitted

    def email(self, kind: MessageKind, language: Language, context: Mapping[str, Any]) -> Email:
        template = self.template(kind, language)
        values = self._context(language, context)
        subject = " ".join(self._block(template, "subject", values).split())
        body = self._block(template, "body", values)
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        action_url = values.get("action_url")
        action_label = self._block(template, "action", values) if action_url else ""
        text = "\n\n".join(paragraphs)
        if action_url:
            text += f"\n\n{action_label}:\n{action_url}"
        html = self._layout.render(
            language=language,
            direction="rtl" if language == Language.ar else "ltr",
            subject=subject,
            paragraphs=[p.splitlines() for p in paragraphs],
            action_url=action_url,
            action_label=action_label,
            footer=_FOOTER[language],
        )
        return Email(subject=subject, text=f"{text}\n\n—\n{_FOOTER[language]}\n", html=html)


_FOOTER: Final = {
    Language.ar: "بخدمتكم، المنصة الحكومية الموحدة. رسالة آلية، يُرجى عدم الرد عليها.",
    Language.en: "Bekhedmetkom, the government-wide platform. An automatic message: "
    "please do not reply.",
}
