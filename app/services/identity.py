"""A firm's release of its identity to a lender's screening (在线优企筛选), recorded and revocable."""
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import NotAllowed
from app.entities import IdentityRelease, Institution
from app.entities.base import utcnow

from . import audit


def active_release(session, subject_id, institution_id):
    """The subject's active release to the institution, or None."""
    query = select(IdentityRelease).where(IdentityRelease.subject_id == subject_id,
                                          IdentityRelease.institution_id == institution_id,
                                          IdentityRelease.status == "active")
    return session.scalars(query).first()


def released_subjects(session, institution_id, subject_ids):
    """Which of `subject_ids` have released their identity to the institution."""
    if not subject_ids:
        return set()
    query = select(IdentityRelease.subject_id).where(IdentityRelease.institution_id == institution_id,
                                                     IdentityRelease.status == "active",
                                                     IdentityRelease.subject_id.in_(list(subject_ids)))
    return set(session.scalars(query))


def release(session, subject, institution, user):
    """Stage a release of the subject's identity to the institution's screening."""
    if not institution.active:
        raise NotAllowed(_("该机构已暂停服务。"))
    if active_release(session, subject.id, institution.id) is not None:
        raise NotAllowed(_("您已向该机构公开身份。"))
    entry = IdentityRelease(subject_id=subject.id, institution_id=institution.id, released_by_id=user.id,
                            status="active")
    session.add(entry)
    session.flush()
    audit.record(session, user, "identity.release", entry, institution=institution.name)
    return entry


def revoke(session, entry, user):
    """Revoke a release: the institution sees the firm only anonymised again."""
    if entry.status != "active":
        raise NotAllowed(_("该公开记录已撤回。"))
    entry.status = "revoked"
    entry.revoked_at = utcnow()
    entry.revoked_by_id = user.id
    audit.record(session, user, "identity.revoke", entry, institution=entry.institution.name)


def releases_of(session, subject_id):
    """A subject's releases, newest first."""
    return session.scalars(select(IdentityRelease).where(IdentityRelease.subject_id == subject_id)
                           .order_by(IdentityRelease.id.desc())).all()


def institutions(session):
    """Active institutions a firm may release its identity to, by name."""
    return session.scalars(select(Institution).where(Institution.active.is_(True)).order_by(Institution.name)).all()
