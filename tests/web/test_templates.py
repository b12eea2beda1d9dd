"""Every template compiles, and every sentence a template names exists in both languages: a
merge that breaks a macro or a word fails here, in a second, not in a browser test."""

from __future__ import annotations

import re

import pytest

from services.routing.permissions import Permission
from services.web.config import WebSettings
from services.web.main import HERE, templates
from services.web.office import menu
from services.web.sessions import Person
from services.web.words import PERMISSION, WORDS

TEMPLATES = sorted(p.relative_to(HERE / "templates").as_posix()
                   for p in (HERE / "templates").rglob("*.html"))
_WORD = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+)["']\s*\)""")


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_template_compiles(name: str) -> None:
    templates().get_template(name)


def test_every_word_a_template_names_is_said_in_both_languages() -> None:
    named = {key for name in TEMPLATES
             for key in _WORD.findall((HERE / "templates" / name).read_text(encoding="utf-8"))}
    assert named, "the scan found no words: the pattern no longer matches the templates"
    missing = sorted(named - set(WORDS))
    assert missing == []
    assert all(text.ar and text.en for text in WORDS.values())


def test_every_permission_routing_knows_has_a_name_on_the_pages() -> None:
    assert sorted(set(Permission) - set(PERMISSION)) == []


def test_the_menu_offers_the_calendar_only_to_those_the_sla_service_lets_keep_it() -> None:
    """A person granted the directory's management is not a CMU administrator: the calendar
    and the time limits stay the administrators' (the SLA service refuses anyone else)."""
    settings = WebSettings()
    granted = Person(id="1", username="d", full_name="D", role="cmu_staff",
                     permissions=("cases.read", "directory.manage"))
    admin = Person(id="2", username="a", full_name="A", role="cmu_admin",
                   permissions=("cases.read", "directory.manage"))
    assert "nav.calendar" not in [item.key for item in menu(granted, settings)]
    assert "nav.directory" in [item.key for item in menu(granted, settings)]
    assert "nav.calendar" in [item.key for item in menu(admin, settings)]
