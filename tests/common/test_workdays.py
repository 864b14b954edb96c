"""China's working days and the response clock's rules on them (docs/response-clock.md)."""
import logging
from datetime import date, datetime, time, timedelta

import pytest

from app.common import workdays
from app.common.workdays import (
    add_working_days,
    due_time,
    is_working_day,
    paused_days,
    pauses,
    postpone,
    received_on,
    working_days_between,
    working_days_late,
    working_days_taken,
)

CLOSES = time(17, 30)


def beijing(*args):
    """A Beijing wall-clock time as the stored UTC time (Beijing is UTC+8 all year)."""
    return datetime(*args) - timedelta(hours=8)


def test_the_spring_festival_2026_is_skipped_and_its_adjusted_saturday_counts():
    # 2026-02-14 is a Saturday worked in exchange for the holiday; 2026-02-15 to 02-23 are off.
    assert is_working_day(date(2026, 2, 14)) and not is_working_day(date(2026, 2, 15))
    assert [d for d in range(15, 24) if is_working_day(date(2026, 2, d))] == []
    assert add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 25)) == 3


def test_an_adjusted_working_sunday_and_the_new_year_across_the_year_end():
    # 2026-01-04 is a Sunday worked after the New Year holiday of 1–3 January.
    assert is_working_day(date(2026, 1, 4)) and not is_working_day(date(2026, 1, 2))
    assert working_days_between(date(2025, 12, 30), date(2026, 1, 6)) == 4
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


@pytest.mark.parametrize("start", [date(2026, 2, 10), date(2026, 9, 28), date(2025, 12, 29), date(2026, 4, 30)])
@pytest.mark.parametrize("count", [0, 1, 3, 10, 40])
def test_counting_and_adding_agree(start, count):
    end = add_working_days(start, count)
    assert working_days_between(start, end) == count and working_days_between(end, start) == -count
    assert count == 0 or is_working_day(end)


def test_a_submission_after_close_of_business_or_on_a_day_off_is_received_the_next_working_day():
    assert received_on(beijing(2026, 2, 13, 17, 29), CLOSES) == date(2026, 2, 13)
    assert received_on(beijing(2026, 2, 13, 17, 30), CLOSES) == date(2026, 2, 14)  # the adjusted Saturday
    assert received_on(beijing(2026, 2, 14, 20, 0), CLOSES) == date(2026, 2, 24)  # then the festival
    # Past midnight in Beijing, though still the evening before in UTC.
    assert received_on(datetime(2026, 2, 24, 17, 0), CLOSES) == date(2026, 2, 25)


def test_due_time_is_close_of_business_of_the_last_working_day_after_receipt():
    assert due_time(beijing(2026, 2, 13, 10, 0), 3, CLOSES) == beijing(2026, 2, 25, 17, 30)
    assert due_time(beijing(2026, 2, 13, 18, 0), 3, CLOSES) == beijing(2026, 2, 26, 17, 30)
    assert due_time(beijing(2026, 3, 2, 9, 0), 0, CLOSES) == beijing(2026, 3, 2, 17, 30)


def test_working_days_late_count_from_the_first_working_day_after_the_due_day():
    due = beijing(2026, 2, 12, 17, 30)
    assert working_days_late(due, due) == 0
    assert working_days_late(due, beijing(2026, 2, 12, 17, 31)) == 1
    assert working_days_late(due, beijing(2026, 2, 14, 10, 0)) == 2  # Friday, then the adjusted Saturday
    assert working_days_late(due, beijing(2026, 2, 20, 10, 0)) == 2  # the festival does not count
    assert working_days_late(due, beijing(2026, 2, 24, 9, 0)) == 3


def test_the_clock_stands_still_while_the_firm_answers_an_information_request():
    changes = [("submitted", 1), ("in_review", 2), ("info_requested", 3), ("in_review", 5), ("info_requested", 8)]
    assert list(pauses(changes)) == [(3, 5), (8, None)]
    asked, answered = beijing(2026, 2, 10, 10, 0), beijing(2026, 2, 13, 11, 0)
    assert paused_days(asked, answered, CLOSES) == 3
    assert postpone(beijing(2026, 2, 12, 17, 30), 3, CLOSES) == beijing(2026, 2, 24, 17, 30)
    assert working_days_taken(beijing(2026, 2, 9, 10, 0), beijing(2026, 2, 24, 9, 0), 3, CLOSES) == 3


@pytest.fixture
def fresh_calendar():
    """The per-year tables rebuilt, so that a year's fallback warning is logged again."""
    for table in (workdays._working_days_of, workdays._running_count):
        table.cache_clear()
    yield
    for table in (workdays._working_days_of, workdays._running_count):
        table.cache_clear()


@pytest.mark.parametrize("year", [2003, 2100])
def test_beyond_the_packages_years_monday_to_friday_count_with_a_warning(fresh_calendar, caplog, year):
    # chinese_calendar raises for a year whose State Council notice it does not hold.
    first_monday = next(date(year, 1, d) for d in range(1, 8) if date(year, 1, d).weekday() == 0)
    with caplog.at_level(logging.WARNING, logger="app.common.workdays"):
        assert is_working_day(first_monday) and not is_working_day(first_monday - timedelta(days=1))
        assert add_working_days(first_monday, 5) == first_monday + timedelta(days=7)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(year) in warnings[0] and "Monday to Friday" in warnings[0]
