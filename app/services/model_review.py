"""Model versions side by side, and champion against challenger on the current population.

For the platform admin and the regulator (vocab.GOVERNING_ROLES). The current population is a
sample of subjects spread over the whole register, their features built as of today with the one
feature module; each version scores the same rows.

PSI: the registry keeps no training score distribution, so a version's stability is measured
against the scores it gave the same sampled subjects when it first scored them (stored rows); a
version that never scored has no PSI yet. metrics.json's own PSI (training → holdout) is shown too.
"""
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.common.region import town_codes
from app.credit import registry
from app.credit.features import build_features
from app.credit.metrics import psi
from app.credit.records import records_from_db
from app.credit.scoring import data_as_of, first_per_subject
from app.entities import CreditScore, CreditSubject, ModelVersion

from . import activation
from .models import active_version, scorer

HEADLINE = ("auc", "ks", "brier", "ece", "baseline_auc", "oracle_auc", "psi", "n", "bads")
MIN_REFERENCE = 30


@dataclass
class VersionSummary:
    """One registered version: its report's figures and how it scores today's sample."""

    version: str
    active: bool
    metrics: dict = field(default_factory=dict)
    fairness_flags: int | None = None
    trained_at: str | None = None
    activations: list = field(default_factory=list)
    grade_shares: dict = field(default_factory=dict)
    psi_now: float | None = None
    error: str | None = None


def population_sample(session, size, region_code, as_of=None):
    """(subject ids, feature frame) of up to `size` subjects spread evenly over the register."""
    ids = session.scalars(select(CreditSubject.id).order_by(CreditSubject.id)).all()
    if len(ids) > size:
        ids = [ids[int(k)] for k in np.linspace(0, len(ids) - 1, size)]
    if not ids:
        return [], None
    rows = session.execute(select(CreditSubject.uscc, CreditSubject.household_id)
                           .where(CreditSubject.id.in_(ids)).order_by(CreditSubject.id)).all()
    targets = pd.DataFrame({"subject_code": [uscc or household for uscc, household in rows],
                            "as_of": pd.Timestamp(as_of or data_as_of(session))})
    return ids, build_features(records_from_db(session, ids), targets, town_codes(region_code))


def _report(folder):
    path = Path(folder) / registry.METRICS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _fairness_flags(report):
    groups = report.get("fairness") or {}
    return sum(bool(row.get("four_fifths_flag")) for rows in groups.values() for row in rows)


def _first_scores(session, version, subject_ids):
    """The scores `version` first gave each of the subjects (its stored rows), or []."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None or not subject_ids:
        return []
    first = first_per_subject(CreditScore.model_version_id == row.id, CreditScore.subject_id.in_(subject_ids))
    return session.scalars(select(CreditScore.score).join(first, first.c.id == CreditScore.id)).all()


def points_of(version_scorer, features):
    """(points, grades) a version gives the feature rows (PD from its calibrated trees)."""
    pd_values = version_scorer.bundle.predict_pd(features)
    return version_scorer.bundle.scale.points(pd_values), version_scorer.bundle.scale.grades(pd_values)


def summarise(session, root, version, active, ids, features, history=()):
    """A version's figures from its report and its scores of the sample (or why it cannot be used).

    `history` is the activation history (activation.history); the version's own entries are kept.
    """
    report = _report(Path(root) / version)
    summary = VersionSummary(version, version == active, {k: report.get(k) for k in HEADLINE},
                             _fairness_flags(report) if report else None)
    summary.activations = [entry for entry in history if entry["version"] == version]
    try:
        version_scorer = scorer(root, version)
    except registry.RegistryError as error:
        summary.error = str(error)
        return summary, None
    summary.trained_at = version_scorer.bundle.metadata.get("trained_at")
    if features is None:
        return summary, version_scorer
    points, grades = points_of(version_scorer, features)
    names, counts = np.unique(grades, return_counts=True)
    summary.grade_shares = {str(n): float(c) / len(grades) for n, c in zip(names, counts, strict=True)}
    reference = _first_scores(session, version, ids)
    if len(reference) >= MIN_REFERENCE:
        stability = psi(reference, points)
        summary.psi_now = None if math.isnan(stability) else round(stability, 4)
    return summary, version_scorer


def champion_challenger(champion, challenger, features):
    """Grades of the same subjects by both versions: the cross-table and how often they agree."""
    names = list(champion.bundle.scale.grade_names)
    champion_points, champion_grades = points_of(champion, features)
    challenger_points, challenger_grades = points_of(challenger, features)
    table = [[int(np.sum((champion_grades == a) & (challenger_grades == b))) for b in names] for a in names]
    index = {name: k for k, name in enumerate(names)}
    distance = np.abs(np.vectorize(index.get)(champion_grades) - np.vectorize(index.get)(challenger_grades))
    return {"grades": names, "table": table, "n": len(champion_grades),
            "agreement": float(np.mean(distance == 0)), "within_one": float(np.mean(distance <= 1)),
            "mean_shift": float(np.mean(challenger_points - champion_points)),
            "better": int(np.sum(distance[challenger_points > champion_points] > 0)),
            "worse": int(np.sum(distance[challenger_points < champion_points] > 0))}


def review(session, root, region_code, sample_size, challenger=None):
    """Every version summarised, and the active one against `challenger` (or the newest other)."""
    active = active_version(session)
    history = activation.history(session)
    as_of = data_as_of(session)
    ids, features = population_sample(session, sample_size, region_code, as_of)
    summaries, scorers = [], {}
    for version in reversed(registry.versions(root)):
        summary, version_scorer = summarise(session, root, version, active, ids, features, history)
        summaries.append(summary)
        if version_scorer is not None:
            scorers[version] = version_scorer
    others = [v for v in scorers if v != active]
    challenger = challenger if challenger in others else (others[0] if others else None)
    comparison = None
    if active in scorers and challenger and features is not None:
        comparison = champion_challenger(scorers[active], scorers[challenger], features)
    return {"versions": summaries, "active": active, "challenger": challenger, "comparison": comparison,
            "sample": len(ids), "as_of": as_of}
