"""The marks every list of requests shows on each row: a request's reference, its status,
escalation and deadline badges.

Functions, not Jinja macros (`templates/macros.html` has the rest): a page of the work queue
shows a hundred of them, and Jinja spends several times longer calling a macro than a function
(`python -m bench.web_page_cost`). Each escapes what it is given (`Markup.format` would too, at
several times the cost) and returns markup.
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

from services.web.i18n import when
from services.web.words import label, word
from shared.errors import Language

NOTHING = Markup("")


def ref(reference: str) -> Markup:
    """A request's reference, kept left to right inside Arabic text."""
    return Markup(f'<bdi dir="ltr" class="ref">{escape(reference)}</bdi>')


def status_badge(status: str, language: Language) -> Markup:
    return Markup(f'<span class="badge badge--{escape(status)}">'
                  f'{escape(label("status", status, language))}</span>')


def escalation_badge(level: int | None, language: Language) -> Markup:
    """"Escalated · level 2"; nothing before the first escalation."""
    if not level or level <= 0:
        return NOTHING
    return Markup(f'<span class="badge badge--escalated">'
                  f'{escape(word("queue.escalated", language))} · '
                  f'{escape(word("queue.level", language))} <bdi>{int(level)}</bdi></span>')


def deadline_badge(due_at: datetime | str | None, overdue_since: datetime | str | None,
                   language: Language) -> Markup:
    """Overdue since when, or due when; nothing without a deadline."""
    if overdue_since:
        return Markup(f'<span class="badge badge--overdue">'
                      f'{escape(word("case.overdue_since", language))} '
                      f'<time datetime="{escape(overdue_since)}">'
                      f'{escape(when(overdue_since, language))}</time></span>')
    if due_at:
        return Markup(f'<span class="badge badge--due"><time datetime="{escape(due_at)}">'
                      f'{escape(when(due_at, language))}</time></span>')
    return NOTHING

