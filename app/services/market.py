"""What the market says about each product: approval odds from past decisions, lenders' response times
(measured by the response clock, app/services/response_clock.py).

Past decisions are the platform's decided applications and the ingested `application_history`
records (matched to institutions by name). Each decision is placed at the grade the firm had when
it was decided (its latest score computed from data up to that day), so the calibration learns
nothing from the future. The fitted calibration is cached on the app until the decisions or the
scores change.
"""
from datetime import timedelta

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import func, select

from app.common import clock
from app.common.dates import local_date
from app.common.vocab import DECIDED_STATUSES
from app.entities import Application, CreditScore, Institution, Product, SourceRecord
from app.matching.fit import Market
from app.matching.odds import Decisions, OddsCalibration, reliability

from . import response_clock, scoreboard

CACHE_KEY = "matching_odds"
TIMES_KEY = "matching_response_days"
SUMMARIES_KEY = "institution_summaries"


def _platform_decisions(session):
    query = select(Application.product_id, Application.institution_id, Application.subject_id,
                   Application.status, Application.decided_at).where(
        Application.status.in_(DECIDED_STATUSES), Application.decided_at.is_not(None))
    rows = session.execute(query).all()
    return pd.DataFrame({"product": [r[0] for r in rows], "institution": [r[1] for r in rows],
                         "subject": [r[2] for r in rows], "approved": [r[3] != "declined" for r in rows],
                         "day": pd.to_datetime([r[4] for r in rows]).normalize()})


def _history_decisions(session):
    institutions = dict(session.execute(select(Institution.name, Institution.id)).all())
    payload = SourceRecord.payload
    query = select(SourceRecord.subject_id, SourceRecord.period, payload["institution"].as_string(),
                   payload["decision"].as_string()).where(
        SourceRecord.source == "application_history", SourceRecord.superseded_by_id.is_(None))
    rows = session.execute(query).all()
    return pd.DataFrame({"product": [-1] * len(rows), "institution": [institutions.get(r[2], -1) for r in rows],
                         "subject": [r[0] for r in rows], "approved": [r[3] == "approved" for r in rows],
                         "day": pd.to_datetime([r[1] for r in rows])})


def _levels_at(session, frame, grades):
    """Each decision's grade level as of its day (len(grades) when the firm had no score then)."""
    unscored = len(grades)
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    scores = session.execute(select(CreditScore.subject_id, CreditScore.data_as_of, CreditScore.grade)
                             .where(CreditScore.subject_id.in_(frame["subject"].unique().tolist()))).all()
    if not scores:
        return np.full(len(frame), unscored, dtype=np.int64)
    table = pd.DataFrame(scores, columns=["subject", "as_of", "grade"])
    table["as_of"] = pd.to_datetime(table["as_of"]).astype("datetime64[ns]")
    table["level"] = [grades.index(g) if g in grades else unscored for g in table["grade"]]
    left = frame.reset_index().astype({"day": "datetime64[ns]"}).sort_values("day")
    joined = pd.merge_asof(left, table.sort_values("as_of")[["subject", "as_of", "level"]], left_on="day",
                           right_on="as_of", by="subject", direction="backward").sort_values("index")
    return joined["level"].fillna(unscored).to_numpy(dtype=np.int64)


def decisions(session):
    """Every past decision, as the calibration reads them."""
    grades = tuple(current_app.config["CREDIT_GRADES"])
    frame = pd.concat([_platform_decisions(session), _history_decisions(session)], ignore_index=True)
    frame = frame.astype({"product": "int64", "institution": "int64", "subject": "int64", "approved": bool})
    return Decisions(product=frame["product"].to_numpy(), institution=frame["institution"].to_numpy(),
                     level=_levels_at(session, frame, grades), approved=frame["approved"].to_numpy(),
                     day=frame["day"].to_numpy(dtype="datetime64[D]"))


def _settings():
    config = current_app.config
    return {"min_decisions": config["MATCH_ODDS_MIN_DECISIONS"],
            "market_min_decisions": config["MATCH_ODDS_MARKET_MIN_DECISIONS"],
            "prior_strength": config["MATCH_ODDS_PRIOR_STRENGTH"]}


