"""An upload re-scores, in the background, only the subjects whose records it changed."""
from sqlalchemy import func, select

from app import jobs
from app.entities import CreditScore, CreditSubject, ScoringRun
from app.extensions import db

from ..conftest import logged_in_client, page_text
from ..ingest import exports
from .test_routes import upload


def test_an_upload_rescores_only_the_touched_subject_in_the_background(app, scored_world, tmp_path):
    world = scored_world
    subject = db.session.get(CreditSubject, world["subject_id"])
    before = db.session.scalar(select(func.count(CreditScore.id)))
    path = exports.write_csv(tmp_path / "税务_月度申报_补报.csv", "tax_filing",
                             [[subject.identifier, "2030-01", "100", "1", "1", "是", "0"]])
    client = logged_in_client(app, world["users"]["data_admin"])
    page = page_text(upload(client, path.name, path.read_bytes()))
    jobs.wait()
    assert "已为数据有变化的 1 个主体重新评分" in page
    run = db.session.scalars(select(ScoringRun).where(ScoringRun.trigger == "ingest")).one()
    assert (run.trigger, run.status, run.subjects_total, run.subjects_scored) == ("ingest", "done", 1, 1)
    assert db.session.scalar(select(func.count(CreditScore.id))) == before + 1
    newest = db.session.scalars(select(CreditScore).order_by(CreditScore.id.desc())).first()
    assert newest.subject_id == subject.id
    dashboard = page_text(client.get("/data/"))
    assert "信用评分运行" in dashboard and "数据归集后" in dashboard and "已完成" in dashboard


def test_an_upload_without_an_active_model_scores_nothing(app, world, tmp_path):
    folder = exports.write_district(tmp_path / "d")
    client = logged_in_client(app, world["users"]["data_admin"])
    upload(client, "市场监管_主体登记_2025.csv", (folder / "市场监管_主体登记_2025.csv").read_bytes())
    jobs.wait()
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 0
