"""Ingesting a batch of department exports: the one flow behind the upload page and `flask data ingest`.

Like the ingestion engine it drives, this is command-level: each file is committed on its own (whole
or not at all). New or corrected records change scores, so when a model is active it stages a run
that re-scores just the subjects they belong to; the caller commits it, then the page launches it
in the background and the command executes it in-process.

An upload from the page is itself a background run (an `IngestionRun`): the page saves the files and
stages the run (`stage_upload`), a job executes it (`execute_upload`) with its progress per file.
"""
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.common.region import town_codes
from app.entities import IngestionRun, ScoringRun, SourceRecord, User
from app.entities.base import utcnow
from app.ingest import retention
from app.ingest.runner import ingest_paths

from . import audit, lists, matches, models, runs, scoring_runs


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


def ingest(session, paths, region_code, actor=None, on_file=None):
    """Load the files (registration first; each committed whole or not at all) and, when a model is
    active and some subject's records changed, stage a run that re-scores those subjects.

    `on_file(done, total)` is called after each file (see `ingest_paths`)."""
    summary = ingest_paths(session, paths, town_codes(region_code),
                           uploaded_by_id=actor.id if actor else None, on_file=on_file)
    _sync_lists(session, summary, actor)
    result = Ingestion(summary, models.active_version(session))
    if result.model_version is None:
        return result
    result.subject_ids = touched_subjects(session, summary)
    if result.subject_ids:
        result.run = scoring_runs.start(session, "ingest", actor, result.subject_ids)
    return result


def _sync_lists(session, summary, actor):
    """List and delist 失信被执行人 from the court records a run loaded, and re-match those firms (their
    re-scoring is the run's, as for any subject whose records changed). Committed here, like each
    file: the lists follow the records that are loaded, whatever the caller does next."""
    batch_ids = [f["batch_id"] for f in summary["files"]
                 if f["status"] == "loaded" and f["batch_id"] and f["source"] == "court_case"]
    if not batch_ids:
        return
    subject_ids = sorted(session.scalars(select(SourceRecord.subject_id)
                                         .where(SourceRecord.batch_id.in_(batch_ids)).distinct()))
    changed = lists.sync_court_entries(session, subject_ids, actor)
    for subject_id in changed:
        matches.rematch_subject(session, subject_id)
    session.commit()


def purge_kept_files(session, upload_dir, reject_dir, retention_days, now=None):
    """Remove uploaded originals and reject reports received more than `retention_days` ago, marking
    their batches (which keep checksum and counts); the daily command and each upload call it. The
    caller commits. Returns the figures (a retention.Purge)."""
    return retention.purge(session, upload_dir, reject_dir, int(retention_days), now)


def stage_upload(session, received, upload_name, actor):
    """Stage the run that loads an upload's saved files (an uploads.Received) in the background (the page
    commits it, then submits its job); the archive members refused as damaged join its result."""
    run = IngestionRun(trigger="upload", status="queued", upload_name=upload_name,
                       paths=[str(p) for p in received.paths], files_total=len(received.paths),
                       started_by_id=actor.id if actor else None,
                       summary={"refused": [refused.as_json() for refused in received.refused]})
    session.add(run)
    session.flush()
    audit.record(session, actor, "data.upload", run, file=upload_name, files=len(received.paths),
                 refused=len(received.refused))
    return run


def execute_upload(session, run, region_code):
    """Load the run's files as `ingest` does, committing its progress after each file; the summary and
    the staged re-scoring run (None when nobody is to be re-scored) are committed with its end.

    Returns the Ingestion, or None when the run failed (it then says why).
    """
    runs.begin(session, run)

    def progress(done, total):
        run.files_done, run.files_total, run.heartbeat_at = done, total, utcnow()
        session.commit()

    try:
        actor = session.get(User, run.started_by_id) if run.started_by_id else None
        refused = (run.summary or {}).get("refused", [])
        result = ingest(session, [Path(p) for p in run.paths], region_code, actor, on_file=progress)
        result.summary["files"].extend(refused)
        run.summary = result.summary
        run.scoring_run_id = result.run.id if result.run is not None else None
    except Exception as error:  # a failed run must say why, and must not look as if it were running
        runs.fail(session, run, error)
        return None
    runs.finish(session, run)
    return result

