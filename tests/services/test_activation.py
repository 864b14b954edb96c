"""Activating a model version: the service's guards, and the page and the command behaving the same."""
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.common.checksums import file_sha256
from app.common.errors import InvalidInput, NotAllowed
from app.credit import registry
from app.entities import AuditEntry, CreditScore, CreditSubject, ModelVersion, ScoringRun
from app.entities.base import utcnow
from app.extensions import db
from app.ingest.runner import export_files
from app.services import activation, ingestion, models

from ..conftest import ACTIONABLE_VERSION, csrf_token, logged_in_client, page_text

DOORS = ["page", "command"]
# The small test district's versions lose to their own baseline (a few dozen holdout loans): activating
# them needs an override reason (see the activation guard's own tests below).
SMALL = "小样本测试模型"


@pytest.fixture
def district(app, world, small_district, model_registry):
    """The world and the small district ingested, two registered versions, none active: (root, trained)."""
    root, trained = model_registry
    app.config["MODEL_REGISTRY"] = str(root)
    ingestion.ingest(db.session, export_files(small_district), "610203")
    return root, trained


def through(door, app, user, version, reason, override=None):
    """Activate through the model admin page or `flask models activate`; (accepted, what the user read)."""
    if door == "page":
        client = logged_in_client(app, user)
        token = csrf_token(page_text(client.get("/platform/models")))
        data = {"csrf_token": token, "reason": reason, **({"override": override} if override else {})}
        page = page_text(client.post(f"/platform/models/{version}/activate", data=data, follow_redirects=True))
        jobs.wait()
        db.session.expire_all()
        return "已启用模型" in page, page
    extra = ["--override", override] if override else []
    result = app.test_cli_runner().invoke(args=["models", "activate", version, "--reason", reason,
                                                "--by", user.username, *extra])
    return result.exit_code == 0, result.output


def with_figures(root, source, version, **figures):
    """A copy of the version `source` registered as `version`, its metrics.json saying `figures`."""
    folder = Path(root) / version
    shutil.copytree(Path(root) / source, folder)
    metrics = json.loads((folder / registry.METRICS_FILE).read_text(encoding="utf-8"))
    (folder / registry.METRICS_FILE).write_text(json.dumps({**metrics, **figures}), encoding="utf-8")
    (folder / registry.SUMS_FILE).write_text("".join(f"{file_sha256(folder / name)}  {name}\n"
                                                     for name in registry.CHECKED_FILES), encoding="utf-8")
    return version


# A holdout large enough that a 0.02 AUC gap is beyond its noise.
LARGE_HOLDOUT = {"n": 200_000, "bads": 10_000}


def activations():
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "model.activate"))


@pytest.mark.parametrize("door", DOORS)
def test_both_doors_activate_one_version_and_rescore_everyone_in_a_recorded_run(app, world, district, door):
    root, trained = district
    admin = world["users"]["platform_admin"]
    subjects = db.session.scalar(select(func.count(CreditSubject.id)))
    for version in (trained, ACTIONABLE_VERSION):
        accepted, said = through(door, app, admin, version, f"{version} 更稳定", override=SMALL)
        assert accepted, said
    active = db.session.scalars(select(ModelVersion).where(ModelVersion.is_active)).one()
    assert (active.version, active.activated_by_id, active.activation_reason) == (
        ACTIONABLE_VERSION, admin.id, f"{ACTIONABLE_VERSION} 更稳定")
    runs = db.session.scalars(select(ScoringRun).order_by(ScoringRun.id)).all()
    assert [(r.trigger, r.status, r.model_version, r.subjects_scored, r.started_by_id) for r in runs] == [
        ("activation", "done", version, subjects, admin.id) for version in (trained, ACTIONABLE_VERSION)]
    assert db.session.scalar(select(func.count(CreditScore.id))) == 2 * subjects
    via = f"{'web' if door == 'page' else 'cli'}:{admin.username}"
    assert [entry["by"] for entry in activation.history(db.session)] == [via, via]
    if door == "command":
        printed = json.loads(said.strip().splitlines()[-1])
        assert printed == {**printed, "active": ACTIONABLE_VERSION, "run": runs[-1].id, "scored": subjects,
                           "status": "done"}


