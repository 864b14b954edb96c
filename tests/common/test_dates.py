"""Calendar dates: the deployment's today, months by their first day, months added."""
from datetime import date, datetime

import pytest

from app.common.dates import add_months, local_date, month_of


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 3, 15), 12, date(2027, 3, 15)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 3, 15), -3, date(2025, 12, 15)),
])
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


def test_month_of_is_the_first_day():
    assert month_of(date(2026, 7, 19)) == date(2026, 7, 1)


def test_local_date_is_the_deployments_calendar_day(app):
    # 2026-03-31 17:30 UTC is already April 1st in Asia/Shanghai (UTC+8).
    assert local_date(datetime(2026, 3, 31, 17, 30)) == date(2026, 4, 1)
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    assert local_date(datetime(2026, 3, 31, 17, 30)) == date(2026, 3, 31)
