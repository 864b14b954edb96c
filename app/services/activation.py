"""Activating a model version: the one flow behind the model admin page and `flask models activate`.

The active version lives in the database only (`ModelVersion.is_active`, with who, when and why),
so it is written in the caller's transaction and a rollback leaves no trace. The activation
stages a run that re-scores everyone with the new version: the page launches it in the
background after its commit, the command executes it in-process.
"""
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.common.errors import InvalidInput
from app.credit.scoring import model_version_row
from app.entities import AuditEntry, ModelVersion
from app.entities.base import utcnow

from . import audit, models, scoring_runs

# The reason is kept in the audit log and shown on the model page.
MAX_REASON = 500


def activate(session, root, version, actor, reason, via):
    """Make `version` the active model and stage the run that re-scores everyone; returns the run.

    Refused with InvalidInput without a reason, NotAllowed while a full run is in progress (it would
    finish with the old model's scores) and RegistryError for a version that fails a registry check.
    `via` says where the decision was taken (e.g. "web:admin", "cli:operator"), for the audit log.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请写明启用理由。"), field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("启用理由不能超过 %(n)d 个字符。", n=MAX_REASON), field="reason")
    scoring_runs.refuse_during_full_run(session)
    bundle = models.scorer(root, version).bundle
    row = model_version_row(session, bundle)
    session.execute(update(ModelVersion).where(ModelVersion.is_active, ModelVersion.id != row.id)
                    .values(is_active=False))
    row.is_active = True
    row.activated_at = utcnow()
    row.activated_by_id = actor.id if actor else None
    row.activation_reason = reason
    row.metrics = models.headline_metrics(bundle.folder)
    session.flush()
    audit.record(session, actor, "model.activate", row, version=version, reason=reason, via=via)
    return scoring_runs.start(session, "activation", actor)


def history(session):
    """Every activation, oldest first (from the audit log): version, when, where from and why."""
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "model.activate")
                              .order_by(AuditEntry.at, AuditEntry.id))
    return [{"version": e.details.get("version"), "at": e.at, "by": e.details.get("via"),
             "reason": e.details.get("reason")} for e in entries]
