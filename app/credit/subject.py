"""One subject's features straight from its stored records: the lean path of online scoring.

The batch path (records.records_from_db → features.build_features) types every record into pandas
frames, which costs tens of milliseconds even for one subject. Here the subject's JSON payloads are
read as they are and the same formulas run on one-row windows (features.monthly_features with a
SubjectWindows); registration and events are plain Python mirrors of the batch rules. The result is
the batch's row, value for value (tests/credit/test_subject.py holds both paths to it).
"""
import math
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.entities import SourceRecord

from .features import (
    COMPLETENESS_SOURCES,
    CONTEXT_NAMES,
    FEATURE_NAMES,
    HEALTH_INPUTS,
    categories,
    loan_features,
    monthly_features,
    peer_placeholders,
)

NAN = float("nan")
DAY = timedelta(days=1)


def subject_records(session, subject_id, penalties=None):
    """The subject's current records as stored: {source name: [payload, …]}; with `penalties` (a
    penalties.PublicityRules) only the penalties in force on its day (see records_from_db)."""
    query = select(SourceRecord.source, SourceRecord.payload).where(
        SourceRecord.subject_id == subject_id, SourceRecord.superseded_by_id.is_(None))
    records = {}
    for source, payload in session.execute(query):
        records.setdefault(source, []).append(payload)
    if penalties is not None and "penalty" in records:
        records["penalty"] = penalties.used(records["penalty"])
    return records


def _number(value):
    return NAN if value is None else float(value)


def _month(text):
    """Months since year 0 of a stored "YYYY-MM-DD" date, or None."""
    return None if not text else int(text[:4]) * 12 + int(text[5:7]) - 1


def _day(text):
    return None if not text else datetime.strptime(text, "%Y-%m-%d")


class SubjectWindows:
    """FrameWindows' answers for one subject, from its raw payloads (see app.credit.panel)."""

    def __init__(self, records, cutoff):
        self.records = records
        self.cutoff = cutoff  # the as-of date's month: months before it have ended
        self._dated = {}

    def has(self, source):
        return np.array([any(month < self.cutoff for month, _ in self._monthly(source))])

    def _monthly(self, source):
        """(month, payload) of the source's records that have a period, read once."""
        if source not in self._dated:
            dated = ((_month(row.get("period")), row) for row in self.records.get(source, ()))
            self._dated[source] = [(month, row) for month, row in dated if month is not None]
        return self._dated[source]

    def window(self, source, field, width, how="last", negate=False, where=None):
        by_month = {}
        for month, row in self._monthly(source):
            if where is not None and row.get(where[0]) != where[1]:
                continue
            value = float(not row.get(field)) if negate else _number(row.get(field))
            if how == "last":
                by_month[month] = value
                continue
            value = 0.0 if math.isnan(value) else value
            if how == "sum":
                by_month[month] = by_month.get(month, 0.0) + value
            else:
                by_month[month] = max(by_month.get(month, -math.inf), value)
        return np.array([[by_month.get(self.cutoff - lag, NAN) for lag in range(1, width + 1)]])

    def by_year(self, source, field, mapping, years):
        table = {}
        for row in self.records.get(source, ()):
            table[row.get("year")] = _number(mapping.get(row.get(field)))
        return np.array([table.get(int(year), NAN) for year in years])


def _registration(out, row, as_of):
    row = row or {}
    established = _day(row.get("established_on"))
    industry = row.get("industry_code")
    out["firm_age_years"] = NAN if established is None else (as_of - established).days / 365.25
    out["registered_capital_wan"] = _number(row.get("registered_capital")) / 10_000
    out["industry_division"] = NAN if industry is None else str(industry)[:2]
    out["town"] = row.get("town_code")
    out["subject_kind"] = row.get("kind")
    out["size_class"] = row.get("size_class")


