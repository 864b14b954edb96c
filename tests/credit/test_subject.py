"""The lean online path (one subject, no pandas) gives exactly what the batch path gives."""
import math

import pandas as pd
import pytest
from sqlalchemy import select

from app.common.region import town_codes
from app.credit.features import FEATURE_NAMES, build_features
from app.credit.records import records_from_db
from app.credit.scoring import Scorer, score_frame, score_subject
from app.credit.subject import subject_features, subject_records
from app.entities import CreditSubject
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.services import models

TOWNS = town_codes("610203")
AS_OF = ("2026-11-27", "2025-04-15", "2024-03-31")


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.fixture
def district_subjects(app, small_district):
    """The small district loaded through the ingestion path: its subjects' ids and codes."""
    ingest_paths(db.session, export_files(small_district), TOWNS)
    rows = db.session.execute(select(CreditSubject.id, CreditSubject.uscc, CreditSubject.household_id)
                              .order_by(CreditSubject.id)).all()
    return pd.DataFrame([(sid, uscc or household) for sid, uscc, household in rows], columns=["id", "code"])


def test_one_subjects_features_equal_the_batch_row_value_for_value(district_subjects):
    frames = records_from_db(db.session, district_subjects["id"].tolist())
    loan = {"amount": 800_000.0, "term_months": 24, "lender_kind": "microloan"}
    for as_of in AS_OF:
        targets = pd.DataFrame({"subject_code": district_subjects["code"], "as_of": pd.Timestamp(as_of), **loan})
        batch = build_features(frames, targets, TOWNS).to_dict("records")
        for i, subject_id in enumerate(district_subjects["id"]):
            one = subject_features(subject_records(db.session, int(subject_id)), as_of, TOWNS, loan)
            different = [n for n in FEATURE_NAMES if not _same(one[n], batch[i][n])]
            assert different == [], (as_of, subject_id, {n: (one[n], batch[i][n]) for n in different})


def test_one_subject_scored_from_the_database_equals_the_refresh_row(district_subjects, model_registry):
    root, version = model_registry
    scorer = models.scorer(root, version)
    frames = records_from_db(db.session, district_subjects["id"].tolist())
    batch = score_frame(scorer.bundle, frames, district_subjects, "2026-11-27", TOWNS)
    assert any(row["reasons"] for row in batch)
    for row in batch:
        assert score_subject(db.session, scorer, row["subject_id"], "2026-11-27", TOWNS) == row


def test_a_feature_row_scored_alone_equals_its_row_in_a_frame(district_subjects, model_registry):
    root, version = model_registry
    scorer = Scorer(models.scorer(root, version).bundle)
    targets = pd.DataFrame({"subject_code": district_subjects["code"], "as_of": pd.Timestamp("2026-11-27")})
    features = build_features(records_from_db(db.session), targets, TOWNS)
    prepared = scorer.bundle.prepare(features)
    for i, row in enumerate(features.to_dict("records")):
        assert pd.DataFrame(scorer.prepare_row(row)).equals(pd.DataFrame(prepared[i:i + 1]))
