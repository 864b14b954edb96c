"""A firm's release of its identity to a lender's screening (在线优企筛选).

A release is a consent for the screening purpose (PIPL art. 23: recipient, purpose and data named): it
is listed with the firm's other consents, ends on its date, and is revoked like any of them.
"""
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import NotAllowed
from app.entities import Consent, Institution
from app.entities.base import utcnow

from . import audit, consents


def release(session, subject, institution, user):
    """Stage a release of the subject's identity to the institution's screening: a screening consent."""
    if not institution.active:
        raise NotAllowed(_("该机构已暂停服务。"))
    if consents.consent_in_force(session, subject.id, institution.id, consents.SCREENING) is not None:
        raise NotAllowed(_("您已向该机构公开身份。"))
    consent = consents.grant_screening_consent(session, subject, institution, user)
    audit.record(session, user, "identity.release", consent, institution=institution.name)
    return consent


def releases_of(session, subject_id):
    """A subject's releases (its screening consents), newest first."""
    return consents.consents_of(session, subject_id, consents.SCREENING)


def released_to(session, subject_id, now=None):
    """The ids of the institutions whose screening may show the subject now."""
    query = select(Consent.institution_id).where(Consent.subject_id == subject_id,
                                                 Consent.purpose_code == consents.SCREENING,
                                                 Consent.is_in_force(now or utcnow()))
    return set(session.scalars(query))


def institutions(session):
    """Active institutions a firm may release its identity to, by name."""
    return session.scalars(select(Institution).where(Institution.active.is_(True)).order_by(Institution.name)).all()
