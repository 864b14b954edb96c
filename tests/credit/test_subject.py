"""The lean online path (one subject, no pandas) gives exactly what the batch path gives."""
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from app.common.region import town_codes
from app.credit.features import FEATURE_NAMES, NOT_EXPECTED, build_features
from app.credit.reasons import reason_sentence
from app.credit.records import records_from_db
from app.credit.registry import ModelBundle
from app.credit.scoring import Scorer, score_features, score_frame, score_subject
from app.credit.subject import subject_features, subject_records
from app.entities import CreditSubject
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.services import models

from ..conftest import ACTIONABLE_VERSION

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


def _with_offsets(bundle):
    """The bundle with per-group calibration offsets (as `training.train --group-calibration` fits them)."""
    metadata = {**bundle.metadata, "calibration": {**bundle.metadata["calibration"], "group_offsets": {
        "farmer/thin": 0.4, "farmer/full": -0.2, "enterprise/full": 0.1, "individual_business/thin": -0.3}}}
    return ModelBundle(bundle.version, bundle.folder, bundle.booster, metadata, bundle.scale)


@pytest.mark.parametrize("which", ["trained", "actionable", "offsets"])
def test_the_one_row_fast_path_gives_what_the_batch_gives(district_subjects, model_registry, which):
    """score_row (no pandas, LightGBM's single-row call, calibration and reasons in plain Python) gives
    each feature row the PD, score, grade, reasons and chart score_features gives it in a batch."""
    root, version = model_registry
    bundle = models.scorer(root, ACTIONABLE_VERSION if which == "actionable" else version).bundle
    scorer = Scorer(_with_offsets(bundle) if which == "offsets" else bundle)
    assert scorer.single_row.available
    frames = records_from_db(db.session)
    compared = 0
    for as_of in AS_OF:
        targets = pd.DataFrame({"subject_code": district_subjects["code"], "as_of": pd.Timestamp(as_of)})
        features = build_features(frames, targets, TOWNS, context=True)
        batch = score_features(scorer, features, district_subjects, {})
        for row, stored in zip(features.to_dict("records"), batch, strict=True):
            alone = scorer.score_row(row, with_chart=True)
            assert alone == {key: stored[key] for key in ("pd", "score", "grade", "reasons", "contributions")}
            compared += bool(stored["reasons"])
    assert compared > len(district_subjects)  # most rows have reasons to compare
    if which == "offsets":  # the offsets did move the PDs
        plain = score_features(Scorer(bundle), features, district_subjects, {})
        assert any(a["pd"] != b["pd"] for a, b in zip(plain, batch, strict=True))


def test_the_single_row_call_refuses_a_row_of_another_width(model_registry):
    """LightGBM's single-row call reads as many values as the model has features: a shorter row would
    be read past its end, so it is refused."""
    root, version = model_registry
    scorer = Scorer(models.scorer(root, version).bundle)
    width = len(scorer.names)
    assert scorer.single_row(np.zeros((1, width))).shape == (1, width + 1)
    with pytest.raises(ValueError, match="features expected"):
        scorer.single_row(np.zeros((1, width - 1)))
    with pytest.raises(ValueError, match="features expected"):
        scorer.single_row.of_values([0.0] * (width + 1))
    contributions, values = scorer.single_row.of_values([None] + [1] * (width - 1))
    assert np.isnan(values[0]) and values[1:] == [1.0] * (width - 1)
    assert np.array_equal(contributions, scorer.single_row(np.array([values])))


def test_one_rows_reasons_keep_the_batch_order_on_equal_contributions(model_registry):
    """The one-row reasons sort only the contributions and find each one's feature afterwards: equal
    contributions (exact ties, repeated across rows) still come in feature order, the same reason text twice
    (missing features of one source) is told once, and nothing that lowered the risk is a reason."""
    root, version = model_registry
    scorer = Scorer(models.scorer(root, version).bundle)
    width = len(scorer.names)
    rng = np.random.default_rng(3)
    matrix = rng.choice([np.nan, 0.0, 1.0], size=(400, width))
    values = [-0.2, -0.0, 0.0, 0.05, 0.1, 0.3, 0.3000000000000001]  # the last two: one bit apart
    contributions = rng.choice(values, size=(400, width + 1))
    contributions[::5] = 0.1  # every feature raises the risk alike
    contributions[1::5, :-1] = -0.1  # nothing raises it
    batch = scorer.reasons(matrix, contributions)
    assert any(len(reasons) == 4 for reasons in batch) and any(reasons == [] for reasons in batch)
    for i in range(len(matrix)):
        assert scorer._row_reasons(matrix[i].tolist(), contributions[i, :-1].tolist(), {}) == batch[i], i



