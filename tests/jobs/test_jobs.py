"""The jobs module: one registry of kinds, a backend chosen by name, the thread backend of the demo and the
tests, durations measured, and the worker command refused without a queue."""
import pytest
from sqlalchemy import select

from app import jobs
from app.entities import MatchRun, SimulationRun
from app.extensions import db
from app.services import match_runs

from ..conftest import make_app


def test_an_unknown_backend_or_a_queue_without_redis_is_refused_when_the_app_is_built(database_url):
    with pytest.raises(ValueError, match="JOBS_BACKEND must be one of rq, threads"):
        make_app(database_url, JOBS_BACKEND="celery")
    with pytest.raises(ValueError, match="REDIS_URL"):
        make_app(database_url, JOBS_BACKEND="rq", REDIS_URL=None)


def test_an_unknown_kind_is_refused(app):
    with pytest.raises(ValueError, match="unknown job kind 'reports'"):
        jobs.submit("reports", 1)


def _sample(name, kind, status):
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, {"kind": kind, "status": status}) or 0


def test_the_thread_backend_runs_a_job_with_a_session_of_its_own_and_times_it(app, world):
    before = _sample("yintai_job_duration_seconds_count", "matching", "done")
    run = match_runs.start(db.session, "manual")
    db.session.commit()
    jobs.submit("matching", run.id)
    jobs.wait()
    db.session.expire_all()
    assert run.status == "done" and run.needs_done == run.needs_total == 1  # the world's one open need
    assert _sample("yintai_job_duration_seconds_count", "matching", "done") == before + 1
    assert jobs.backend().depth() == 0


def test_the_thread_backend_marks_a_run_failed_when_its_job_raises(app, world, monkeypatch):
    def broken(session, run, on_progress=None):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(match_runs, "execute", broken)
    run = match_runs.start(db.session, "manual")
    db.session.commit()
    jobs.submit("matching", run.id)
    jobs.wait()
    db.session.expire_all()
    assert (run.status, run.error) == ("failed", "磁盘已满")
    assert db.session.scalar(select(MatchRun.finished_at)) is not None


def test_the_simulation_is_a_recorded_run_queued_or_not(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["market", "simulate", "--months", "1", "--until", "2026-03-15", "--queue"])
    assert result.exit_code == 0, result.output
    assert '"queued": "simulation"' in result.output  # the thread backend: run, and waited for, here
    result = runner.invoke(args=["market", "simulate", "--months", "2", "--until", "2026-03-15"])
    assert result.exit_code == 0, result.output
    first, second = db.session.scalars(select(SimulationRun).order_by(SimulationRun.id)).all()
    assert (first.status, first.months_done, first.trigger) == ("done", 1, "cli")
    assert (second.status, second.months_done) == ("done", 0)  # a month replayed before is not replayed again
    assert second.figures["until"] == "2026-03-14T16:00:00"


def test_the_worker_command_needs_the_queue(app):
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "JOBS_BACKEND=rq" in result.output
