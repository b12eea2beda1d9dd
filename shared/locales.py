"""How the platform says dates and numbers: as Jordan does, on every page, report and message.

Arabic as written in Jordan (`ar_JO`: the Levantine month names, أيلول، كانون الأول) and British
English (`en_GB`), both with Western digits as Jordan's services write them. One choice for every
app matters beyond looks: Babel caches locale data per process, and once the generic `ar` has
been read, `ar_JO` answers with `ar`'s month names (Babel 2.18), so two apps in one process that
chose differently would each end up saying the other's.
"""

from __future__ import annotations

from typing import Final

from babel import Locale

# By the language code ("ar", "en") the pages and the problems use.
LOCALES: Final[dict[str, Locale]] = {"ar": Locale.parse("ar_JO"), "en": Locale.parse("en_GB")}
