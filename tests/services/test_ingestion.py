"""Ingesting a batch: the upload page and `flask data ingest` load alike and re-score the same subjects."""
import json

import pytest
from sqlalchemy import func, select

from app import jobs
from app.entities import CreditScore, CreditSubject, ModelVersion, ScoringRun
from app.extensions import db
from app.services import ingestion

from ..conftest import ACTIONABLE_VERSION, logged_in_client, page_text
from ..dataadmin.test_routes import upload
from ..ingest import exports

DOORS = ["page", "command"]


def through(door, app, user, path):
    """Ingest one file through the upload page or `flask data ingest`; what the user read."""
    if door == "page":
        page = page_text(upload(logged_in_client(app, user), path.name, path.read_bytes()))
        jobs.wait()
        db.session.expire_all()
        return page
    result = app.test_cli_runner().invoke(args=["data", "ingest", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def ingest_runs():
    return db.session.scalars(select(ScoringRun).where(ScoringRun.trigger == "ingest")).all()


def late_filing(folder, subject):
    """A tax filing of `subject` delivered late: new records for one subject."""
    return exports.write_csv(folder / "税务_月度申报_补报.csv", "tax_filing",
                             [[subject.identifier, "2030-01", "100", "1", "1", "是", "0"]])


@pytest.mark.parametrize("door", DOORS)
def test_both_doors_rescore_just_the_touched_subjects_in_a_recorded_run(app, scored_world, tmp_path, door):
    world = scored_world
    subject = db.session.get(CreditSubject, world["subject_id"])
    before = db.session.scalar(select(func.count(CreditScore.id)))
    said = through(door, app, world["users"]["data_admin"], late_filing(tmp_path, subject))
    [run] = ingest_runs()
    assert (run.status, run.subjects_total, run.subjects_scored, run.model_version) == (
        "done", 1, 1, ACTIONABLE_VERSION)
    assert db.session.scalar(select(func.count(CreditScore.id))) == before + 1
    assert db.session.scalars(select(CreditScore).order_by(CreditScore.id.desc())).first().subject_id == subject.id
    if door == "command":
        scores = json.loads(said.strip().splitlines()[-1])["scores"]
        assert scores == {**scores, "run": run.id, "status": "done", "scored": 1}
    else:
        assert "已为数据有变化的 1 个主体重新评分" in said
    through(door, app, world["users"]["data_admin"], late_filing(tmp_path, subject))  # the same file again
    assert len(ingest_runs()) == 1  # nothing changed, nobody to re-score


@pytest.mark.parametrize("door", DOORS)
def test_both_doors_record_no_run_without_an_active_model(app, world, tmp_path, door):
    folder = exports.write_district(tmp_path / "d")
    said = through(door, app, world["users"]["data_admin"], folder / "市场监管_主体登记_2025.csv")
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 0
    assert db.session.scalar(select(func.count(CreditSubject.id))) == 2 + 3  # the world's two, the file's three
    if door == "command":
        summary = json.loads(said.strip().splitlines()[-1])
        assert summary["ok"] and summary["scores"] is None


def test_ingest_stages_a_run_of_the_touched_subjects_only_with_an_active_model(app, world, tmp_path):
    folder = exports.write_district(tmp_path / "d")
    first = ingestion.ingest(db.session, [folder / "市场监管_主体登记_2025.csv"], "610203")
    assert first.summary["totals"]["inserted"] == 3 and first.run is None and first.subject_ids == []
    db.session.add(ModelVersion(version="v1", path="models/v1", sha256="0" * 64, is_active=True))
    db.session.commit()
    taxes = ingestion.ingest(db.session, [folder / "税务_月度申报_2025.csv"], "610203", world["users"]["data_admin"])
    codes = db.session.scalars(select(CreditSubject.uscc).where(CreditSubject.id.in_(taxes.subject_ids))).all()
    assert sorted(codes) == sorted([exports.FIRM_A, exports.FIRM_B])
    assert (taxes.run.trigger, taxes.run.status, taxes.run.subjects_total) == ("ingest", "queued", 2)
    assert taxes.run.started_by_id == world["users"]["data_admin"].id
    db.session.commit()
    again = ingestion.ingest(db.session, [folder / "税务_月度申报_2025.csv"], "610203")
    assert again.run is None and again.subject_ids == []