def _fingerprint(session):
    decided = select(func.count(Application.id), func.max(Application.decided_at)).where(
        Application.status.in_(DECIDED_STATUSES))
    history = select(func.count(SourceRecord.id), func.max(SourceRecord.id)).where(
        SourceRecord.source == "application_history")
    scores = select(func.count(CreditScore.id), func.max(CreditScore.id))
    names = select(func.count(Institution.id), func.max(Institution.id))
    return tuple(tuple(session.execute(q).one()) for q in (decided, history, scores, names))


def _kept(name, fingerprint, build):
    """`build()`, kept on the app: built again once `fingerprint()` differs from the kept one's, which is
    checked at most every MATCH_ODDS_REFRESH_SECONDS (by the platform's clock)."""
    now = clock.utcnow()
    kept = current_app.extensions.get(name)  # (fingerprint, value, checked at)
    fresh = timedelta(seconds=current_app.config["MATCH_ODDS_REFRESH_SECONDS"])
    if kept and timedelta(0) <= now - kept[2] < fresh:
        return kept[1]
    key = fingerprint()
    value = kept[1] if kept and kept[0] == key else build()
    current_app.extensions[name] = (key, value, now)
    return value


def calibration(session):
    """The approval-odds calibration fitted on every past decision (kept until they change)."""
    levels = len(current_app.config["CREDIT_GRADES"]) + 1
    return _kept(CACHE_KEY, lambda: _fingerprint(session),
                 lambda: OddsCalibration(levels, **_settings()).fit(decisions(session)))


def _response_days(session):
    """Institution id → the median working days of its recent decisions (kept like the calibration)."""
    return _kept(TIMES_KEY, lambda: (_fingerprint(session), local_date()), lambda: {
        institution: times.median for institution, times in response_clock.response_times(session).items()
        if times.median is not None})


def institution_summaries(session):
    """Institution id → the public summary of the lender scoreboard firms see (kept like the response times)."""
    return _kept(SUMMARIES_KEY, lambda: (_fingerprint(session), local_date()),
                 lambda: scoreboard.public_summaries(session))


def market_for(session, products):
    """Odds by grade level and response times for the products of a ProductTable."""
    odds, basis, evidence = calibration(session).table(products.ids, products.institution_ids)
    institution_ids = {int(i) for i in products.institution_ids}
    limits = dict(session.execute(select(Institution.id, Institution.response_limit_days)
                                  .where(Institution.id.in_(institution_ids))).all())
    days = _response_days(session)
    default_limit = current_app.config["DEFAULT_RESPONSE_LIMIT_DAYS"]
    return Market(odds=odds, basis=basis, evidence=evidence,
                  response_days=np.array([days.get(int(i), np.nan) for i in products.institution_ids], dtype=float),
                  response_limit=np.array([float(limits.get(int(i)) or default_limit)
                                           for i in products.institution_ids]))


def reliability_report(session, bins=10):
    """Predicted odds against what happened on the latest quarter of decisions (fitted on the rest),
    by bins of prediction and by product, with each product's and institution's name."""
    levels = len(current_app.config["CREDIT_GRADES"]) + 1
    min_checked = current_app.config["MATCH_ODDS_RELIABILITY_MIN_DECISIONS"]
    report = reliability(decisions(session), levels, bins=bins, min_checked=min_checked, **_settings())
    names = {row.id: (row.name, row.institution_name) for row in session.execute(
        select(Product.id, Product.name, Institution.name.label("institution_name")).join(
            Institution, Product.institution_id == Institution.id).where(
            Product.id.in_([r["product"] for r in report["products"]])))}
    for row in report["products"]:
        row["name"], row["institution_name"] = names.get(row["product"], ("", ""))
    report["products"].sort(key=lambda r: (not r["enough"], -r["n"], r["name"]))
    report["settings"] = {**_settings(), "min_checked": min_checked}
    return report