def _kahan_sum(values):
    """A sum as pandas' grouped sum makes it (compensated, NaN skipped), so that both paths agree."""
    total = compensation = 0.0
    for value in values:
        if math.isnan(value):
            continue
        y = value - compensation
        t = total + y
        compensation = t - total - y
        total = t
    return total


def _before(records, source, column, as_of):
    """(row, date) of the source's records dated strictly before the as-of date."""
    dated = ((row, _day(row.get(column))) for row in records.get(source, ()))
    return [(row, day) for row, day in dated if day is not None and day < as_of]


def _courts(out, records, as_of):
    cases = _before(records, "court_case", "filed_on", as_of)
    defendant = [row for row, day in cases
                 if day >= as_of - 730 * DAY and row.get("role") in ("defendant", "enforced")]
    out["court_defendant_24m"] = float(len(defendant))
    out["court_defendant_amount_wan_24m"] = _kahan_sum(_number(row.get("amount")) / 10_000 for row in defendant)
    out["court_enforced"] = float(sum(row.get("role") == "enforced" for row, _ in cases))
    out["court_dishonest"] = max((float(bool(row.get("dishonest"))) for row, _ in cases), default=0.0)


def _events(out, records, as_of):
    _courts(out, records, as_of)
    penalties = _before(records, "penalty", "decided_on", as_of)
    for severity in ("general", "serious"):
        out[f"penalty_{severity}_active"] = float(sum(
            row.get("severity") == severity and not row.get("repaired")
            and (_day(row.get("publicity_until")) or datetime.min) >= as_of for row, _ in penalties))
    awards = _before(records, "procurement", "awarded_on", as_of)
    out["procurement_awards_24m"] = float(sum(day >= as_of - 730 * DAY for _, day in awards))
    loans = [row for row, _ in _before(records, "loan_feedback", "disbursed_on", as_of)
             if (_day(row.get("maturity_on")) or as_of) < as_of]
    outcomes = [row.get("outcome") for row in loans]
    out["prior_loans_matured"] = float(sum(o in ("repaid", "defaulted", "overdue") for o in outcomes))
    out["prior_defaults"] = float(outcomes.count("defaulted"))
    out["prior_overdue"] = float(outcomes.count("overdue"))
    recent = [row for row, day in _before(records, "application_history", "applied_on", as_of)
              if day >= as_of - 365 * DAY]
    out["declines_12m"] = float(sum(row.get("decision") == "declined" for row in recent))
    out["applications_12m"] = float(len(recent))


@lru_cache(maxsize=8)
def _levels(towns):
    return {name: frozenset(levels) for name, levels in categories(list(towns)).items()}


def subject_features(records, as_of, towns, loan=None, context=False):
    """The feature row (name → value) of one subject's records as of a date, as build_features makes it
    (with `context`, the CONTEXT_NAMES values too)."""
    as_of = pd.Timestamp(as_of).to_pydatetime()
    cutoff = as_of.year * 12 + as_of.month - 1
    windows = SubjectWindows(records, cutoff)
    out = {}
    _registration(out, (records.get("registration") or [None])[-1], as_of)
    published_year = as_of.year - (as_of.month < 4) - 1
    monthly_features(out, windows, np.array([published_year]))
    _events(out, records, as_of)
    out["sources_present"] = sum(bool(windows.has(name)[0]) for name in COMPLETENESS_SOURCES)
    out["as_of_month"] = as_of.month
    loan_features(out, 1, {key: [value] for key, value in (loan or {}).items()})
    peer_placeholders(out, 1)
    row = {name: _scalar(out[name]) for name in FEATURE_NAMES + (CONTEXT_NAMES if context else ()) + HEALTH_INPUTS}
    for name, levels in _levels(tuple(towns)).items():
        if row[name] not in levels:
            row[name] = NAN
    return row


def _scalar(value):
    """A plain Python value of a one-element array (or a scalar)."""
    if isinstance(value, np.ndarray):
        value = value[0]
    return value.item() if isinstance(value, np.generic) else value
