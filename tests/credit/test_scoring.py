"""Scores in the platform: every subject scored by the active model, with reasons and provenance."""
import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from app.common.region import town_codes
from app.credit import registry
from app.credit.features import BY_NAME
from app.credit.reasons import MISSING, sentence
from app.credit.scoring import data_as_of
from app.entities import AuditEntry, CreditScore, CreditSubject, ModelVersion, SourceRecord
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.services import activation, models, scoring_runs

TOWNS = town_codes("610203")


@pytest.fixture
def registry_root(trained_model, tmp_path):
    """A registry of our own holding the trained version (activation writes to it)."""
    result, _ = trained_model
    root = tmp_path / "models"
    shutil.copytree(result["path"], root / result["version"])
    return root, result["version"]


@pytest.fixture
def loaded(app, synthetic_district):
    ingest_paths(db.session, export_files(synthetic_district), TOWNS)


def test_activation_is_audited_and_its_run_scores_everyone(app, loaded, registry_root, world):
    root, version = registry_root
    admin = world["users"]["platform_admin"]
    run = activation.activate(db.session, root, version, admin, "first model", via="test",
                              override="test model")
    db.session.commit()
    row = db.session.scalars(select(ModelVersion).where(ModelVersion.is_active)).one()
    assert row.version == version and row.activated_by_id == admin.id and row.activation_reason == "first model"
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "model.activate")).one()
    assert audit.actor_id == admin.id

    run = scoring_runs.execute(db.session, run, root, "610203")
    subjects = db.session.scalar(select(func.count(CreditSubject.id)))
    assert run.status == "done"
    assert run.subjects_scored == subjects == db.session.scalar(select(func.count(CreditScore.id)))
    scores = db.session.scalars(select(CreditScore)).all()
    assert {s.model_version_id for s in scores} == {row.id}
    assert all(0 < s.pd < 1 and s.grade in "ABCDE" and 300 < s.score < 900 for s in scores)
    with_reasons = [s for s in scores if s.reasons]
    assert with_reasons and all(len(s.reasons) <= 4 for s in scores)
    for score in with_reasons:
        for reason in score.reasons:
            assert BY_NAME[reason["feature"]].reason and reason["contribution"] > 0
            assert reason["zh"] and reason["en"]


def test_activation_refuses_a_tampered_version(app, registry_root, world):
    root, version = registry_root
    (root / version / "metrics.json").write_text("{}")
    with pytest.raises(registry.RegistryError):
        activation.activate(db.session, root, version, world["users"]["platform_admin"], "x", via="test")
    assert models.active_version(db.session) is None


def test_refresh_without_an_active_model_says_so(app, registry_root):
    root, _ = registry_root
    with pytest.raises(registry.RegistryError, match="no active"):
        models.refresh(db.session, root, "610203")


def test_scores_are_as_of_the_month_after_the_last_delivered_month(app, loaded, registry_root, world):
    latest = db.session.scalar(select(func.max(SourceRecord.period)).where(SourceRecord.source == "tax_filing"))
    expected = date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
    assert data_as_of(db.session, today=date(2030, 1, 1)) == expected
    assert data_as_of(db.session, today=date(2000, 1, 1)) == date(2000, 1, 1)  # never after today
    root, version = registry_root
    run = activation.activate(db.session, root, version, world["users"]["platform_admin"], "first model", via="test",
                              override="test model")
    db.session.commit()
    scoring_runs.execute(db.session, run, root, "610203")
    assert set(db.session.scalars(select(CreditScore.data_as_of))) == {min(expected, date.today())}


def test_a_derived_feature_missing_says_what_is_missing_not_that_the_source_is():
    assert sentence("elec_usage_yoy", float("nan")) != MISSING["utilities"]
    assert sentence("firm_age_years", float("nan"))[0] == "无成立日期，经营年限未知"
    assert sentence("util_late_12m", float("nan")) == MISSING["utilities"]  # none of its source at all