@pytest.mark.parametrize("door", DOORS)
def test_both_doors_refuse_an_activation_while_a_full_run_is_scoring(app, world, district, door):
    _root, trained = district
    db.session.add(ScoringRun(trigger="manual", status="running"))
    db.session.commit()
    accepted, said = through(door, app, world["users"]["platform_admin"], trained, "新版本更准确", override=SMALL)
    assert not accepted and "正在重新评分，请等待本次运行结束。" in said
    if door == "command":
        assert "Rescoring is in progress" in said
    assert models.active_version(db.session) is None and activations() == 0
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 1


@pytest.mark.parametrize("door", DOORS)
def test_both_doors_leave_no_trace_when_the_transaction_rolls_back(app, world, district, door, monkeypatch):
    root, trained = district
    files = sorted(p.relative_to(root) for p in root.rglob("*"))

    staged = []

    def lost_connection():
        staged.append(models.active_version(db.session))  # the activation, about to be committed
        raise RuntimeError("the database went away before the commit")

    monkeypatch.setattr(db.session, "commit", lost_connection)
    accepted, _said = through(door, app, world["users"]["platform_admin"], trained, "新版本更准确", override=SMALL)
    monkeypatch.undo()
    db.session.rollback()  # what the end of the request, or of the command's process, does
    assert not accepted and staged == [trained]
    assert models.active_version(db.session) is None and activations() == 0
    assert db.session.scalar(select(func.count(ScoringRun.id))) == 0
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == files  # no registry file either


def test_activation_needs_a_reason(app, world, district):
    root, trained = district
    with pytest.raises(InvalidInput):
        activation.activate(db.session, root, trained, world["users"]["platform_admin"], "  ", via="test")
    assert models.active_version(db.session) is None


@pytest.mark.parametrize(("trigger", "heartbeat", "refused"), [
    ("manual", timedelta(0), True), ("activation", timedelta(minutes=1), True), ("cli", timedelta(0), True),
    ("ingest", timedelta(0), False),  # a run of a few subjects does not hold activation back
    ("manual", timedelta(hours=1), False),  # a run silent this long is taken for dead
])
def test_activation_waits_for_a_live_full_run(app, world, district, trigger, heartbeat, refused):
    root, trained = district
    db.session.add(ScoringRun(trigger=trigger, status="running", heartbeat_at=utcnow() - heartbeat))
    db.session.commit()
    if refused:
        with pytest.raises(NotAllowed):
            activation.activate(db.session, root, trained, world["users"]["platform_admin"], "x", via="test")
    else:
        run = activation.activate(db.session, root, trained, world["users"]["platform_admin"], "x", via="test",
                                  override=SMALL)
        assert (run.trigger, run.status, run.subjects_total) == ("activation", "queued", None)


def test_an_unregistered_version_is_refused(app, world, district):
    root, _trained = district
    with pytest.raises(registry.RegistryError, match="no model version"):
        activation.activate(db.session, root, "20000101-000000-nowhere", None, "x", via="test")
    assert db.session.scalar(select(func.count(ModelVersion.id))) == 0


def test_the_history_lists_every_activation_oldest_first(app, world, district):
    root, trained = district
    for version in (trained, ACTIONABLE_VERSION, trained):
        activation.activate(db.session, root, version, world["users"]["regulator"], f"为何 {version}", via="test",
                            override=SMALL)
        db.session.execute(ScoringRun.__table__.update().values(status="done"))
    assert [(e["version"], e["reason"], e["by"]) for e in activation.history(db.session)] == [
        (v, f"为何 {v}", "test") for v in (trained, ACTIONABLE_VERSION, trained)]
    assert models.active_version(db.session) == trained


