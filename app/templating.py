"""Jinja filters and globals: money in 万元/元, local time, names of codes."""
from zoneinfo import ZoneInfo

from flask import current_app

from app import labels
from app.services.applications import DECLINE_REASONS, STATUS_LABELS
from app.services.consents import category_label
from app.services.money import format_rate, format_wan, format_yuan
from app.services.products import guarantee_label
from app.services.region import current_region, town_name


def localtime(value, fmt="%Y-%m-%d %H:%M"):
    """A stored UTC time shown in the deployment's time zone."""
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime(fmt)


def register(app):
    """Register the filters and globals on `app`."""
    filters = {
        "wan": lambda v: "" if v is None else format_wan(v),
        "yuan": lambda v: "" if v is None else format_yuan(v),
        "rate": lambda v: "" if v is None else format_rate(v),
        "localtime": localtime,
        "town": town_name,
        "guarantee": guarantee_label,
        "category": category_label,
        "app_status": lambda c: labels.label(STATUS_LABELS, c),
        "decline_reason": lambda c: labels.label(DECLINE_REASONS, c),
        "subject_kind": lambda c: labels.label(labels.SUBJECT_KINDS, c),
        "institution_kind": lambda c: labels.label(labels.INSTITUTION_KINDS, c),
        "role": lambda c: labels.label(labels.ROLES, c),
        "need_status": lambda c: labels.label(labels.NEED_STATUSES, c),
        "product_status": lambda c: labels.label(labels.PRODUCT_STATUSES, c),
        "urgency": lambda c: labels.label(labels.URGENCIES, c),
        "consent_status": lambda c: labels.label(labels.CONSENT_STATUSES, c),
        "purpose": lambda c: labels.label(labels.PURPOSES, c),
        "batch_status": lambda c: labels.label(labels.BATCH_STATUSES, c),
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals["region"] = current_region
