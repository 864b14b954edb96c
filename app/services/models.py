"""Model governance and score refresh: activation with a reason, audited; scoring everyone after."""
import json
import time

from sqlalchemy import select, update

from app.credit import registry
from app.credit.features import FEATURE_NAMES
from app.credit.scoring import model_version_row, refresh_scores
from app.entities import ModelVersion, SourceRecord
from app.entities.base import utcnow

from . import audit
from .region import load_region

GOVERNING_ROLES = ("platform_admin", "regulator")


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
    row.metrics = _metrics(bundle)
    audit.record(session, actor, "model.activate", row, version=version, reason=reason.strip(), via=by or "web")
    return bundle


def _metrics(bundle):
    """The headline figures of the version's evaluation report."""
    path = bundle.folder / registry.METRICS_FILE
    report = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in report.items() if not isinstance(v, (list, dict))}


def refresh(session, root, region_code, subject_ids=None):
    """Score subjects with the active model; returns the run's figures."""
    started = time.perf_counter()
    bundle = registry.load_active(root, FEATURE_NAMES)
    towns = [t["code"] for t in load_region(region_code)["towns"]]
    scored = refresh_scores(session, bundle, towns, subject_ids)
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
