"""Activating a model version: the one flow behind the model admin page and `flask models activate`.

The active version lives in the database only (`ModelVersion.is_active`, with who, when and why),
so it is written in the caller's transaction and a rollback leaves no trace. The activation
stages a run that re-scores everyone with the new version: the page launches it in the
background after its commit, the command executes it in-process.
"""
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.common.errors import InvalidInput
from app.credit.scoring import model_version_row
from app.entities import AuditEntry, ModelVersion
from app.entities.base import utcnow

from . import audit, models, scoring_runs

# The reason is kept in the audit log and shown on the model page.
MAX_REASON = 500


def _holdout_auc(folder):
    """A version's holdout AUC and its own baseline's (the WOE scorecard's), from its metrics; None if absent."""
    try:
        figures = models.headline_metrics(folder)
    except (OSError, ValueError):
        return None, None
    return figures.get("auc"), figures.get("baseline_auc")


def losses(session, root, version):
    """Why `version` should not become active: the figures it loses on, in the user's language (empty: none).

    A version loses when its holdout AUC is below its own baseline's (the WOE scorecard fitted on the
    same training loans) or below the active version's holdout AUC.
    """
    found = []
    model_auc, baseline_auc = _holdout_auc(Path(root) / version)
    if model_auc is not None and baseline_auc is not None and model_auc < baseline_auc:
        found.append(_("留出样本 AUC %(a).3f 低于其基准评分卡的 %(b).3f", a=model_auc, b=baseline_auc))
    active = models.active_version(session)
    if active and active != version and model_auc is not None:
        active_auc, _baseline = _holdout_auc(Path(root) / active)
        if active_auc is not None and model_auc < active_auc:
            found.append(_("留出样本 AUC %(a).3f 低于启用中版本 %(v)s 的 %(b).3f", a=model_auc, v=active, b=active_auc))
    return found


def activate(session, root, version, actor, reason, via, override=None):
    """Make `version` the active model and stage the run that re-scores everyone; returns the run.

    Refused with InvalidInput without a reason, or when the version loses to its own baseline or to the
    active version (`losses`) and no `override` reason says why it is activated all the same; NotAllowed
    while a full run is in progress (it would finish with the old model's scores) and RegistryError for
    a version that fails a registry check. `via` says where the decision was taken (e.g. "web:admin",
    "cli:operator"), for the audit log, which also keeps the losses and the override reason.
    """
    reason = (reason or "").strip()
    override = (override or "").strip()
    if not reason:
        raise InvalidInput(_("请写明启用理由。"), field="reason")
    if len(reason) > MAX_REASON or len(override) > MAX_REASON:
        raise InvalidInput(_("启用理由不能超过 %(n)d 个字符。", n=MAX_REASON), field="reason")
    scoring_runs.refuse_during_full_run(session)
    bundle = models.scorer(root, version).bundle
    lost = losses(session, root, version)
    if lost and not override:
        raise InvalidInput(_("该版本不如现有模型：%(why)s。如仍要启用，请写明强制启用理由。", why="；".join(lost)),
                           field="override")
    row = model_version_row(session, bundle)
    session.execute(update(ModelVersion).where(ModelVersion.is_active, ModelVersion.id != row.id)
                    .values(is_active=False))
    row.is_active = True
    row.activated_at = utcnow()
    row.activated_by_id = actor.id if actor else None
    row.activation_reason = reason
    row.metrics = models.headline_metrics(bundle.folder)
    session.flush()
    extra = {"override": override, "losses": "；".join(lost)} if lost else {}
    audit.record(session, actor, "model.activate", row, version=version, reason=reason, via=via, **extra)
    return scoring_runs.start(session, "activation", actor)


def history(session):
    """Every activation, oldest first (from the audit log): version, when, where from and why."""
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "model.activate")
                              .order_by(AuditEntry.at, AuditEntry.id))
    return [{"version": e.details.get("version"), "at": e.at, "by": e.details.get("via"),
             "reason": e.details.get("reason"), "override": e.details.get("override")} for e in entries]