def test_the_database_holds_at_most_one_active_version(app):
    db.session.add_all([ModelVersion(version=v, path=v, sha256="0" * 64, is_active=True) for v in ("a", "b")])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add_all([ModelVersion(version=v, path=v, sha256="0" * 64, is_active=v == "a") for v in ("a", "b")])
    db.session.commit()
    assert models.active_version(db.session) == "a"


def test_a_reason_longer_than_the_audit_log_keeps_is_refused(app, world, model_registry):
    root, version = model_registry
    with pytest.raises(InvalidInput, match=str(activation.MAX_REASON)):
        activation.activate(db.session, str(root), version, world["users"]["platform_admin"],
                            "理" * (activation.MAX_REASON + 1), via="test")
    assert models.active_version(db.session) is None


@pytest.mark.parametrize("door", DOORS)
def test_both_doors_refuse_a_version_losing_to_its_baseline_unless_an_override_says_why(app, world, district, door):
    root, trained = district
    loser = with_figures(root, trained, "20990102-000000-loser", auc=0.590, baseline_auc=0.611, **LARGE_HOLDOUT)
    admin = world["users"]["platform_admin"]
    accepted, said = through(door, app, admin, loser, "新版本")
    assert not accepted and "低于其基准评分卡的 0.611" in said
    assert models.active_version(db.session) is None and activations() == 0
    accepted, said = through(door, app, admin, loser, "新版本", override="监管要求先行试用")
    assert accepted, said
    assert models.active_version(db.session) == loser
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "model.activate")).one()
    assert entry.details["override"] == "监管要求先行试用" and "0.611" in entry.details["losses"]
    assert activation.history(db.session)[-1]["override"] == "监管要求先行试用"


def test_a_version_losing_to_the_active_one_needs_an_override(app, world, district):
    root, trained = district
    admin = world["users"]["platform_admin"]
    champion = with_figures(root, trained, "20990102-000000-champion", auc=0.80, baseline_auc=0.70, **LARGE_HOLDOUT)
    challenger = with_figures(root, trained, "20990103-000000-challenger", auc=0.75, baseline_auc=0.70,
                              **LARGE_HOLDOUT)
    activation.activate(db.session, root, champion, admin, "首个模型", via="test")
    db.session.execute(ScoringRun.__table__.update().values(status="done"))
    assert activation.losses(db.session, root, challenger) and not activation.losses(db.session, root, champion)
    with pytest.raises(InvalidInput, match=champion):
        activation.activate(db.session, root, challenger, admin, "更新", via="test")
    assert models.active_version(db.session) == champion
    activation.activate(db.session, root, challenger, admin, "更新", via="test", override="新数据上更稳")
    assert models.active_version(db.session) == challenger
    db.session.execute(ScoringRun.__table__.update().values(status="done"))
    # a version beating both is activated without an override, and the audit log keeps no losses
    better = with_figures(root, trained, "20990104-000000-better", auc=0.81, baseline_auc=0.70, **LARGE_HOLDOUT)
    activation.activate(db.session, root, better, admin, "更准确", via="test")
    last = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "model.activate")
                              .order_by(AuditEntry.id.desc())).first()
    assert "override" not in last.details and models.active_version(db.session) == better


def test_a_loss_within_the_holdouts_noise_does_not_block_and_the_same_gap_on_a_large_holdout_does(
        app, world, district):
    root, trained = district
    admin = world["users"]["platform_admin"]
    noisy = with_figures(root, trained, "20990105-000000-noisy", auc=0.590, baseline_auc=0.611, n=300, bads=20)
    clear = with_figures(root, trained, "20990106-000000-clear", auc=0.590, baseline_auc=0.611, **LARGE_HOLDOUT)
    assert activation.losses(db.session, root, noisy) == []
    assert activation.losses(db.session, root, clear)
    small = activation.auc_standard_error(0.59, 300, 20)
    assert 0.05 < small < 0.1 and activation.auc_standard_error(0.59, 200_000, 10_000) < small / 20
    activation.activate(db.session, root, noisy, admin, "小样本上差距不明显", via="test")
    assert models.active_version(db.session) == noisy
