"""Full re-matches of the district, recorded as MatchRun rows with their progress.

`start` stages a run (refused while another full re-match is in progress); `execute` runs it. A run
is a command-level unit of work, like a scoring run: `execute` commits after each batch of needs so
that its progress is visible, and a failure keeps the batches already stored.
"""

from flask_babel import gettext as _

from app.common.errors import NotAllowed
from app.entities import MatchRun
from app.entities.base import refresh_statistics, utcnow

from . import matches, runs


def running(session):
    """The full re-match in progress (queued or running, with recent progress), or None."""
    return runs.in_progress(session, MatchRun).first()


def start(session, trigger):
    """Stage a full re-match started by `trigger` (e.g. "cli"); refused while another one is in progress."""
    if running(session) is not None:
        raise NotAllowed(_("正在重新匹配，请等待本次运行结束。"))
    run = MatchRun(trigger=trigger, status="queued")
    session.add(run)
    session.flush()
    return run


def execute(session, run, on_progress=None):
    """Re-match every open need against every published product, committing the run's progress per batch.

    `on_progress(run)` is called after each batch (the CLI prints it).
    """
    runs.begin(session, run)

    def progress(done, total, stored):
        run.needs_done, run.needs_total, run.matches_stored, run.heartbeat_at = done, total, stored, utcnow()
        session.commit()
        if on_progress is not None:
            on_progress(run)

    try:
        figures = matches.rematch_all(session, on_batch=progress)
    except Exception as error:  # a failed run must say why, and must not look as if it were running
        runs.fail(session, run, error)
        return run
    run.needs_total, run.needs_done = figures["needs"], figures["needs"]
    run.products, run.pairs, run.matches_stored = figures["products"], figures["pairs"], figures["stored"]
    runs.finish(session, run)
    refresh_statistics(session, "match")
    session.commit()
    return run


def summary(run):
    """The run's figures as the CLI prints them."""
    return {"run": run.id, "status": run.status, "needs": run.needs_total, "products": run.products,
            "pairs": run.pairs, "matches_stored": run.matches_stored, "seconds": round(run.seconds, 3)}
