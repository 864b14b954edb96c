"""Monitoring the active credit model as the platform uses it (for the regulator and the platform admin).

- Stability: the scores the active version computed in each month, their grade shares and their PSI against
  the reference population — the version's training population when its evaluation report keeps its score
  bins (`training_scores`, written by training since this module), else the scores the version gave when it
  was first put to use (its earliest score of each subject). PSI < 0.1 stable, 0.1–0.25 watch, ≥ 0.25 shift.
- Calibration as outcomes arrive: the platform's loans whose 12-month window has closed (app/credit/outcomes.py:
  90+ days past due, defaulted or written off within it is bad), by the grade the active version gave the
  borrower at disbursement, realised bad rate with its Wilson 95 % interval against the mean predicted PD.
- Fairness: the latest score of each subject by subject kind, size and town: grade shares and mean PD, with the
  approval rate of decided applications (the four-fifths check as on the dashboard).
"""
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import select

from app.common.dates import local_date
from app.common.region import town_name
from app.common.vocab import APPROVED_STATUSES, DECIDED_STATUSES, SUBJECT_KINDS
from app.credit import registry
from app.credit.metrics import psi_against, reference_bins
from app.credit.outcomes import BAD, CENSORED, window_labels
from app.entities import Application, CreditScore, CreditSubject, Loan, ModelVersion, RepaymentOutcome
from app.matching.rules import ATTRIBUTES

PSI_WATCH, PSI_SHIFT = 0.1, 0.25
MONTHS_SHOWN = 24
MIN_SCORES = 30
FOUR_FIFTHS, MIN_DECIDED = 0.8, 20
Z95 = 1.959964
FAIRNESS_SEGMENTS = ("kind", "size_class", "town_code")


@dataclass
class Monitoring:
    """What the monitoring page shows for the active version (None: no version is active)."""

    version: str | None = None
    reference: str | None = None  # "training" or "first_use"
    reference_n: int = 0
    grades: tuple = ()
    months: list = field(default_factory=list)
    calibration: list = field(default_factory=list)
    fairness: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)


def band(value):
    """stable / watch / shift for a PSI, None for none."""
    if value is None:
        return None
    return "stable" if value < PSI_WATCH else "watch" if value < PSI_SHIFT else "shift"


def wilson(bad, n):
    """The Wilson score 95 % interval of a rate bad / n, as (low, high); (None, None) when n is 0."""
    if not n:
        return None, None
    p = bad / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _training_reference(version):
    """(cuts, shares, n) of the version's training scores from its report, or None when it keeps none."""
    root = current_app.config.get("MODEL_REGISTRY")
    path = Path(root) / version / registry.METRICS_FILE if root else None
    if path is None or not path.exists():
        return None
    kept = json.loads(path.read_text(encoding="utf-8")).get("training_scores")
    if not kept or not kept.get("cuts"):
        return None
    return np.asarray(kept["cuts"], dtype=float), np.asarray(kept["shares"], dtype=float), int(kept["n"])


def _scores(session, version_id):
    rows = session.execute(select(CreditScore.subject_id, CreditScore.score, CreditScore.grade, CreditScore.pd,
                                  CreditScore.computed_at).where(CreditScore.model_version_id == version_id)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["subject_id", "score", "grade", "pd", "computed_at"])
    frame["computed_at"] = pd.to_datetime(frame["computed_at"])
    return frame.sort_values(["computed_at", "subject_id"], kind="stable")


def stability(scores, reference, grades):
    """Per month (the scores computed in it, the last MONTHS_SHOWN months): count, grade shares, PSI, band."""
    cuts, shares, _n = reference
    months = []
    scores = scores.assign(month=scores["computed_at"].dt.strftime("%Y-%m"))
    for month, group in list(scores.groupby("month"))[-MONTHS_SHOWN:]:
        value = psi_against(cuts, shares, group["score"].to_numpy()) if len(group) >= MIN_SCORES else None
        value = None if value is None or math.isnan(value) else round(value, 4)
        counts = group["grade"].value_counts(normalize=True)
        months.append({"month": month, "n": int(len(group)), "psi": value, "band": band(value),
                       "grades": {g: round(float(counts.get(g, 0.0)), 4) for g in grades}})
    return months


