"""Activating a model version: the one flow behind the model admin page and `flask models activate`.

The active version lives in the database only (`ModelVersion.is_active`, with who, when and why),
so it is written in the caller's transaction and a rollback leaves no trace. The activation
stages a run that re-scores everyone with the new version: the page launches it in the
background after its commit, the command executes it in-process.
"""
import math
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


# A loss blocks activation only when it is larger than the holdout's own noise: the AUCs' difference beyond
# Z standard errors (Hanley & McNeil's, from the holdout's loans and defaults; 2.576 ≈ 99 % one-sided). With a
# few dozen defaults the AUC moves by 0.05 between samples, and such a "loss" is no evidence either way.
Z = 2.576


def _holdout(folder):
    """A version's holdout AUC, its own baseline's (the WOE scorecard's) and the holdout's loans and defaults,
    from its metrics; Nones where absent."""
    try:
        figures = models.headline_metrics(folder)
    except (OSError, ValueError):
        return None, None, None, None
    return figures.get("auc"), figures.get("baseline_auc"), figures.get("n"), figures.get("bads")


def auc_standard_error(auc, loans, defaults):
    """Hanley & McNeil's (1982) standard error of an AUC measured on `loans` of which `defaults` defaulted;
    0 when the counts are unknown (the comparison is then taken at face value)."""
    if not loans or not defaults or defaults >= loans:
        return 0.0
    goods = loans - defaults
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (defaults - 1) * (q1 - auc * auc) + (goods - 1) * (q2 - auc * auc)) \
        / (defaults * goods)
    return math.sqrt(max(variance, 0.0))


def clearly_below(auc, other, auc_se, other_se):
    """Whether `auc` is below `other` by more than Z standard errors of their difference."""
    return auc < other - Z * math.hypot(auc_se, other_se)


def losses(session, root, version):
    """Why `version` should not become active: the figures it clearly loses on, in the user's language (empty:
    none).

    A version loses when its holdout AUC is clearly below its own baseline's (the WOE scorecard fitted on the
    same training loans, measured on the same holdout) or the active version's holdout AUC (clearly: beyond
    the holdouts' noise, `clearly_below`).
    """
    found = []
    model_auc, baseline_auc, loans, defaults = _holdout(Path(root) / version)
    if model_auc is None:
        return found
    model_se = auc_standard_error(model_auc, loans, defaults)
    if baseline_auc is not None and clearly_below(model_auc, baseline_auc, model_se,
                                                  auc_standard_error(baseline_auc, loans, defaults)):
        found.append(_("留出样本 AUC %(a).3f 低于其基准评分卡的 %(b).3f", a=model_auc, b=baseline_auc))
    active = models.active_version(session)
    if active and active != version:
        active_auc, _baseline, active_loans, active_defaults = _holdout(Path(root) / active)
        if active_auc is not None and clearly_below(model_auc, active_auc, model_se,
                                                    auc_standard_error(active_auc, active_loans, active_defaults)):
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
