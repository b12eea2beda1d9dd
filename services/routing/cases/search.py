"""The staff's search over requests: what a case is indexed by, and what a typed query asks.

A case is indexed once, when it is placed, by two keys folded with the kernel's normaliser
(`shared.text.search_key`: tashkeel, tatweel, hamza forms, taa marbuta, alef maqsura,
Arabic-Indic digits): its subject's, and its description's with the requester's name and the
parts of its reference. A query is folded the same way, so "إنارة" finds "انارة" and "٤٥"
finds "45"; words are indexed with and without their article ("المياه" and "مياه"). Each typed
word must begin a word of the request, a number or a word of one or two letters be a whole
word (PostgreSQL: prefix matching on a `simple` tsvector under a GIN index; SQLite: a LIKE over
the keys); a query shaped like a reference also matches the references that start with it.

Similar requests share words of their subject: candidates share at least one (the tsvector's
subject words are weighted A), ranked by how many of their words they share.

What it must never do: return or log the requester's name (it lives only inside `search_key`);
build a query from anything but folded words (they hold letters and digits only, so nothing
typed can change a tsquery's syntax).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from shared.text import ascii_digits, search_key

MAX_WORDS: Final = 8
"""The words of a query that count (a pasted paragraph must not become a huge query)."""
PREFIX_FROM: Final = 3
"""Words of this many letters or more match the start of a word; shorter ones whole words."""
REFERENCE_PREFIX_MIN: Final = 6
"""A reference is matched from this many characters (the year and a dash are not enough)."""
_REFERENCE: Final = re.compile(r"^[A-Z0-9][A-Z0-9/-]*$")


# The definite article, alone or after a one-letter conjunction or preposition: "المياه",
# "والمياه", "بالمياه", "للمياه" are also indexed as "مياه", which is what people type.
_ARTICLE: Final = re.compile(r"^(?:[وفبك]?ال|لل)(?=\w\w)")


def case_keys(*, reference: str, subject: str, description: str,
              requester_name: str | None) -> dict[str, str]:
    """The columns a case is found by: its subject's key, and the key of its description, the
    requester's name and the reference's parts (its serial alone finds it), followed by every
    word of them without its article."""
    subject_key = search_key(subject)
    rest = search_key(description, requester_name or "", reference)
    bare = dict.fromkeys(_ARTICLE.sub("", word) for word in f"{subject_key} {rest}".split()
                         if _ARTICLE.match(word))
    return {"subject_key": subject_key, "search_key": " ".join([rest, *bare]).strip()}


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """What a typed query asks for: words (each a prefix), and perhaps a reference's start."""

    words: tuple[str, ...]
    reference_prefix: str | None

    @classmethod
    def of(cls, typed: str) -> SearchTerms | None:
        """The terms of a query; None when it holds no letter or digit."""
        words = tuple(dict.fromkeys(search_key(typed).split()))[:MAX_WORDS]
        typed_reference = ascii_digits(unicodedata.normalize("NFKC", typed)).strip().upper()
        reference = typed_reference if (
            len(typed_reference) >= REFERENCE_PREFIX_MIN and _REFERENCE.fullmatch(typed_reference)
            and any(c.isdigit() for c in typed_reference)) else None
        if not words and reference is None:
            return None
        return cls(words=words, reference_prefix=reference)

    def tsquery(self) -> str:
        """Every word as the start of a word, but numbers and words shorter than
        `PREFIX_FROM` whole (`to_tsquery('simple', …)`); "" for none. The prefix of a number
        ("6" of a reference) or of two letters would gather half the index."""
        return " & ".join(f"'{word}'" if word.isdigit() or len(word) < PREFIX_FROM
                          else f"'{word}':*" for word in self.words)


def subject_tsquery(subject_key: str) -> str:
    """Any word of a subject, among the subject words of others (weight A)."""
    return " | ".join(f"'{word}':A" for word in dict.fromkeys(subject_key.split()))