def test_what_a_farm_household_never_has_is_never_its_reason(district_subjects, model_registry):
    """A household has no establishment date, registered capital or tax filings: such a value missing is the
    kind's doing (never a reason; on the chart it is among the other factors), alone and in the batch. The
    demo farmer's reasons were "无全年用电或注册资本数据…", "无成立日期，经营年限未知", "无纳税信用等级"."""
    root, version = model_registry
    scorer = Scorer(models.scorer(root, version).bundle)
    targets = pd.DataFrame({"subject_code": district_subjects["code"], "as_of": pd.Timestamp("2026-11-27")})
    features = build_features(records_from_db(db.session), targets, TOWNS, context=True)
    batch = score_features(scorer, features, district_subjects, {})
    kinds = features["subject_kind"].astype(object).tolist()
    assert "farmer" in kinds

    def kinds_own(stored, kind):
        told = [r["feature"] for r in stored["reasons"] if r["value"] is None]
        shown = [f for f, _c, v in stored["contributions"]["items"] if v is None]
        return [f for f in told + shown if f in NOT_EXPECTED.get(kind, ())]

    for row, stored, kind in zip(features.to_dict("records"), batch, kinds, strict=True):
        assert kinds_own(stored, kind) == []
        assert scorer.score_row(row, with_chart=True)["contributions"] == stored["contributions"]
    plain = Scorer(scorer.bundle)
    plain.not_expected, plain.not_expected_columns = {}, {}  # as before: every missing value could be a reason
    before = score_features(plain, features, district_subjects, {})
    assert sum(bool(kinds_own(stored, kind)) for stored, kind in zip(before, kinds, strict=True)) > 0
    enterprises = [s for s, k in zip(before, kinds, strict=True) if k == "enterprise"]
    after = [s for s, k in zip(batch, kinds, strict=True) if k == "enterprise"]
    assert [s["reasons"] for s in enterprises] == [s["reasons"] for s in after]  # other kinds as before


def test_a_household_without_size_class_finds_its_kept_peers(model_registry):
    """A frame's row leaves a household's size class NaN: its peers were worked out again for every such row,
    they are now the ones kept for None (what NaN reads as), and the same for every household."""
    root, version = model_registry
    scorer = Scorer(models.scorer(root, version).bundle)
    kept = scorer._peer_of("farmer", None)
    assert kept == ("farmer", None)
    assert scorer._peer_of("farmer", float("nan")) is kept and scorer._peer_of("farmer", np.nan) is kept
    assert scorer._peer_of(float("nan"), float("nan")) is scorer._peer_of(None, None) == (None, None)
    assert scorer._peer_of("farmer", pd.NA) == kept  # not kept under pd.NA (no key), still read as None


def test_every_reason_reads_as_a_page_would_say_it_again(district_subjects, model_registry):
    """The reason a Scorer tells (its sentences worked out once per feature) is what the pages say again of the
    stored reason (reasons.reason_sentence), alone and in the batch."""
    root, version = model_registry
    scorer = Scorer(models.scorer(root, version).bundle)
    targets = pd.DataFrame({"subject_code": district_subjects["code"], "as_of": pd.Timestamp("2026-11-27")})
    features = build_features(records_from_db(db.session), targets, TOWNS, context=True)
    told = 0
    for stored in score_features(scorer, features, district_subjects, {}):
        for reason in stored["reasons"]:
            assert reason_sentence(reason) == (reason["zh"], reason["en"]), reason
            told += 1
    assert told > len(district_subjects)
