"""The platform's long runs as jobs: one way to start them, two ways to run them (docs/deploy.md).

A job is a kind (an upload's ingestion, a scoring run, a re-matching run, the market simulation,
`app/jobs/kinds.py`) and the id of its run record (a BackgroundRun row), staged and committed by the
caller before `submit`. The app's JOBS_BACKEND decides where it runs (`app/jobs/backends.py`): in a
thread of the process that submitted it ("threads": the demo and the tests), or in Redis's queue
for `flask jobs worker` ("rq": production). Either way `execute` runs it with an app context and a
database session of its own, records its duration, and marks its run failed with the error when
anything escapes the kind's own handling; the run's progress stays in its record.
"""
import logging
import time

from flask import current_app, has_app_context

from app import metrics
from app.extensions import db
from app.services import runs

from .backends import BACKENDS, wait
from .kinds import KINDS

__all__ = ["JobFailed", "backend", "execute", "init_app", "perform", "submit", "wait"]

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """A job whose run ended failed: raised to the queue so that it records the failure too."""


def init_app(app):
    """Give `app` the backend its JOBS_BACKEND names (ValueError for an unknown name or a missing setting)."""
    name = app.config["JOBS_BACKEND"]
    if name not in BACKENDS:
        raise ValueError(f"JOBS_BACKEND must be one of {', '.join(sorted(BACKENDS))}, not {name!r}")
    app.extensions["jobs"] = BACKENDS[name](app)


def backend(app=None):
    """The job backend of `app` (default: the current app)."""
    return (app or current_app).extensions["jobs"]


def submit(kind, run_id, **params):
    """Run job `kind` on the committed run `run_id` with the current app's backend."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    backend().submit(kind, run_id, params)


def execute(app, kind, run_id, params):
    """Run job `kind` on run `run_id` in an app context with a session of its own; returns (status, error).

    A kind's follow-up run (an upload's re-scoring) is submitted when the job ends.
    """
    job = KINDS[kind]
    started, status, error, follow_up = time.perf_counter(), "failed", None, None
    with app.app_context():
        try:
            run = db.session.get(job.model, run_id)
            if run is None:
                raise LookupError(f"{job.model.__name__} {run_id} does not exist")
            follow_up = job.execute(db.session, run, app.config, params)
            status, error = run.status, run.error
        except Exception as failure:  # whatever it was, the run must say so and not look alive
            error = str(failure) or type(failure).__name__
            _mark_failed(job.model, run_id, failure)
            raise
        finally:
            metrics.JOB_SECONDS.labels(kind=kind, status=status).observe(time.perf_counter() - started)
            db.session.remove()
        if follow_up is not None:
            next_kind, next_id, next_params = follow_up
            backend(app).submit(next_kind, next_id, next_params)
    return status, error


def perform(kind, run_id, params):
    """The function a queue worker calls: `execute` in the worker's app; raises JobFailed when the run failed."""
    status, error = execute(_app(), kind, run_id, params)
    if status != "done":
        raise JobFailed(f"{kind} run {run_id}: {error}")
    return status


def mark_lost(app, kind, run_id, reason):
    """Mark a run failed whose job's process died before it could say so (killed, out of memory)."""
    job = KINDS.get(kind)
    if job is None:
        return
    with app.app_context():
        try:
            _mark_failed(job.model, run_id, RuntimeError(reason))
        finally:
            db.session.remove()


def _mark_failed(model, run_id, failure):
    try:
        db.session.rollback()
        run = db.session.get(model, run_id)
        if run is not None and run.status in ("queued", "running"):
            runs.fail(db.session, run, failure)
    except Exception:  # the database itself may be what failed: the log keeps the story
        log.exception("could not mark %s %s failed", model.__name__, run_id)


def _app():
    """The app of a job run by a queue worker: `flask jobs worker` pushes its own; a bare `rq worker`
    gets one built from the environment, as `create_app()` builds it for gunicorn."""
    if has_app_context():
        return current_app._get_current_object()
    from app import create_app

    return create_app()
