"""After a fact about one firm changes (a corrected record, a repair, a list entry): its score and
its matches are brought up to date at once, in the deciding request's transaction."""
from flask import current_app

from app.credit.registry import RegistryError
from app.credit.scoring import latest_score

from . import matches, models


def refresh_subject(session, subject_id):
    """Re-score the subject with the active model (when one is active) and re-match its open needs;
    returns its latest score (None when unscored). A model that fails its registry checks scores
    nobody: the old score stays, as after any refused load."""
    session.flush()
    if models.active_version(session) is not None:
        config = current_app.config
        try:
            models.refresh(session, config["MODEL_REGISTRY"], config["REGION_CODE"], [subject_id])
        except RegistryError:
            current_app.logger.exception("re-scoring subject %s: the active model failed to load", subject_id)
    matches.rematch_subject(session, subject_id)
    return latest_score(session, subject_id)
