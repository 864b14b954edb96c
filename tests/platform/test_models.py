"""Model administration: versions side by side, champion/challenger, audited activation, background re-scoring."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import jobs
from app.credit import registry
from app.entities import AuditEntry, CreditScore, CreditSubject, ModelVersion, ScoringRun
from app.extensions import db
from app.services import models, scoring_runs

from ..conftest import ACTIONABLE_VERSION, csrf_token, logged_in_client, page_text


def _activate(client, version, reason):
    token = csrf_token(page_text(client.get("/platform/models")))
    return client.post(f"/platform/models/{version}/activate", data={"csrf_token": token, "reason": reason},
                       follow_redirects=True)


def test_versions_are_shown_side_by_side_with_champion_and_challenger(app, scored_world):
    world = scored_world
    client = logged_in_client(app, world["users"]["regulator"])
    trained = next(v for v in registry.versions(world["registry"]) if v != ACTIONABLE_VERSION)
    page = page_text(client.get(f"/platform/models?challenger={trained}"))
    assert ACTIONABLE_VERSION in page and trained in page and "启用中" in page
    assert "冠军与挑战者" in page and "等级一致" in page and 'class="table crosstab"' in page
    assert "PSI" in page and "公平性警示" in page
    assert "测试模型" in page  # the activation's reason, from the audit log
    metadata = json.loads((world["registry"] / trained / "metadata.json").read_text())
    metrics = json.loads((world["registry"] / trained / "metrics.json").read_text())
    assert f"留出样本 {metrics['n']} 笔，其中违约 {metrics['bads']} 笔" in page
    trained_at = datetime.fromisoformat(metadata["trained_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"训练于 {trained_at:%Y-%m-%d %H:%M}" in page  # the deployment's time, not the registry's UTC text


def test_activation_from_the_web_is_audited_and_rescores_everyone_in_the_background(app, scored_world):
    world = scored_world
    admin = world["users"]["platform_admin"]
    trained = next(v for v in registry.versions(world["registry"]) if v != ACTIONABLE_VERSION)
    before = db.session.scalar(select(func.count(CreditScore.id)))
    page = page_text(_activate(logged_in_client(app, admin), trained, "挑战者在留出样本上更稳定"))
    jobs.wait()
    db.session.expire_all()
    assert "已启用模型" in page
    active = db.session.scalars(select(ModelVersion).where(ModelVersion.is_active)).one()
    assert (active.version, active.activated_by_id, active.activation_reason) == (
        trained, admin.id, "挑战者在留出样本上更稳定")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "model.activate")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.actor_id == admin.id and entry.details["version"] == trained
    run = db.session.scalars(select(ScoringRun).order_by(ScoringRun.id.desc())).first()
    subjects = db.session.scalar(select(func.count(CreditSubject.id)))
    assert (run.trigger, run.status, run.model_version, run.subjects_scored) == ("activation", "done", trained,
                                                                                 subjects)
    assert run.started_by_id == admin.id and run.finished_at is not None
    assert db.session.scalar(select(func.count(CreditScore.id))) == before + subjects
    data_admin = logged_in_client(app, world["users"]["data_admin"])
    assert "启用新模型" in page_text(data_admin.get("/data/"))


def test_activation_needs_a_reason(app, scored_world):
    world = scored_world
    trained = next(v for v in registry.versions(world["registry"]) if v != ACTIONABLE_VERSION)
    page = page_text(_activate(logged_in_client(app, world["users"]["regulator"]), trained, "  "))
    assert "请写明启用理由" in page
    assert models.active_version(db.session) == ACTIONABLE_VERSION


@pytest.mark.parametrize("persona", ["firm", "officer", "lender_admin", "data_admin"])
def test_only_the_platform_admin_and_the_regulator_may_activate_or_refresh(app, world, model_registry, persona):
    root, version = model_registry
    app.config["MODEL_REGISTRY"] = str(root)
    client = logged_in_client(app, world["users"][persona])
    token = csrf_token(page_text(client.get("/", follow_redirects=True)))  # every page has the logout form
    assert client.get("/platform/models").status_code == 403
    assert client.post(f"/platform/models/{version}/activate",
                       data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert client.post("/platform/scores/refresh", data={"csrf_token": token}).status_code == 403
    assert models.active_version(db.session) is None
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 0


def test_the_refresh_action_runs_in_the_background_and_records_its_run(app, scored_world):
    world = scored_world
    client = logged_in_client(app, world["users"]["regulator"])
    token = csrf_token(page_text(client.get("/platform/models")))
    page = page_text(client.post("/platform/scores/refresh", data={"csrf_token": token}, follow_redirects=True))
    jobs.wait()
    assert "已开始重新评分" in page
    run = db.session.scalars(select(ScoringRun).order_by(ScoringRun.id.desc())).first()
    assert (run.trigger, run.status, run.model_version) == ("manual", "done", ACTIONABLE_VERSION)
    assert run.subjects_scored == db.session.scalar(select(func.count(CreditSubject.id)))
    page = page_text(client.get("/platform/models"))
    assert "手动发起" in page and "已完成" in page


def test_a_second_full_run_is_refused_while_one_is_running(app, scored_world):
    db.session.add(ScoringRun(trigger="manual", status="running"))
    db.session.commit()
    runs = db.session.scalar(select(func.count(ScoringRun.id)))
    client = logged_in_client(app, scored_world["users"]["platform_admin"])
    token = csrf_token(page_text(client.get("/platform/models")))
    page = page_text(client.post("/platform/scores/refresh", data={"csrf_token": token}, follow_redirects=True))
    assert "正在重新评分" in page
    assert db.session.scalar(select(func.count(ScoringRun.id))) == runs


def test_the_refresh_action_without_an_active_model_says_so(app, world, model_registry):
    app.config["MODEL_REGISTRY"] = str(model_registry[0])
    client = logged_in_client(app, world["users"]["regulator"])
    token = csrf_token(page_text(client.get("/platform/models")))
    page = page_text(client.post("/platform/scores/refresh", data={"csrf_token": token}, follow_redirects=True))
    assert "尚未启用任何模型" in page
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 0


def test_no_activation_while_a_full_run_is_scoring_with_the_old_model(app, scored_world):
    world = scored_world
    db.session.add(ScoringRun(trigger="manual", status="running"))
    db.session.commit()
    activations = select(func.count(AuditEntry.id)).where(AuditEntry.action == "model.activate")
    before = db.session.scalar(activations)
    trained = next(v for v in registry.versions(world["registry"]) if v != ACTIONABLE_VERSION)
    page = page_text(_activate(logged_in_client(app, world["users"]["platform_admin"]), trained, "新版本更准确"))
    assert "正在重新评分" in page
    assert models.active_version(db.session) == ACTIONABLE_VERSION
    assert db.session.scalar(activations) == before


def test_a_failing_run_records_why(app, scored_world):
    world = scored_world
    (world["registry"] / ACTIONABLE_VERSION / "model.txt").write_text("damaged")
    run = scoring_runs.start(db.session, "manual", world["users"]["platform_admin"])
    db.session.commit()
    scoring_runs.execute(db.session, run, world["registry"], "610203")
    db.session.expire_all()
    assert run.status == "failed" and "sha256" in run.error and run.finished_at is not None
