"""The kinds of job: which run record each works on and how it executes it (a registry keyed by name).

Each `execute(session, run, config, params)` is the same service function the command line runs
in-process; it commits the run's progress itself and records its failure on the run. It returns the
follow-up job to submit when it ends, (kind, run id, params), or None.
"""
from collections.abc import Callable
from dataclasses import dataclass

from app.entities import IngestionRun, MatchRun, ScoringRun, SimulationRun
from app.services import ingestion, match_runs, scoring_runs

from . import simulation


@dataclass(frozen=True)
class Kind:
    """A kind of job: its run record's class and the function that executes such a run."""

    model: type
    execute: Callable


def _score(session, run, config, params):
    scoring_runs.execute(session, run, config["MODEL_REGISTRY"], config["REGION_CODE"], params.get("subject_ids"))


def _rematch(session, run, config, params):
    match_runs.execute(session, run)


def _ingest(session, run, config, params):
    """An upload's files; then the re-scoring of the subjects whose records changed, as a job of its own."""
    result = ingestion.execute_upload(session, run, config["REGION_CODE"])
    if result is not None and result.run is not None:
        return "scoring", result.run.id, {"subject_ids": result.subject_ids}
    return None


def _simulate(session, run, config, params):
    simulation.execute(session, run)


KINDS = {
    "ingestion": Kind(IngestionRun, _ingest),
    "scoring": Kind(ScoringRun, _score),
    "matching": Kind(MatchRun, _rematch),
    "simulation": Kind(SimulationRun, _simulate),
}
