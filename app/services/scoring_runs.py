"""Re-scoring runs: the "refresh scores" flow, and the run that ends an activation or an ingestion.

`start` stages a run with its guards (the request or command commits it); the web then submits it
as a job (app/jobs: a thread, or the job worker in production), so the request returns at once,
and the CLI `execute`s it in-process. A run is a command-level unit of work, like an ingestion:
`execute` commits after each chunk of subjects so that its progress is visible and a failure
keeps the chunks already scored.
"""
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import NotAllowed
from app.entities import ScoringRun
from app.entities.base import refresh_statistics, utcnow

from . import audit, models, runs


def running(session):
    """The full run in progress (queued or running, with recent progress), or None."""
    return next((run for run in runs.in_progress(session, ScoringRun) if run.trigger != "ingest"), None)


def refuse_during_full_run(session):
    """Raise NotAllowed while a full run is in progress (a second one, or a new model, must wait)."""
    if running(session) is not None:
        raise NotAllowed(_("正在重新评分，请等待本次运行结束。"))


def start(session, trigger, actor=None, subject_ids=None):
    """Stage a run of everyone (or of `subject_ids`) with the active model.

    Refused (NotAllowed) when no model is active, and for everyone while a full run is in progress.
    """
    if models.active_version(session) is None:
        raise NotAllowed(_("尚未启用任何模型，无法评分。"))
    if subject_ids is None:
        refuse_during_full_run(session)
    run = ScoringRun(trigger=trigger, status="queued", started_by_id=actor.id if actor else None,
                     subjects_total=None if subject_ids is None else len(subject_ids))
    session.add(run)
    session.flush()
    if actor is not None:
        audit.record(session, actor, "scores.refresh", run, trigger=trigger,
                     subjects="all" if subject_ids is None else len(subject_ids))
    return run


def execute(session, run, root, region_code, subject_ids=None, engine=None):
    """Score the run's subjects with the active model, committing its progress after each chunk
    (`engine`: a cluster.DaskEngine, to score everyone on Dask)."""
    runs.begin(session, run)

    def progress(scored, total):
        run.subjects_scored, run.subjects_total, run.heartbeat_at = scored, total, utcnow()
        session.commit()

    try:
        run.model_version = models.active_scorer(session, root).bundle.version
        summary = models.refresh(session, root, region_code, subject_ids, on_chunk=progress, engine=engine)
        run.data_fingerprint = summary["data_fingerprint"]
    except Exception as error:  # a failed run must say why, and must not look as if it were running
        runs.fail(session, run, error)
        return run
    run.subjects_scored = run.subjects_total = summary["scored"]
    runs.finish(session, run)
    refresh_statistics(session, "credit_score")
    session.commit()
    return run


def recent_runs(session, limit=10):
    """The latest runs, newest first."""
    return session.scalars(select(ScoringRun).order_by(ScoringRun.id.desc()).limit(limit)).all()


def figures(run):
    """A run's outcome as the CLI prints it (JSON-ready)."""
    return {"run": run.id, "status": run.status, "model_version": run.model_version,
            "scored": run.subjects_scored, "seconds": round(run.seconds, 2), "error": run.error,
            "data_fingerprint": run.data_fingerprint}
