"""Calendar dates of the deployment: today where the users are, months as their first day."""
from calendar import monthrange
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from . import clock


def local_date(moment=None):
    """The deployment's calendar date at `moment`, a stored naive UTC time (now when None)."""
    moment = moment or clock.utcnow()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def local_time_text(moment):
    """A stored UTC time (naive datetime or ISO text) in minutes of the deployment's time zone: 2026-11-19 17:30."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def month_of(day):
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(day, months):
    """`day` moved by `months` months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def utc_start_of(day):
    """The stored (naive UTC) time at which the deployment's calendar date `day` begins."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(), zone).astimezone(UTC).replace(tzinfo=None)
