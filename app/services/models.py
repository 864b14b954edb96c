"""Model governance and score refresh: activation with a reason, audited; scoring everyone after."""
import json
import threading
import time
from pathlib import Path

from sqlalchemy import select, update

from app.common.region import load_region
from app.credit import registry
from app.credit.features import FEATURE_NAMES
from app.credit.scoring import Scorer, model_version_row, refresh_scores
from app.entities import ModelVersion, SourceRecord
from app.entities.base import utcnow

from . import audit

_SCORERS = {}
_SCORERS_LOCK = threading.Lock()


def activate_version(session, root, version, actor, reason, by=None):
    """Activate `version` in the registry and in the database; stages the audit entry."""
    bundle = registry.activate(root, version, by or (actor.username if actor else "unknown"), reason,
                               FEATURE_NAMES)
    row = model_version_row(session, bundle)
    session.execute(update(ModelVersion).values(is_active=False))
    row.is_active = True
    row.activated_at = utcnow()
    row.activated_by_id = actor.id if actor else None
    row.activation_reason = reason.strip()
    row.metrics = headline_metrics(bundle.folder)
    audit.record(session, actor, "model.activate", row, version=version, reason=reason.strip(), via=by or "web")
    return bundle


def headline_metrics(folder):
    """The headline figures of a version's evaluation report (its metrics.json, no tables)."""
    report = json.loads((Path(folder) / registry.METRICS_FILE).read_text(encoding="utf-8"))
    return {k: v for k, v in report.items() if not isinstance(v, (list, dict))}


def scorer(root, version=None):
    """A Scorer of `version` (the active one when None), loaded with every registry check.

    Loaded once per state of the version's files: a changed file is checked (and refused) again.
    """
    version = version or registry.read_registry(root)["active"]
    if version is None:
        raise registry.RegistryError(f"no active model version in {root}")
    folder = Path(root) / version
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                  for p in sorted(folder.iterdir()) if p.is_file()) if folder.is_dir() else ()
    key = (str(folder.resolve()), stamp)
    with _SCORERS_LOCK:
        found = _SCORERS.get(key)
    if found is None:
        found = Scorer(registry.load_version(folder, FEATURE_NAMES))
        with _SCORERS_LOCK:
            if len(_SCORERS) >= 8:
                _SCORERS.clear()
            _SCORERS[key] = found
    return found


def region_towns(region_code):
    """The town codes of the region (the category levels of the `town` feature)."""
    return [t["code"] for t in load_region(region_code)["towns"]]


def refresh(session, root, region_code, subject_ids=None, on_chunk=None):
    """Score subjects with the active model; returns the run's figures."""
    started = time.perf_counter()
    bundle = scorer(root).bundle
    scored = refresh_scores(session, bundle, region_towns(region_code), subject_ids, on_chunk=on_chunk)
    return {"model_version": bundle.version, "scored": scored, "seconds": round(time.perf_counter() - started, 2)}


def touched_subjects(session, summary):
    """The subjects whose records a run of ingestion inserted or corrected."""
    batch_ids = [f["batch_id"] for f in summary["files"] if f["status"] == "loaded" and f["batch_id"]]
    if not batch_ids:
        return []
    query = select(SourceRecord.subject_id).where(SourceRecord.batch_id.in_(batch_ids)).distinct()
    return list(session.scalars(query))


def rescore_after_ingest(session, root, region_code, summary):
    """Re-score only the subjects an ingestion run touched, when a model is active; else None."""
    if registry.read_registry(root)["active"] is None:
        return None
    subject_ids = touched_subjects(session, summary)
    if not subject_ids:
        return {"scored": 0}
    return refresh(session, root, region_code, subject_ids)
