"""The RQ backend (JOBS_BACKEND=rq) on a real Redis: a run staged by a page or a command waits in the
queue, a worker executes it with the app's context and a session of its own, and a failure is the run's."""
import signal

import pytest
from rq import SimpleWorker
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from sqlalchemy import func, select

from app import jobs
from app.entities import CreditSubject, IngestionRun, MatchRun, ModelVersion, ScoringRun
from app.extensions import db
from app.jobs.worker import AppWorker, PromptShutdown
from app.services import match_runs, scoring_runs

from ..conftest import csrf_token, logged_in_client, page_text
from ..ingest import exports


@pytest.fixture
def rq_app(app, redis_url):
    """The test app with its jobs queued in the test Redis."""
    app.config.update(JOBS_BACKEND="rq", REDIS_URL=redis_url)
    jobs.init_app(app)
    return app


def queue():
    return jobs.backend().queue


class BurstWorker(PromptShutdown, SimpleWorker):
    """rq's SimpleWorker (jobs in this process, unforked) that stops as promptly as `flask jobs worker`."""


def drain():
    """Run a burst worker in this process until the queue is empty, as `flask jobs worker` would."""
    BurstWorker([queue()], connection=queue().connection).work(burst=True)


def test_a_scoring_run_started_on_the_page_waits_in_the_queue_until_a_worker_executes_it(rq_app, scored_world):
    world = scored_world
    client = logged_in_client(rq_app, world["users"]["regulator"])
    token = csrf_token(page_text(client.get("/platform/models")))
    client.post("/platform/scores/refresh", data={"csrf_token": token})
    run = db.session.scalars(select(ScoringRun).order_by(ScoringRun.id.desc())).first()
    assert (run.trigger, run.status, queue().count) == ("manual", "queued", 1)
    drain()
    db.session.expire_all()
    subjects = db.session.scalar(select(func.count(CreditSubject.id)))
    assert (run.status, run.subjects_scored, run.subjects_total, run.error) == ("done", subjects, subjects, None)
    assert run.model_version == world["version"] and run.finished_at is not None
    assert queue().count == 0 and FailedJobRegistry(queue=queue()).count == 0


@pytest.fixture
def broken_model(app):
    """An active model version whose files are missing: a scoring run of it fails."""
    db.session.add(ModelVersion(version="v-missing", path="models/v-missing", sha256="0" * 64, is_active=True))
    db.session.commit()


def test_a_failing_job_marks_its_run_failed_and_the_queue_records_it(rq_app, world, broken_model):
    run = scoring_runs.start(db.session, "manual", world["users"]["regulator"])
    db.session.commit()
    jobs.submit("scoring", run.id)
    drain()
    db.session.expire_all()
    assert run.status == "failed" and "v-missing" in run.error and run.finished_at is not None
    [job_id] = FailedJobRegistry(queue=queue()).get_job_ids()
    assert "JobFailed" in queue().fetch_job(job_id).latest_result().exc_string


def test_an_error_escaping_the_run_still_marks_it_failed(rq_app, world, monkeypatch):
    def broken(session, run, on_progress=None):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setattr(match_runs, "execute", broken)
    run = match_runs.start(db.session, "cli")
    db.session.commit()
    jobs.submit("matching", run.id)
    drain()
    db.session.expire_all()
    assert (run.status, run.error) == ("failed", "数据库连接中断")
    assert FailedJobRegistry(queue=queue()).count == 1


def test_a_job_whose_process_dies_has_its_run_marked_failed(rq_app, world, monkeypatch):
    import os

    def killed(session, run, on_progress=None):
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would

    monkeypatch.setattr(match_runs, "execute", killed)
    run = match_runs.start(db.session, "cli")
    db.session.commit()
    jobs.submit("matching", run.id)
    AppWorker(rq_app, [queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()
    assert run.status == "failed" and "ended unexpectedly" in run.error


def test_an_upload_is_loaded_by_the_worker_then_its_rescoring_is_queued_as_a_job_of_its_own(rq_app, scored_world,
                                                                                            tmp_path):
    world = scored_world
    subject = db.session.get(CreditSubject, world["subject_id"])
    path = exports.write_csv(tmp_path / "税务_月度申报_补报.csv", "tax_filing",
                             [[subject.identifier, "2030-01", "100", "1", "1", "是", "0"]])
    client = logged_in_client(rq_app, world["users"]["data_admin"])
    token = csrf_token(page_text(client.get("/data/upload")))
    posted = client.post("/data/upload", data={"csrf_token": token, "file": (path.open("rb"), path.name)},
                         content_type="multipart/form-data")
    assert posted.status_code == 303
    assert "正在载入" in page_text(client.get(posted.headers["Location"]))
    result = rq_app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])  # the forking worker
    assert result.exit_code == 0, result.output
    run = db.session.scalars(select(IngestionRun)).one()
    assert (run.status, run.files_done, run.files_total, run.summary["totals"]["inserted"]) == ("done", 1, 1, 1)
    rescoring = db.session.get(ScoringRun, run.scoring_run_id)
    assert (rescoring.status, rescoring.subjects_scored) == ("done", 1)
    done = FinishedJobRegistry(queue=queue())
    assert sorted(queue().fetch_job(i).description for i in done.get_job_ids()) == [
        f"ingestion run {run.id}", f"scoring run {rescoring.id}"]  # the re-scoring queued by the upload's job
    page = page_text(client.get(posted.headers["Location"]))
    assert "载入结果" in page and "已为数据有变化的 1 个主体重新评分" in page


def test_a_queued_command_prints_its_run_and_leaves_it_to_the_worker(rq_app, world):
    result = rq_app.test_cli_runner().invoke(args=["matches", "refresh", "--queue"])
    assert result.exit_code == 0, result.output
    assert '"queued": "matching"' in result.output and queue().count == 1
    run = db.session.scalars(select(MatchRun)).one()
    assert run.status == "queued"
    drain()
    db.session.expire_all()
    assert (run.status, run.needs_total) == ("done", 1)  # the world's one open need


def test_a_cold_shutdown_of_the_worker_marks_the_run_in_hand_failed(rq_app, world, monkeypatch):
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    run = match_runs.start(db.session, "cli")
    db.session.commit()
    worker = AppWorker(rq_app, [queue()], connection=queue().connection)
    worker._shutdown_requested_date = datetime.now(UTC) - timedelta(seconds=5)  # the first Ctrl-C
    monkeypatch.setattr(worker, "get_current_job", lambda: SimpleNamespace(args=("matching", run.id, {})))
    with pytest.raises(SystemExit):
        worker.request_force_stop(signal.SIGINT, None)  # the second
    db.session.expire_all()
    assert run.status == "failed" and "stopped before the job ended" in run.error
