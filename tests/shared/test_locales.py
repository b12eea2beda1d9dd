"""Every app says a date the same way, whichever of them spoke first in the process."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from services.analytics.published import render_period
from services.web.i18n import when

SEPTEMBER_5 = datetime(2027, 9, 5, 9, 0, tzinfo=UTC)


def test_the_back_office_and_the_reports_name_the_month_alike() -> None:
    assert when(SEPTEMBER_5, "ar", with_time=False) == "5 أيلول 2027"
    assert render_period(date(2027, 9, 5), date(2027, 9, 11), "ar") == "5–11 أيلول 2027"
    assert render_period(date(2027, 9, 5), date(2027, 9, 11), "en") == "5–11 Sept 2027"


@pytest.mark.parametrize("first", ["services.web.i18n", "services.analytics.published"])
def test_whichever_app_speaks_first_the_months_stay_jordan_s(first: str) -> None:
    """Babel caches locale data per process: once the web app read the generic `ar`, the
    reports' `ar_JO` said `ar`'s months, in the embedded platform only. A fresh interpreter
    each, so that the order is the one named."""
    program = (
        f"import {first}\n"
        "from datetime import UTC, date, datetime\n"
        "from services.analytics.published import render_period\n"
        "from services.web.i18n import when\n"
        "print(when(datetime(2027, 9, 5, 9, tzinfo=UTC), 'ar', with_time=False))\n"
        "print(render_period(date(2027, 9, 5), date(2027, 9, 11), 'ar'))\n")
    said = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True).stdout.split("\n")
    assert said[:2] == ["5 أيلول 2027", "5–11 أيلول 2027"]
