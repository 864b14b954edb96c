"""What a score page shows: the stored score, its chart, its peers, the records behind its reasons.

Everything here reads what a scoring run stored (reasons are never recomputed for a page view).
A lender sees an applicant's score only under the consent of that application, in force, and each
view is logged under it; a firm sees its own.
"""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from app.common.language import english
from app.common.money import format_yuan
from app.common.region import town_codes
from app.credit.features import BY_NAME, sources_of
from app.credit.improve import suggest
from app.credit.reasons import sentence
from app.credit.registry import RegistryError
from app.credit.scoring import data_as_of, latest_per_subject, latest_score, score_history, subject_row
from app.entities import CreditScore, CreditSubject, ModelVersion, SourceRecord
from app.ingest.sources import SOURCES, choice_label, column_label, get_source

from . import consents, models, objections
from .publicity import publicity_rules

EVIDENCE_ROWS = 12
CHART_WIDTH = 240  # the bars' part of the chart, in SVG units
BAR_STEP = 30
HIDDEN_KINDS = ("code", "id_number")  # never shown: the subject's code, ID numbers
# What the firm would do to move an actionable feature (app.credit.improve), in plain words.
ACTIONS = {
    "tax_late_filings_12m": _l("按期申报纳税：近12个月逾期申报从 %(before)s 次减少到 %(after)s 次"),
    "tax_arrears_wan": _l("缴清当前欠税 %(before)s 万元"),
    "tax_arrears_months_12m": _l("按时缴税、不再欠税：近12个月有欠税的月份从 %(before)s 个减少到 %(after)s 个"),
    "si_arrears_months_12m": _l("按时足额缴纳社保：近12个月欠缴的月份从 %(before)s 个减少到 %(after)s 个"),
    "si_paid_ratio_12m": _l("社保实缴占应缴的比例从 %(before)s 提高到 %(after)s"),
    "util_late30_6m": _l("水电气费不再逾期超过30天：近6个月这样的月份从 %(before)s 个减少到 %(after)s 个"),
    "util_late_12m": _l("按期缴纳水电气费：近12个月逾期从 %(before)s 次减少到 %(after)s 次"),
    "util_days_late_max_12m": _l("水电气费最长逾期从 %(before)s 天缩短到 %(after)s 天以内"),
    "tax_late_share_36m": _l(
        "今后按期申报纳税，让早年的逾期移出统计期：近3年逾期申报的月份从 %(before)s 个减少到 %(after)s 个"),
    "tax_arrears_months_36m": _l(
        "今后按时缴税，让早年的欠税移出统计期：近3年有欠税的月份从 %(before)s 个减少到 %(after)s 个"),
    "util_late_per_month_36m": _l(
        "今后按期缴纳水电气费，让早年的逾期移出统计期：近3年逾期的账单从 %(before)s 笔减少到 %(after)s 笔"),
    "util_late30_months_36m": _l(
        "今后水电气费不再逾期超过30天，让早年的记录移出统计期：近3年这样的月份从 %(before)s 个减少到 %(after)s 个"),
    "si_arrears_latest": _l("补缴上月欠缴的社保"),
}


@dataclass
class ScoreView:
    """A subject's latest score as a page shows it."""

    score: CreditScore
    model_version: str
    chart: dict
    peers: dict | None = None
    evidence: list | None = None
    history: list | None = None
    sources: list | None = None


def lender_summary(session, application, user, now=None):
    """(consent, latest score or None) of the applicant for the application page, logged as a view under the
    application's own consent; NotAllowed saying why when that consent is not in force."""
    consent = consents.application_consent(session, application, now)
    consents.log_access(session, application.subject_id, user, consent, f"application:{application.id}")
    return consent, latest_score(session, application.subject_id)


def lender_view(session, application, user, now=None):
    """The applicant's latest score with chart, peers and the records behind each reason, under the
    application's own consent (NotAllowed saying why otherwise), logged under it; None if unscored."""
    consent = consents.application_consent(session, application, now)
    subject = application.subject
    score = latest_score(session, subject.id)
    if score is None:
        return None
    consents.log_access(session, subject.id, user, consent, f"score:application:{application.id}")
    return ScoreView(score, _version(session, score), chart_geometry(score), peer_standing(session, subject, score),
                     reason_evidence(session, subject.id, score.reasons))


