"""A lender's open applications ranked by the applicants' stored credit scores.

Only an applicant whose consent for the institution is in force is ranked by score and shown with
its score and reasons; the others follow, newest first, with no score (their order must not hint
at one). Scores and reasons are read as stored; every score shown is logged as a view.
"""
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.common.vocab import OPEN_APPLICATION_STATUSES
from app.entities import Application, Consent, CreditScore
from app.entities.base import utcnow

from . import consents

PAGE_SIZE = 50


@dataclass
class RankedApplicant:
    """One row of the ranking: the application, and its score only under a consent in force."""

    application: Application
    consent_id: int | None
    score: CreditScore | None


def _consents_in_force(institution_id, now):
    """The newest underwriting consent in force for the institution, per subject."""
    return (select(Consent.subject_id, func.max(Consent.id).label("consent_id"))
            .where(Consent.institution_id == institution_id, Consent.purpose_code == "underwriting",
                   Consent.status == "active", Consent.valid_from <= now, Consent.valid_to > now)
            .group_by(Consent.subject_id).subquery())


def _latest_scores(institution_id):
    """The latest score id of each subject with an open application to the institution."""
    applicants = select(Application.subject_id).where(Application.institution_id == institution_id,
                                                      Application.status.in_(OPEN_APPLICATION_STATUSES))
    number = func.row_number().over(partition_by=CreditScore.subject_id,
                                    order_by=(CreditScore.computed_at.desc(), CreditScore.id.desc()))
    ranked = (select(CreditScore.id, CreditScore.subject_id, number.label("n"))
              .where(CreditScore.subject_id.in_(applicants)).subquery())
    return select(ranked.c.id, ranked.c.subject_id).where(ranked.c.n == 1).subquery()


def ranked_applicants(session, institution_id, page=1, page_size=PAGE_SIZE):
    """One page of the institution's open applications, best score first (see the module doc)."""
    consents = _consents_in_force(institution_id, utcnow())
    latest = _latest_scores(institution_id)
    shown_score = case((consents.c.consent_id.is_not(None), CreditScore.score), else_=None)
    query = (select(Application, consents.c.consent_id, CreditScore)
             .outerjoin(consents, consents.c.subject_id == Application.subject_id)
             .outerjoin(latest, latest.c.subject_id == Application.subject_id)
             .outerjoin(CreditScore, CreditScore.id == latest.c.id)
             .where(Application.institution_id == institution_id, Application.status.in_(OPEN_APPLICATION_STATUSES))
             .options(joinedload(Application.subject), joinedload(Application.product))
             .order_by(shown_score.is_(None), shown_score.desc(), Application.id.desc())
             .limit(page_size).offset((max(page, 1) - 1) * page_size))
    return [RankedApplicant(application, consent, score if consent is not None else None)
            for application, consent, score in session.execute(query)]


def log_views(session, user, rows):
    """Record each score shown as a view of the applicant's data under its consent (查询记录)."""
    shown = [row for row in rows if row.score is not None]
    in_force = {consent.id: consent for consent in session.scalars(
        select(Consent).where(Consent.id.in_([row.consent_id for row in shown])))}
    for row in shown:
        consents.log_access(session, row.application.subject_id, user, in_force[row.consent_id],
                            f"ranking:application:{row.application.id}")
