"""Consents (信用主体授权): granting, checking and revoking."""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from app.common.errors import NotAllowed
from app.common.vocab import DATA_CATEGORIES
from app.entities import Consent, DataAccessLog
from app.entities.base import utcnow

from . import audit

# An underwriting consent covers every data category (DESIGN §3 sources).
UNDERWRITING_CATEGORIES = DATA_CATEGORIES
# Of several consents in force, the one a view is logged under.
LONGEST_FIRST = (Consent.valid_to.desc(), Consent.id.desc())


def grant_underwriting_consent(session, subject, institution, user, purpose_text):
    """Stage a short underwriting consent of `subject` for `institution` (PIPL art. 23)."""
    now = utcnow()
    consent = Consent(
        subject_id=subject.id, institution_id=institution.id, purpose_code="underwriting",
        purpose_text=purpose_text, data_categories=list(UNDERWRITING_CATEGORIES),
        data_from=(now - timedelta(days=3 * 365)).date(), data_to=now.date(),
        fetch_frequency="once", data_life_days=current_app.config["UNDERWRITING_CONSENT_DAYS"],
        valid_from=now, valid_to=now + timedelta(days=current_app.config["UNDERWRITING_CONSENT_DAYS"]),
        status="active", granted_by_id=user.id,
    )
    session.add(consent)
    session.flush()
    audit.record(session, user, "consent.grant", consent, institution=institution.name)
    return consent


def in_force(institution_id, purpose="underwriting", now=None):
    """The SQL condition "a consent to `institution_id` for `purpose`, in force at `now` (default: now)"."""
    return and_(Consent.institution_id == institution_id, Consent.purpose_code == purpose,
                Consent.is_in_force(now or utcnow()))


def consent_in_force(session, subject_id, institution_id, purpose="underwriting", now=None):
    """The subject's consent to the institution for the purpose in force now, or None.

    Of several, the one that runs longest (then the newest): views are logged under it.
    """
    query = (select(Consent).where(Consent.subject_id == subject_id, in_force(institution_id, purpose, now))
             .order_by(*LONGEST_FIRST))
    return session.scalars(query).first()


def consents_in_force(institution_id, purpose="underwriting", now=None):
    """A subquery (subject_id, consent_id): for each subject, the consent `consent_in_force` returns."""
    number = func.row_number().over(partition_by=Consent.subject_id, order_by=LONGEST_FIRST)
    ranked = (select(Consent.subject_id, Consent.id.label("consent_id"), number.label("n"))
              .where(in_force(institution_id, purpose, now)).subquery())
    return select(ranked.c.subject_id, ranked.c.consent_id).where(ranked.c.n == 1).subquery()


def subjects_with_consent(session, institution_id, subject_ids, purpose="underwriting", now=None):
    """The ids among `subject_ids` whose consent to the institution for the purpose is in force."""
    query = select(Consent.subject_id).distinct().where(Consent.subject_id.in_(list(subject_ids)),
                                                        in_force(institution_id, purpose, now))
    return set(session.scalars(query))


def revoke(session, consent, user):
    """Revoke an active consent; the lender stops seeing the subject's data."""
    if consent.status_at(utcnow()) != "active":
        raise NotAllowed(_("该授权已不在有效状态。"))
    consent.status = "revoked"
    consent.revoked_at = utcnow()
    audit.record(session, user, "consent.revoke", consent)


def log_access(session, subject_id, user, consent, what):
    """Stage a 查询记录 entry: who looked at which of the subject's data, under which consent."""
    session.add(DataAccessLog(subject_id=subject_id, user_id=user.id,
                              institution_id=user.institution_id,
                              consent_id=consent.id if consent else None,
                              purpose=consent.purpose_code if consent else "supervision", what=what))


def consents_of(session, subject_id):
    """A subject's consents, newest first."""
    return session.scalars(select(Consent).where(Consent.subject_id == subject_id)
                           .order_by(Consent.id.desc())).all()


def access_log_of(session, subject_id, limit=100):
    """The latest views of a subject's data, newest first."""
    return session.scalars(select(DataAccessLog).where(DataAccessLog.subject_id == subject_id)
                           .order_by(DataAccessLog.id.desc()).limit(limit)).all()