@dataclass
class Profile:
    """What an institution's system reads of an applicant: the consent it reads under, the latest score
    (None if unscored) and the score's view (reasons with their records)."""

    consent: object
    score: CreditScore | None
    view: ScoreView | None


def api_profile(session, application, user, now=None):
    """The applicant's profile for the lender's system, under the application's own consent (NotAllowed
    saying why otherwise), logged in the firm's 查询记录 whether or not it is scored."""
    consent = consents.application_consent(session, application, now)
    consents.log_access(session, application.subject_id, user, consent, f"api:profile:application:{application.id}")
    score = latest_score(session, application.subject_id)
    if score is None:
        return Profile(consent, None, None)
    view = ScoreView(score, _version(session, score), chart_geometry(score),
                     evidence=reason_evidence(session, application.subject_id, score.reasons))
    return Profile(consent, score, view)


def firm_view(session, subject):
    """The latest score with chart, history and the sources used; None if unscored."""
    score = latest_score(session, subject.id)
    if score is None:
        return None
    return ScoreView(score, _version(session, score), chart_geometry(score),
                     evidence=reason_evidence(session, subject.id, score.reasons),
                     history=score_history(session, subject.id), sources=sources_used(session, subject.id))


def _version(session, score):
    return session.scalar(select(ModelVersion.version).where(ModelVersion.id == score.model_version_id))


def chart_geometry(score):
    """Bars of the SHAP chart (log-odds added to the base risk), laid out for an inline SVG."""
    data = score.contributions or {"base": None, "other": 0.0,
                                   "items": [[r["feature"], r["contribution"], r["value"]] for r in score.reasons]}
    items = [(feature, contribution, value) for feature, contribution, value in data["items"]]
    if data.get("other"):
        items.append((None, data["other"], None))
    largest = max((abs(c) for _f, c, _v in items), default=0.0) or 1.0
    half = CHART_WIDTH / 2
    bars = []
    # the peers a percentile or a health estimate is read against: the subject's kind and size, as its reasons name them
    peer = data.get("peer") or next((reason["peer"] for reason in score.reasons or () if reason.get("peer")), None)
    for k, (feature, contribution, value) in enumerate(items):
        length = max(abs(contribution) / largest * (half - 42), 1.0)
        zh, en = (sentence(feature, value if value is not None else float("nan"), {"peer": peer}) if feature
                  else (None, None))
        bars.append({"feature": feature, "contribution": contribution, "up": contribution > 0, "zh": zh, "en": en,
                     "x": half if contribution > 0 else half - length, "width": length, "y": k * BAR_STEP})
    # whether what is never a reason (kind, town, size, the loan's terms…) raised the risk: said when no reason did
    return {"bars": bars, "zero": half, "width": CHART_WIDTH, "height": len(bars) * BAR_STEP + 6,
            "base": data.get("base"), "others_raised": (data.get("other") or 0) > 0}


def peer_standing(session, subject, score):
    """Where the score sits among the latest scores of subjects of the same industry division and town.

    `percentile`: the share of those peers scoring lower (ties count half), in %.
    """
    division = (subject.industry_code or "")[:2]
    if len(division) < 2:
        return None
    peers = select(CreditSubject.id).where(CreditSubject.town_code == subject.town_code, CreditSubject.id != subject.id,
                                           CreditSubject.industry_code.like(f"{division}%"))
    latest = latest_per_subject(CreditScore.subject_id.in_(peers))
    lower = func.sum(case((CreditScore.score < score.score, 1.0), (CreditScore.score == score.score, 0.5), else_=0.0))
    count, below = session.execute(select(func.count(), lower).select_from(CreditScore)
                                   .join(latest, latest.c.id == CreditScore.id)).one()
    if not count:
        return {"count": 0, "percentile": None, "division": division, "town": subject.town_code}
    return {"count": count, "percentile": round(100 * float(below) / count), "division": division,
            "town": subject.town_code}


def display_value(column, value):
    """A stored record's value as a person reads it (元 with separators, the department's words)."""
    if value is None:
        return "—"
    if column.kind == "money":
        return format_yuan(value)
    if column.kind == "bool":
        return _("是") if value else _("否")
    if column.kind == "choice":
        return choice_label(column, value, english())
    if column.kind == "month":
        return str(value)[:7]
    return str(value)


