"""The market simulation as a recorded run: `flask market simulate` executes one in-process, or queues it."""
from app.entities import SimulationRun
from app.entities.base import utcnow
from app.services import runs
from app.simulation import simulate


def stage(session, seed, months, until=None, truth_path=None, activity=1.0, trigger="cli"):
    """Stage a simulation run of `months` months up to `until` (None: when it runs); the caller commits."""
    run = SimulationRun(trigger=trigger, status="queued", seed=seed, months=months, until=until,
                        truth_path=str(truth_path) if truth_path else None, activity=activity)
    session.add(run)
    session.flush()
    return run


def execute(session, run, on_month=None):
    """Replay the run's months (`simulate` commits each), counting them on the run; the counts it ends
    with are kept on the run. `on_month(window, added)` is called after each month (the CLI prints it)."""
    runs.begin(session, run)

    def progress(window, added):
        run.months_done, run.heartbeat_at = run.months_done + 1, utcnow()
        session.commit()
        if on_month is not None:
            on_month(window, added)

    try:
        run.figures = simulate(session, run.seed, run.months, run.until, run.truth_path, run.activity,
                               on_month=progress)
    except Exception as error:  # a failed run must say why, and must not look as if it were running
        runs.fail(session, run, error)
        return run
    runs.finish(session, run)
    return run