def calibration(session, scores, grades, as_of):
    """Per grade at disbursement: loans with a closed window, bad ones, realised rate with interval, mean PD."""
    loans = pd.DataFrame([tuple(r) for r in session.execute(select(Loan.id, Loan.subject_id, Loan.disbursed_on))],
                         columns=["loan_id", "subject_id", "disbursed_on"])
    if loans.empty or scores.empty:
        return [], {"loans": int(len(loans)), "observed": 0}
    reports = pd.DataFrame([tuple(r) for r in session.execute(select(
        RepaymentOutcome.loan_id, RepaymentOutcome.month, RepaymentOutcome.outcome,
        RepaymentOutcome.days_past_due))], columns=["loan_id", "month", "outcome", "days_past_due"])
    loans["label"] = window_labels(loans, reports, pd.Timestamp(as_of))
    loans["disbursed_at"] = pd.to_datetime(loans["disbursed_on"]) + pd.Timedelta(days=1)
    # The version's latest score of the borrower before the end of the disbursement day.
    matched = pd.merge_asof(loans.sort_values("disbursed_at"), scores.rename(columns={"computed_at": "at"})
                            .sort_values("at")[["subject_id", "at", "grade", "pd"]],
                            left_on="disbursed_at", right_on="at", by="subject_id", direction="backward")
    observed = matched[(matched["label"] != CENSORED) & matched["grade"].notna()]
    rows = []
    for grade in grades:
        group = observed[observed["grade"] == grade]
        bad = int((group["label"] == BAD).sum())
        low, high = wilson(bad, len(group))
        rows.append({"grade": grade, "loans": int(len(group)), "bad": bad,
                     "realised": round(bad / len(group), 4) if len(group) else None,
                     "low": None if low is None else round(low, 4), "high": None if high is None else round(high, 4),
                     "predicted": round(float(group["pd"].mean()), 4) if len(group) else None})
    return rows, {"loans": int(len(loans)), "observed": int(len(observed)),
                  "scored_at_disbursement": int(matched["grade"].notna().sum())}


def _segment_label(segment, key):
    if segment == "kind":
        return str(SUBJECT_KINDS.label(key))
    if segment == "size_class":
        return str(ATTRIBUTES["size_class"].choices.get(key, key or "—"))
    return town_name(key) or key


def fairness(session, scores, grades):
    """By subject kind, size and town: subjects scored, grade shares and mean PD of their latest score, and the
    approval rate of their decided applications, with the four-fifths flag."""
    latest = scores.drop_duplicates("subject_id", keep="last")
    subjects = pd.DataFrame([tuple(r) for r in session.execute(select(
        CreditSubject.id, CreditSubject.kind, CreditSubject.size_class, CreditSubject.town_code))],
        columns=["subject_id", *FAIRNESS_SEGMENTS])
    decided = pd.DataFrame([tuple(r) for r in session.execute(select(Application.subject_id, Application.status)
                                                               .where(Application.status.in_(DECIDED_STATUSES)))],
                           columns=["subject_id", "status"])
    latest = latest.merge(subjects, on="subject_id", how="left")
    decided = decided.merge(subjects, on="subject_id", how="left")
    decided["approved"] = decided["status"].isin(APPROVED_STATUSES)
    result = {}
    for segment in FAIRNESS_SEGMENTS:
        latest[segment] = latest[segment].fillna("")
        decided[segment] = decided[segment].fillna("")
        approvals = decided.groupby(segment)["approved"].agg(["count", "mean"])
        rows = []
        for key, group in latest.groupby(segment):
            shares = group["grade"].value_counts(normalize=True)
            n_decided = int(approvals["count"].get(key, 0))
            rows.append({"key": key, "label": _segment_label(segment, key), "scored": int(len(group)),
                         "mean_pd": round(float(group["pd"].mean()), 4),
                         "grades": {g: round(float(shares.get(g, 0.0)), 4) for g in grades},
                         "decided": n_decided,
                         "approval_rate": round(float(approvals["mean"][key]), 4) if n_decided else None})
        best = max((r["approval_rate"] for r in rows if r["decided"] >= MIN_DECIDED), default=0)
        for row in rows:
            row["flagged"] = bool(best and row["decided"] >= MIN_DECIDED and row["approval_rate"] / best < FOUR_FIFTHS)
        result[segment] = sorted(rows, key=lambda r: -r["scored"])
    return result


def monitoring(session, as_of=None):
    """The active version's monitoring, or an empty Monitoring when none is active or it has scored nobody."""
    version = session.scalar(select(ModelVersion).where(ModelVersion.is_active))
    if version is None:
        return Monitoring()
    grades = tuple(current_app.config["CREDIT_GRADES"])
    scores = _scores(session, version.id)
    result = Monitoring(version=version.version, grades=grades)
    if scores.empty:
        return result
    reference = _training_reference(version.version)
    if reference is not None:
        result.reference = "training"
    else:
        first_use = scores.drop_duplicates("subject_id", keep="first")["score"].to_numpy()
        cuts, shares = reference_bins(first_use)
        reference, result.reference = (cuts, shares, len(first_use)), "first_use"
    result.reference_n = reference[2]
    result.months = stability(scores, reference, grades)
    result.calibration, result.outcomes = calibration(session, scores, grades, as_of or local_date())
    result.fairness = fairness(session, scores, grades)
    return result

