"""The `flask platform|models|scores|applications|loans …` commands (ingest and activation: tests/services)."""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.common.dates import local_date
from app.credit import snapshot
from app.entities import AuditEntry, CreditScore, FeedbackUpload, ScoringRun, SourceBatch
from app.extensions import db
from app.services import accounts, lists, models

from . import factories
from .conftest import ACTIONABLE_VERSION
from .ingest import test_retention as retention_tests
from .services.test_feedback import month


def last_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_scores_refresh_records_a_run_and_prints_its_figures(app, scored_world):
    result = app.test_cli_runner().invoke(args=["scores", "refresh", "--subject", str(scored_world["subject_id"])])
    figures = last_json(result)
    run = db.session.scalars(select(ScoringRun).where(ScoringRun.trigger == "cli")).one()
    assert (run.status, run.subjects_scored, run.subjects_total) == ("done", 1, 1)
    assert figures["run"] == run.id and figures["scored"] == 1 and figures["model_version"] == run.model_version


def test_scores_refresh_without_a_model_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["scores", "refresh"])
    assert result.exit_code != 0 and "尚未启用任何模型" in result.output and "No model" in result.output


def test_models_list_marks_the_active_version(app, scored_world):
    lines = app.test_cli_runner().invoke(args=["models", "list"]).output.splitlines()
    assert f"* {ACTIONABLE_VERSION}" in lines and len([line for line in lines if line.startswith("*")]) == 1


def test_activate_then_refresh_on_a_fresh_database(app, model_registry):
    root, version = model_registry
    app.config["MODEL_REGISTRY"] = str(root)
    runner = app.test_cli_runner()
    activated = last_json(runner.invoke(args=["models", "activate", version, "--reason", "contract check"]))
    assert (activated["active"], activated["status"], activated["scored"]) == (version, "done", 0)
    assert last_json(runner.invoke(args=["scores", "refresh"]))["scored"] == 0
    assert models.active_version(db.session) == version
    assert [r.trigger for r in db.session.scalars(select(ScoringRun).order_by(ScoringRun.id))] == ["activation", "cli"]


def test_only_a_governing_user_may_be_named_as_the_activator(app, world, model_registry):
    root, version = model_registry
    app.config["MODEL_REGISTRY"] = str(root)
    result = app.test_cli_runner().invoke(args=["models", "activate", version, "--reason", "x", "--by", "officer"])
    assert result.exit_code != 0 and "only a platform admin or regulator" in result.output
    assert models.active_version(db.session) is None


def test_loans_feedback_loads_a_file_and_prints_its_summary_last(app, world, tmp_path):
    factories.add_loan(world, "L-1")
    db.session.commit()
    path = tmp_path / "贷后反馈.csv"
    path.write_text(f"贷款账号,报送月份,逾期天数,贷款余额（元）,认定,说明\nL-1,{month(4)},0,350000,,\nL-9,{month(4)},0,1,,\n",
                    encoding="gbk")
    runner = app.test_cli_runner()
    args = ["loans", "feedback", str(path), "--institution", world["bank_a"].name, "--by", "officer"]
    summary = last_json(runner.invoke(args=args))
    assert (summary["ok"], summary["loaded"], summary["unchanged"], summary["rejected"]) == (True, 1, 0, 1)
    assert summary["rejects"][0]["line"] == 3 and "L-9" in summary["rejects"][0]["message"]
    again = last_json(runner.invoke(args=[*args[:4], str(world["bank_a"].id), "--by", "officer"]))
    assert (again["loaded"], again["unchanged"], again["sha256"]) == (0, 1, summary["sha256"])
    db.session.expire_all()
    upload = db.session.get(FeedbackUpload, summary["upload"])
    assert [o.upload_id for o in upload.reports] == [upload.id]


@pytest.mark.parametrize(("institution", "username", "words"), [
    ("甲银行", "officer_other", "只有本机构的客户经理或机构管理员"),
    ("没有这家银行", "officer", "no such institution"),
])
def test_loans_feedback_refuses_someone_else_or_an_unknown_lender(app, world, tmp_path, institution, username,
                                                                  words):
    path = tmp_path / "f.csv"
    path.write_text("贷款账号,报送月份,逾期天数,贷款余额（元）,认定,说明\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["loans", "feedback", str(path), "--institution", institution,
                                                "--by", username])
    assert result.exit_code != 0 and words in result.output
    assert db.session.scalar(select(func.count(FeedbackUpload.id))) == 0


def test_platform_demo_prints_each_login_with_the_name_the_site_shows(app):
    result = app.test_cli_runner().invoke(args=["platform", "demo"])
    assert result.exit_code == 0, result.output
    firm_line = next(line for line in result.output.splitlines() if " firm_demo " in line)
    shown = accounts.find_user(db.session, "firm_demo").display_name
    assert shown in firm_line


def test_applications_expire_offers_expires_only_offers_past_their_last_day(app, world):
    application = factories.put_in_status(world, "approved")
    application.offer_valid_until = local_date() - timedelta(days=1)
    db.session.commit()
    runner = app.test_cli_runner()
    assert last_json(runner.invoke(args=["applications", "expire-offers"])) == {"expired": 1}
    db.session.expire_all()
    assert application.status == "expired" and application.events[-1].actor_id is None
    assert last_json(runner.invoke(args=["applications", "expire-offers"])) == {"expired": 0}


