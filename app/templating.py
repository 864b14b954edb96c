"""Jinja filters and globals: money in 万元/元, local time, names of codes."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from app.common import vocab
from app.common.language import english
from app.common.money import format_rate, format_wan, format_yuan
from app.common.region import current_region, town_choices, town_name
from app.credit.reasons import reason_sentence
from app.ingest.sources import column_label, get_source
from app.matching.explain import sentence
from app.matching.rules import ATTRIBUTES, RULES, SECTION_NAMES
from app.services.list_kinds import list_words


def localtime(value, fmt="%Y-%m-%d %H:%M"):
    """A stored UTC time (a naive datetime, or ISO text as the model registry writes it) shown in the
    deployment's time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).strftime(fmt)


def odds_basis(match):
    """What a product's approval odds rest on, in words (docs/matching.md)."""
    if match.odds_basis == "product":
        return _("依据本产品 %(n)d 条审批记录", n=match.evidence)
    if match.odds_basis == "institution":
        return _("本产品审批记录不足，依据该机构 %(n)d 条审批记录估计", n=match.evidence)
    if match.odds_basis == "score":
        return _("该产品审批记录不足，按同等级主体的总体批准率估计")
    return _("审批记录不足，暂无法估计")


def section_choices():
    """(letter, name) of every GB/T 4754 section."""
    return [(code, str(name)) for code, name in SECTION_NAMES.items()]


def section_label(code):
    """A GB/T 4754 section with its name, or 未登记."""
    return f"{code} {SECTION_NAMES[code]}" if code in SECTION_NAMES else _("未登记")


def size_label(code):
    """A firm size class's name, or 未知."""
    return str(ATTRIBUTES["size_class"].choices.get(code, _("未知")))


def source_label(name):
    """A department source as its department and title in the reader's language, e.g. 税务 · 月度纳税申报."""
    return get_source(name).label(english())


def access_kind(what):
    """What a 查询记录 entry was a view of, in words."""
    return vocab.ACCESS_KINDS.label((what or "").split(":", 1)[0])


# Jinja filters that name a code: `{{ application.status|app_status }}`.
VOCABULARY_FILTERS = {
    "guarantee": vocab.GUARANTEE_TYPES, "category": vocab.DATA_CATEGORIES, "app_status": vocab.APPLICATION_STATUSES,
    "decline_reason": vocab.DECLINE_REASONS, "subject_kind": vocab.SUBJECT_KINDS,
    "institution_kind": vocab.INSTITUTION_KINDS, "role": vocab.ROLES, "need_status": vocab.NEED_STATUSES,
    "product_status": vocab.PRODUCT_STATUSES, "urgency": vocab.URGENCIES, "consent_status": vocab.CONSENT_STATUSES,
    "purpose": vocab.PURPOSES, "batch_status": vocab.BATCH_STATUSES, "run_status": vocab.RUN_STATUSES,
    "run_trigger": vocab.RUN_TRIGGERS, "objection_kind": vocab.OBJECTION_KINDS,
    "objection_status": vocab.OBJECTION_STATUSES, "repayment": vocab.REPAYMENT_METHODS,
    "blacklist_policy": vocab.BLACKLIST_POLICIES, "source_name": vocab.SOURCE_NAMES, "queue_scope": vocab.QUEUE_SCOPES,
    "repair_status": vocab.REPAIR_STATUSES, "penalty_state": vocab.PENALTY_STATES,
    "severity": vocab.PENALTY_SEVERITIES, "list_type": vocab.LIST_TYPES, "list_measure": vocab.LIST_MEASURES,
    "list_source": vocab.LIST_SOURCES, "list_status": vocab.LIST_ENTRY_STATUSES,
    "compliance_rule": vocab.COMPLIANCE_RULES, "compliance_mode": vocab.COMPLIANCE_MODES,
    "compliance_target": vocab.COMPLIANCE_TARGETS, "licence_status": vocab.LICENCE_STATUSES,
    "audit_action": vocab.AUDIT_ACTIONS,
}


# Full-width punctuation of Chinese text and what English text uses in its place.
PUNCTUATION_EN = {"：": ": ", "（": " (", "）": ")", "、": ", ", "，": ", ", "。": ". ", "；": "; "}


def punctuation(mark):
    """A punctuation mark written between a template's pieces, in the reader's language: `{{ punct("：") }}`."""
    return PUNCTUATION_EN.get(mark, mark) if english() else mark


def plain_reason(reason):
    """A stored score reason in the user's language, in today's words (a count where a rate stands for one)."""
    chinese, english = reason_sentence(reason)
    return english if str(get_locale()) == "en" else chinese


def register(app):
    """Register the filters and globals on `app`."""
    filters = {
        "wan": lambda v: "" if v is None else format_wan(v),
        "yuan": lambda v: "" if v is None else format_yuan(v),
        "rate": lambda v: "" if v is None else format_rate(v),
        "localtime": localtime,
        "pct": lambda v: "" if v is None else f"{v * 100:.0f}%",
        "apr": lambda v: "" if v is None else f"{v:.2f}",
        "rule_sentence": sentence,
        "odds_basis": odds_basis,
        "town": town_name,
        **{name: table.label for name, table in VOCABULARY_FILTERS.items()},
        "access_kind": access_kind,
        "overdue_band": lambda days: vocab.OVERDUE_BANDS.label(vocab.overdue_band(days)),
    }
    app.jinja_env.filters.update(filters)
    app.jinja_env.globals.update(vocab=vocab, region=current_region, town_options=town_choices,
                                 section_options=section_choices,
                                 section_label=section_label, plain_reason=plain_reason, size_label=size_label,
                                 source_label=source_label, english=english, punct=punctuation, list_words=list_words,
                                 column_label=column_label,
                                 rule_label=lambda name: str(RULES[name].label) if name in RULES else name)
