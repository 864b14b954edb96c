"""Who works for a firm or an institution: joining a subject with a code, a firm owner's colleagues,
an institution admin's officers (docs/accounts.md)."""
import hmac

from flask_babel import gettext as _
from sqlalchemy import select

from app.common import idnumbers
from app.common.errors import InvalidInput, NotAllowed
from app.entities import User
from app.entities.users import FIRM, LENDER_OFFICER, MEMBER_INVITATION, SUBJECT_CODE

from . import accounts, audit, invitations, notifications
from .subjects import valid_id_number


def check_legal_rep(subject, id_number, key):
    """Refuse a subject code unless the ID number is the legal representative's, where the data has one.

    The keyed hash, when stored, must match exactly; a mask alone can only be compared on the
    characters it shows. A subject whose data holds neither is claimed by the code alone.
    """
    if subject.legal_rep_id_hash is None and subject.legal_rep_id_masked is None:
        return
    number = valid_id_number(id_number)
    if subject.legal_rep_id_hash is not None:
        agrees = hmac.compare_digest(idnumbers.keyed_hash(number, key), subject.legal_rep_id_hash)
    else:
        agrees = idnumbers.matches_mask(number, subject.legal_rep_id_masked)
    if not agrees:
        raise InvalidInput(_("身份证号码与该主体登记的法定代表人不一致。"), "id_number")


def join(session, code, id_number, username, password, display_name, key):
    """Stage a firm user who joins a subject with an invitation code; returns the user.

    A subject code (from the platform admin) needs the legal representative's ID number where the
    data has it and makes the user the subject's owner; a colleague's invitation makes a member.
    """
    invitation = invitations.usable(session, code)
    subject = invitation.subject
    if invitation.kind == SUBJECT_CODE:
        check_legal_rep(subject, id_number, key)
    user = accounts.create_user(session, username, password, FIRM, display_name, subject=subject)
    user.owner = invitation.kind == SUBJECT_CODE
    session.flush()
    invitations.mark_used(invitation, user)
    audit.record(session, user, f"subject.join.{invitation.kind}", subject, username=user.username)
    return user


def _require_owner(user):
    if user.role != FIRM or not user.owner or not user.active:
        raise NotAllowed(_("只有本主体的账户管理员可以邀请或移除成员。"))


def invite(session, owner, days):
    """Stage an invitation of a colleague to the owner's subject; returns (invitation, code)."""
    _require_owner(owner)
    return invitations.issue(session, MEMBER_INVITATION, owner.subject, owner, days)


def remove(session, owner, member):
    """Stage the removal of a colleague from the owner's subject: the account is deactivated, its
    sessions end, and its history (needs, applications, consents it gave) stays attributed to it."""
    _require_owner(owner)
    if member.subject_id != owner.subject_id or member.role != FIRM:
        raise NotAllowed(_("该用户不属于本主体。"))
    if member.id == owner.id:
        raise NotAllowed(_("不能移除自己的账户。"))
    if not member.active:
        raise NotAllowed(_("该成员已被移除。"))
    member.active = False
    accounts.end_all_sessions(member)
    audit.record(session, owner, "subject.member_remove", member, username=member.username)


def transfer_ownership(session, owner, member):
    """Stage the hand-over of the subject's ownership to an active colleague: the owner becomes a member,
    both are notified, and the audit log names both."""
    _require_owner(owner)
    if member.subject_id != owner.subject_id or member.role != FIRM:
        raise NotAllowed(_("该用户不属于本主体。"))
    if member.id == owner.id:
        raise NotAllowed(_("您已是本主体的账户管理员。"))
    if not member.active:
        raise NotAllowed(_("只能移交给在用的成员。"))
    owner.owner, member.owner = False, True
    audit.record(session, owner, "subject.owner_transfer", member, subject=owner.subject_id,
                 to_user=member.username)
    notifications.notify(session, member, "ownership_received", link="/firm/members", owner=owner.display_name)
    notifications.notify(session, owner, "ownership_handed", link="/firm/members", member=member.display_name)


def members_of(session, subject_id):
    """The subject's users, owners first, then by username."""
    return session.scalars(select(User).where(User.subject_id == subject_id, User.role == FIRM)
                           .order_by(User.active.desc(), User.owner.desc(), User.username)).all()


def create_officer(session, admin, username, display_name, password):
    """Stage a loan officer of the admin's institution, whose generated `password` is changed at first login."""
    officer = accounts.create_user(session, username, password, LENDER_OFFICER, display_name,
                                   institution=admin.institution)
    officer.password_temporary = True
    session.flush()
    audit.record(session, admin, "institution.officer_create", officer, username=officer.username)
    return officer


def officers_of(session, institution_id):
    """The institution's loan officers, active first, by username."""
    return session.scalars(select(User).where(User.institution_id == institution_id, User.role == LENDER_OFFICER)
                           .order_by(User.active.desc(), User.username)).all()