def test_data_purge_uploads_removes_what_is_past_retention_once(app, tmp_path):
    batch = retention_tests.upload(app, retention_tests.bad_registration(tmp_path))
    kept = Path(batch.kept_file)
    retention_tests.age(batch, app.config["UPLOAD_RETENTION_DAYS"] + 1)
    runner = app.test_cli_runner()
    first = last_json(runner.invoke(args=["data", "purge-uploads"]))
    assert (first["batches"], first["upload_folders"], first["reject_files"], first["failures"]) == (1, 1, 1, 0)
    assert first["retention_days"] == app.config["UPLOAD_RETENTION_DAYS"] and not kept.exists()
    again = last_json(runner.invoke(args=["data", "purge-uploads"]))
    assert (again["batches"], again["upload_folders"], again["reject_files"]) == (0, 0, 0)
    db.session.expire_all()
    assert db.session.get(SourceBatch, batch.id).files_removed_at is not None


def test_compliance_check_flags_once_and_prints_counts_per_rule(app, world):
    factories.put_in_status(world, "approved")  # an offer made without its APR disclosed
    runner = app.test_cli_runner()
    first = last_json(runner.invoke(args=["compliance", "check"]))
    assert first["new"]["apr_disclosure"] == 1 and first["open"]["apr_disclosure"] == 1
    assert set(first["new"]) == {"apr_cap", "apr_disclosure", "decline_reasons", "response_overdue", "consent_view",
                                 "licence_suspended"}
    again = last_json(runner.invoke(args=["compliance", "check"]))
    assert again["new"]["apr_disclosure"] == 0 and again["open"]["apr_disclosure"] == 1


def test_compliance_check_refuses_a_mistyped_configuration(app):
    app.config["COMPLIANCE_RULES"] = {"apr_cap": {"mode": "sometimes"}}
    result = app.test_cli_runner().invoke(args=["compliance", "check"])
    assert result.exit_code != 0 and "mode 'sometimes'" in result.output


def test_audit_verify_prints_the_chains_state_and_fails_when_it_was_tampered_with(app):
    from app.services import audit

    from .services.test_audit import tamper

    for number in range(3):
        audit.record(db.session, None, "test.entry", None, target_type="Test", number=number)
        db.session.commit()
    runner = app.test_cli_runner()
    assert last_json(runner.invoke(args=["audit", "verify"])) == {"ok": True, "rows": 3, "first_broken": None}
    first_id = db.session.scalar(select(func.min(AuditEntry.id)))
    tamper("DELETE FROM audit_log WHERE id = :id", id=first_id)
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and "篡改" in broken.output and "tampered" in broken.output
    assert json.loads(broken.output.strip().splitlines()[-1]) == {"ok": False, "rows": 1, "first_broken": first_id + 1}


def test_scores_refresh_on_dask_stores_what_the_pandas_refresh_stored(app, scored_world, tmp_path):
    before = db.session.scalar(select(func.count()).select_from(CreditScore))
    result = app.test_cli_runner().invoke(args=["scores", "refresh", "--engine", "dask", "--workers", "1",
                                                "--memory-limit", "2GiB", "--snapshot", str(tmp_path / "snap")])
    assert result.exit_code == 0, result.output
    figures = last_json(result)
    assert figures["status"] == "done" and figures["scored"] == before > 10
    rows = db.session.execute(select(CreditScore).order_by(CreditScore.id)).scalars().all()
    pandas_rows = {row.subject_id: row for row in rows[:before]}
    dask_rows = {row.subject_id: row for row in rows[before:]}
    assert set(dask_rows) == set(pandas_rows)
    for subject_id, row in dask_rows.items():
        expected = pandas_rows[subject_id]
        assert row.pd == pytest.approx(expected.pd, abs=1e-12)
        assert (row.score, row.grade, row.data_as_of) == (expected.score, expected.grade, expected.data_as_of)
        assert (row.reasons, row.contributions, row.completeness) == (
            expected.reasons, expected.contributions, expected.completeness)
        assert row.model_version_id == expected.model_version_id
    assert figures["data_fingerprint"] == snapshot.fingerprint(tmp_path / "snap")
    runs = db.session.scalars(select(ScoringRun).order_by(ScoringRun.id)).all()
    assert runs[0].data_fingerprint == snapshot.database_fingerprint(db.session)  # the pandas run: its batches


def test_scores_refresh_on_dask_needs_a_snapshot_and_everyone(app):
    runner = app.test_cli_runner()
    assert "--snapshot" in runner.invoke(args=["scores", "refresh", "--engine", "dask"]).output
    assert "--subject" in runner.invoke(args=["scores", "refresh", "--engine", "dask", "--snapshot", "x",
                                              "--subject", "1"]).output


def test_lists_close_expired_closes_the_entries_past_their_term(app, world):
    today = local_date()
    entry = lists.add_entry(db.session, world["users"]["regulator"], world["firm"], "trustworthy", "纳税信用A级",
                            listed_on=today - timedelta(days=400), ends_on=today - timedelta(days=35))
    db.session.commit()
    runner = app.test_cli_runner()
    assert last_json(runner.invoke(args=["lists", "close-expired"])) == {"closed": 1, "subjects": [world["firm"].id]}
    db.session.refresh(entry)
    assert entry.status == "removed" and entry.removed_on == today - timedelta(days=35)
    assert last_json(runner.invoke(args=["lists", "close-expired"])) == {"closed": 0, "subjects": []}
