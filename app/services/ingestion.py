"""Ingesting a batch of department exports: the one flow behind the upload page and `flask data ingest`.

Like the ingestion engine it drives, this is command-level: each file is committed on its own (whole
or not at all). New or corrected records change scores, so when a model is active it stages a run
that re-scores just the subjects they belong to; the caller commits it, then the page launches it
in the background and the command executes it in-process.
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from app.common.region import town_codes
from app.entities import ScoringRun, SourceRecord
from app.ingest import retention
from app.ingest.runner import ingest_paths

from . import models, scoring_runs


@dataclass
class Ingestion:
    """What one batch did: the engine's summary, the active model version (None: nothing is scored),
    and the staged run re-scoring the subjects whose records changed (None when there are none)."""

    summary: dict
    model_version: str | None = None
    run: ScoringRun | None = None
    subject_ids: list = field(default_factory=list)


def touched_subjects(session, summary):
    """The subjects whose records a run of ingestion inserted or corrected."""
    batch_ids = [f["batch_id"] for f in summary["files"] if f["status"] == "loaded" and f["batch_id"]]
    if not batch_ids:
        return []
    query = select(SourceRecord.subject_id).where(SourceRecord.batch_id.in_(batch_ids)).distinct()
    return sorted(session.scalars(query))


def ingest(session, paths, region_code, actor=None):
    """Load the files (registration first; each committed whole or not at all) and, when a model is
    active and some subject's records changed, stage a run that re-scores those subjects."""
    summary = ingest_paths(session, paths, town_codes(region_code),
                           uploaded_by_id=actor.id if actor else None)
    result = Ingestion(summary, models.active_version(session))
    if result.model_version is None:
        return result
    result.subject_ids = touched_subjects(session, summary)
    if result.subject_ids:
        result.run = scoring_runs.start(session, "ingest", actor, result.subject_ids)
    return result


def purge_kept_files(session, upload_dir, reject_dir, retention_days, now=None):
    """Remove uploaded originals and reject reports received more than `retention_days` ago, marking
    their batches (which keep checksum and counts); the daily command and each upload call it. The
    caller commits. Returns the figures (a retention.Purge)."""
    return retention.purge(session, upload_dir, reject_dir, int(retention_days), now)
