"""Scoring subjects with the active model: PD, score, grade, reasons, completeness, stored with provenance."""
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.checksums import file_sha256
from app.entities import CreditScore, CreditSubject, ModelVersion
from app.entities.base import utcnow

from .features import BY_NAME, COMPLETENESS_SOURCES, FEATURE_NAMES, build_features
from .reasons import sentence
from .records import records_from_db
from .registry import MODEL_FILE

MAX_REASONS = 4
CHUNK = 5000


def model_version_row(session, bundle):
    """The ModelVersion row of a loaded bundle, created on first use."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == bundle.version))
    if row is None:
        digest = file_sha256(Path(bundle.folder) / MODEL_FILE)
        row = ModelVersion(version=bundle.version, path=str(bundle.folder), sha256=digest, metrics={})
        session.add(row)
        session.flush()
    return row


def top_reasons(values, contributions, names=FEATURE_NAMES):
    """The features that pushed this subject's risk up most (at most four, never a protected one)."""
    order = np.argsort(-contributions)
    reasons = []
    for index in order:
        if contributions[index] <= 0 or len(reasons) == MAX_REASONS:
            break
        name = names[index]
        if not BY_NAME[name].reason:
            continue
        value = values[name]
        value = None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)
        chinese, english = sentence(name, value if value is not None else float("nan"))
        if any(reason["zh"] == chinese for reason in reasons):
            continue  # two missing features of one source read the same ("无水电气数据")
        reasons.append({"feature": name, "value": value, "contribution": round(float(contributions[index]), 4),
                        "zh": chinese, "en": english})
    return reasons


def score_frame(bundle, frames, subjects, as_of, towns):
    """PD, score, grade, reasons and completeness for the subjects (DataFrame: id, code)."""
    targets = pd.DataFrame({"subject_code": subjects["code"].to_numpy(), "as_of": pd.Timestamp(as_of)})
    features = build_features(frames, targets, towns)
    contributions = bundle.contributions(features)
    pd_values = 1 / (1 + np.exp(-contributions.sum(axis=1)))
    points, grades = bundle.scale.points(pd_values), bundle.scale.grades(pd_values)
    rows = []
    records = features.to_dict("records")
    present = {name: set(frames[name]["subject_code"]) for name in COMPLETENESS_SOURCES if name in frames}
    for i, code in enumerate(targets["subject_code"]):
        rows.append({
            "subject_id": int(subjects["id"].iloc[i]), "pd": float(pd_values[i]), "score": int(points[i]),
            "grade": str(grades[i]), "reasons": top_reasons(records[i], contributions[i, :-1]),
            "completeness": {name: code in present.get(name, ()) for name in COMPLETENESS_SOURCES},
        })
    return rows


def refresh_scores(session, bundle, towns, subject_ids=None, as_of=None):
    """Score the given subjects (all when None) and stage one CreditScore row each; returns the count."""
    as_of = as_of or date.today()
    version = model_version_row(session, bundle)
    query = select(CreditSubject.id, CreditSubject.uscc, CreditSubject.household_id).order_by(CreditSubject.id)
    if subject_ids is not None:
        query = query.where(CreditSubject.id.in_(list(subject_ids)))
    subjects = pd.DataFrame(session.execute(query).all(), columns=["id", "uscc", "household"])
    subjects["code"] = subjects["uscc"].fillna(subjects["household"])
    scored = 0
    for start in range(0, len(subjects), CHUNK):
        chunk = subjects.iloc[start:start + CHUNK]
        frames = records_from_db(session, chunk["id"].tolist())
        computed_at = utcnow()
        rows = [{**row, "model_version_id": version.id, "data_as_of": as_of, "computed_at": computed_at}
                for row in score_frame(bundle, frames, chunk, as_of, towns)]
        session.execute(CreditScore.__table__.insert(), rows)
        scored += len(rows)
    return scored


def latest_score(session, subject_id):
    """The subject's most recent score, or None."""
    return session.scalars(select(CreditScore).where(CreditScore.subject_id == subject_id)
                           .order_by(CreditScore.computed_at.desc(), CreditScore.id.desc())).first()
