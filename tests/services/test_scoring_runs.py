"""The "refresh scores" flow: a run is staged only with an active model, and one full run at a time."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.errors import NotAllowed
from app.entities import AuditEntry, ModelVersion, ScoringRun
from app.entities.base import utcnow
from app.extensions import db
from app.services import scoring_runs


@pytest.fixture
def active_model(app):
    """A model version marked active (the runs are staged, never executed, here)."""
    db.session.add(ModelVersion(version="v1", path="models/v1", sha256="0" * 64, is_active=True))
    db.session.commit()


def test_no_run_without_an_active_model(app, world):
    db.session.add(ModelVersion(version="v1", path="models/v1", sha256="0" * 64))  # registered, not active
    with pytest.raises(NotAllowed, match="尚未启用任何模型"):
        scoring_runs.start(db.session, "manual", world["users"]["regulator"])
    with pytest.raises(NotAllowed):
        scoring_runs.start(db.session, "ingest", None, [world["firm"].id])
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 0


def test_a_run_is_staged_and_audited(app, world, active_model):
    regulator = world["users"]["regulator"]
    run = scoring_runs.start(db.session, "manual", regulator)
    assert (run.trigger, run.status, run.started_by_id, run.subjects_total) == ("manual", "queued", regulator.id, None)
    some = scoring_runs.start(db.session, "ingest", regulator, [world["firm"].id])
    assert some.subjects_total == 1
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "scores.refresh")).all()
    assert [e.details["subjects"] for e in entries] == ["all", "1"]


@pytest.mark.parametrize(("trigger", "status", "silent_for", "refused"), [
    ("manual", "queued", timedelta(0), True), ("activation", "running", timedelta(minutes=14), True),
    ("manual", "done", timedelta(0), False), ("cli", "failed", timedelta(0), False),
    ("ingest", "running", timedelta(0), False),  # a run of a few subjects is no full run
    ("manual", "running", timedelta(minutes=16), False),  # taken for dead
])
def test_a_full_run_waits_for_a_live_full_run(app, world, active_model, trigger, status, silent_for, refused):
    db.session.add(ScoringRun(trigger=trigger, status=status, heartbeat_at=utcnow() - silent_for))
    db.session.flush()
    if refused:
        with pytest.raises(NotAllowed, match="正在重新评分"):
            scoring_runs.start(db.session, "manual")
    else:
        assert scoring_runs.start(db.session, "manual").status == "queued"
    assert scoring_runs.start(db.session, "ingest", subject_ids=[world["firm"].id]).subjects_total == 1
