"""A lender's open applications ranked by the applicants' stored credit scores.

Only an application whose own consent is in force (the one it was made with, not another consent
of the firm to the institution) is ranked by score and shown with its score and reasons; the others
follow, newest first, with no score (their order must not hint at one). Scores and reasons are read
as stored; every score shown is logged as a view under that application's consent.
"""
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from app.common.vocab import OPEN_APPLICATION_STATUSES
from app.credit.scoring import latest_per_subject
from app.entities import Application, Consent, CreditScore

from . import consents

PAGE_SIZE = 50


@dataclass
class RankedApplicant:
    """One row of the ranking: the application, and its score only under its own consent in force."""

    application: Application
    consent_id: int | None
    score: CreditScore | None


def ranked_applicants(session, institution_id, page=1, page_size=PAGE_SIZE, now=None):
    """One page of the institution's open applications, best score first (see the module doc)."""
    applicants = select(Application.subject_id).where(Application.institution_id == institution_id,
                                                      Application.status.in_(OPEN_APPLICATION_STATUSES))
    latest = latest_per_subject(CreditScore.subject_id.in_(applicants))
    shown_score = case((Consent.id.is_not(None), CreditScore.score), else_=None)
    query = (select(Application, Consent.id, CreditScore)
             .outerjoin(Consent, consents.application_consent_joins(now))
             .outerjoin(latest, latest.c.subject_id == Application.subject_id)
             .outerjoin(CreditScore, CreditScore.id == latest.c.id)
             .where(Application.institution_id == institution_id, Application.status.in_(OPEN_APPLICATION_STATUSES))
             .options(joinedload(Application.subject), joinedload(Application.product))
             .order_by(shown_score.is_(None), shown_score.desc(), Application.id.desc())
             .limit(page_size).offset((max(page, 1) - 1) * page_size))
    return [RankedApplicant(application, consent, score if consent is not None else None)
            for application, consent, score in session.execute(query)]


def log_views(session, user, rows):
    """Record each score shown as a view of the applicant's data under its application's consent (查询记录)."""
    consents.log_views(session, user, [(row.application.subject_id, row.consent_id,
                                         f"ranking:application:{row.application.id}")
                                        for row in rows if row.score is not None])
