"""China's working days, and the response clock's rules on them (docs/response-clock.md).

Public holidays and the adjusted working Saturdays and Sundays (调休) follow the State Council's
notice for each year, which `chinese_calendar` keeps as a table. Past the years that table knows,
the package raises; then Monday to Friday count as working days and a warning is logged once per
year, because a due time may then fall on a holiday the notice has not yet announced. Upgrading
the package (each November, after the notice) ends the fallback.

Times are stored in UTC (naive); the clock counts days in Beijing time.
"""
import logging
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

from .vocab import AWAITING_FIRM_STATUSES

# The calendar is China's, whatever time zone pages are shown in.
BEIJING = ZoneInfo("Asia/Shanghai")

log = logging.getLogger(__name__)


@cache
def _working_days_of(year):
    """Whether each day of `year` (1 January first) is a working day."""
    first = date(year, 1, 1)
    days = [first + timedelta(days=k) for k in range((date(year + 1, 1, 1) - first).days)]
    try:
        return tuple(chinese_calendar.is_workday(day) for day in days)
    except NotImplementedError:
        log.warning("chinese_calendar has no holiday table for %d: counting Monday to Friday as working "
                    "days; upgrade the package once the State Council's notice for %d is out", year, year)
        return tuple(day.weekday() < 5 for day in days)


@cache
def _running_count(year):
    """For each day of `year`, the working days from 1 January up to and including it."""
    counts, total = [], 0
    for working in _working_days_of(year):
        total += working
        counts.append(total)
    return tuple(counts)


def _rank_in_year(day):
    return _running_count(day.year)[day.timetuple().tm_yday - 1]


def is_working_day(day):
    """Whether `day` is a working day in China (Monday to Friday past the package's years)."""
    return _working_days_of(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(start, end):
    """The working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    whole_years = sum(_running_count(year)[-1] for year in range(start.year, end.year))
    return whole_years + _rank_in_year(end) - _rank_in_year(start)


def add_working_days(start, count):
    """The day `count` working days after `start` (`start` itself for 0); `count` is not negative."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def beijing_time(at):
    """A stored UTC time (naive) as an aware time in Beijing."""
    return at.replace(tzinfo=UTC).astimezone(BEIJING)


def received_on(at, closes_at):
    """The working day an event at `at` counts on: its day in Beijing when that is a working day and
    the event came before `closes_at`, else the next working day."""
    local = beijing_time(at)
    day = local.date()
    if is_working_day(day) and local.time() < closes_at:
        return day
    return add_working_days(day, 1)


def closing_time(day, closes_at):
    """`closes_at` (Beijing time) on `day`, as a stored UTC time."""
    return datetime.combine(day, closes_at, tzinfo=BEIJING).astimezone(UTC).replace(tzinfo=None)


def due_time(submitted_at, limit_days, closes_at):
    """When an application submitted at `submitted_at` must be decided: at closing time of the
    `limit_days`-th working day after the day it is received (the day of receipt is not counted)."""
    return closing_time(add_working_days(received_on(submitted_at, closes_at), limit_days), closes_at)


def paused_days(stopped_at, resumed_at, closes_at):
    """The working days the clock stood still between `stopped_at` and `resumed_at`."""
    return working_days_between(received_on(stopped_at, closes_at), received_on(resumed_at, closes_at))


def pauses(changes):
    """(stopped_at, resumed_at) for each time the clock stood still, from an application's status changes
    as (status, at) pairs in order: it stops when the firm has the next move and resumes at the next
    change; a pause still running ends at None."""
    stopped_at = None
    for status, at in changes:
        if stopped_at is not None:
            yield stopped_at, at
            stopped_at = None
        if status in AWAITING_FIRM_STATUSES:
            stopped_at = at
    if stopped_at is not None:
        yield stopped_at, None


def postpone(due_at, days, closes_at):
    """A due time moved `days` working days later (still at closing time)."""
    return closing_time(add_working_days(beijing_time(due_at).date(), days), closes_at)


def working_days_late(due_at, now):
    """0 while `now` is not past `due_at`; then the working days begun since the due day, at least 1."""
    if now <= due_at:
        return 0
    return max(1, working_days_between(beijing_time(due_at).date(), beijing_time(now).date()))


def working_days_taken(submitted_at, decided_at, paused, closes_at):
    """Working days from receipt to decision, less the `paused` ones: 0 means decided on the day of receipt."""
    return working_days_between(received_on(submitted_at, closes_at), received_on(decided_at, closes_at)) - paused


def parse_closing_time(text):
    """A closing time setting such as "17:30"."""
    return time.fromisoformat(text)