def source_table(session, subject_id, source_name, limit=EVIDENCE_ROWS):
    """The subject's latest current records of one source, as a table (newest first); a penalty only
    while it is in force (a repaired or expired one is no longer shown), a record under an open
    objection marked disputed (有异议)."""
    source = get_source(source_name)
    columns = [c for c in source.columns if c.kind not in HIDDEN_KINDS]
    query = (select(SourceRecord.id, SourceRecord.payload, SourceRecord.received_at)
             .where(SourceRecord.subject_id == subject_id, SourceRecord.source == source_name,
                    SourceRecord.superseded_by_id.is_(None))
             .order_by(SourceRecord.period.desc(), SourceRecord.id.desc()))
    if source_name == "penalty":
        rules = publicity_rules()
        rows = [row for row in session.execute(query) if rules.in_force(row[1])][:limit]
    else:
        rows = session.execute(query.limit(limit)).all()
    disputed = objections.disputed_records(session, [row[0] for row in rows])
    return {"source": source, "headers": [column_label(c, english()) for c in columns],
            "rows": [{"id": record_id, "received_at": received, "disputed": record_id in disputed,
                      "cells": [display_value(c, payload.get(c.name)) for c in columns]}
                     for record_id, payload, received in rows]}


def record_view(record):
    """One stored record as a one-row table, with where it came from (its batch's file or provenance)."""
    source = get_source(record.source)
    columns = [c for c in source.columns if c.kind not in HIDDEN_KINDS]
    return {"source": source, "headers": [column_label(c, english()) for c in columns], "batch": record.batch.file_name,
            "current": record.superseded_by_id is None,
            "rows": [{"id": record.id, "received_at": record.received_at, "disputed": False,
                      "cells": [display_value(c, record.payload.get(c.name)) for c in columns]}]}


def reason_evidence(session, subject_id, reasons):
    """Each stored reason with the tables of the records it was computed from."""
    tables = {}
    evidence = []
    for reason in reasons or []:
        names = sources_of(reason["feature"])
        for name in names:
            if name not in tables:
                tables[name] = source_table(session, subject_id, name)
        evidence.append({"reason": reason, "tables": [tables[name] for name in names]})
    return evidence


def sources_used(session, subject_id):
    """Per department source: how many current records the subject has and the latest period and receipt."""
    rows = session.execute(
        select(SourceRecord.source, func.count(), func.max(SourceRecord.period), func.max(SourceRecord.received_at))
        .where(SourceRecord.subject_id == subject_id, SourceRecord.superseded_by_id.is_(None))
        .group_by(SourceRecord.source)).all()
    found = {name: (count, period, received) for name, count, period, received in rows}
    return [{"source": source, "records": found[source.name][0], "latest_period": found[source.name][1],
             "received_at": found[source.name][2]} for source in SOURCES if source.name in found]


def latest_records(session, subject_id, per_source=3):
    """The subject's newest current records of every source: the data items it may object to."""
    items = []
    for entry in sources_used(session, subject_id):
        table = source_table(session, subject_id, entry["source"].name, per_source)
        items.extend((row["id"], entry["source"], " · ".join(row["cells"][:4])) for row in table["rows"])
    return items


def improvement(session, root, region_code, subject_id, score):
    """What would improve the firm's grade, with the active model on its stored data; None without a model."""
    try:
        active = models.active_scorer(session, root)
    except RegistryError:
        return None
    as_of = score.data_as_of if score is not None else data_as_of(session)
    row, _completeness = subject_row(session, subject_id, as_of, town_codes(region_code), penalties=publicity_rules())
    return suggest(active, row)


def _figure(feature, value, months):
    if BY_NAME[feature].monotone < 0:
        return f"{value * 100:.0f}%"
    if months:  # a rate over months, said as the count it stands for
        return f"{round(value * months):d}"
    return f"{value:,.2f}" if feature == "tax_arrears_wan" else f"{value:.0f}"


def describe_change(change):
    """One suggested change in plain words, e.g. 按期缴纳水电气费：近12个月逾期从 3 次减少到 1 次."""
    return str(ACTIONS[change.feature]) % {"before": _figure(change.feature, change.before, change.months),
                                           "after": _figure(change.feature, change.after, change.months)}


def describe(suggestion):
    """The suggestion's changes in plain words (not those that follow from another of its changes)."""
    return [describe_change(change) for change in suggestion.changes if not change.implied]
