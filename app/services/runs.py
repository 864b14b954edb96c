"""What scoring runs and match runs share: which one is in progress, and how a run starts, fails
and ends. A run is a command-level unit of work: it commits its own progress, so that a page can
show it and a failure keeps what was already done."""
import logging
from datetime import timedelta

from sqlalchemy import select

from app.entities.base import utcnow

log = logging.getLogger(__name__)
# A run that has not reported progress for this long is taken for dead (its process stopped).
STALE_AFTER = timedelta(minutes=15)


def in_progress(session, model):
    """Runs of `model` that are queued or running and reported progress lately, newest first."""
    query = (select(model).where(model.status.in_(("queued", "running")),
                                 model.heartbeat_at > utcnow() - STALE_AFTER)
             .order_by(model.id.desc()))
    return session.scalars(query)


def begin(session, run):
    """Mark the run as running, committed so that others see it."""
    run.status = "running"
    run.started_at = run.heartbeat_at = utcnow()
    session.commit()


def fail(session, run, error):
    """Record why the run failed (after rolling back its unfinished part), committed."""
    session.rollback()
    log.error("%s %s failed: %s", type(run).__name__, run.id, error, exc_info=error)
    run.status, run.error = "failed", str(error)[:2000]
    run.finished_at = utcnow()
    session.commit()


def finish(session, run):
    """Mark the run as done, committed."""
    run.status = "done"
    run.finished_at = run.heartbeat_at = utcnow()
    session.commit()
