"""Invitation codes: issued once, stored hashed, opened once, before they expire."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.errors import InvalidInput
from app.entities import AuditEntry, Invitation
from app.entities.base import utcnow
from app.entities.users import MEMBER_INVITATION, SUBJECT_CODE
from app.extensions import db
from app.services import invitations


@pytest.fixture
def issued(app, world):
    admin = world["users"]["platform_admin"]
    invitation, code = invitations.issue(db.session, SUBJECT_CODE, world["firm"], admin, days=14)
    db.session.commit()
    return invitation, code


def test_the_code_is_stored_only_as_its_hash(issued):
    invitation, code = issued
    assert code not in invitation.code_hash and invitation.code_hash == invitations.digest(code)
    assert len(invitations.normalise_code(code)) == invitations.CODE_LENGTH


def test_a_code_opens_its_invitation_however_it_is_typed(issued):
    invitation, code = issued
    assert invitations.usable(db.session, code.lower().replace("-", " ")) == invitation


@pytest.mark.parametrize(("change", "says"), [
    (lambda i: setattr(i, "used_at", utcnow()), "已被使用"),
    (lambda i: setattr(i, "revoked_at", utcnow()), "已作废"),
    (lambda i: setattr(i, "expires_at", utcnow() - timedelta(minutes=1)), "已过期"),
])
def test_a_used_revoked_or_expired_code_is_refused_with_the_reason(issued, change, says):
    invitation, code = issued
    change(invitation)
    db.session.commit()
    with pytest.raises(InvalidInput, match=says) as caught:
        invitations.usable(db.session, code)
    assert caught.value.field == "code"


def test_a_wrong_code_is_refused(issued):
    with pytest.raises(InvalidInput, match="不正确"):
        invitations.usable(db.session, "ACDE-FGHJ-KMNP")
    with pytest.raises(InvalidInput, match="12 位"):
        invitations.usable(db.session, "ACDE")


def test_a_new_subject_code_replaces_the_unused_one(issued, world):
    first, first_code = issued
    second, _code = invitations.issue(db.session, SUBJECT_CODE, world["firm"], world["users"]["platform_admin"], 14)
    db.session.commit()
    assert first.revoked_at is not None and second.revoked_at is None
    with pytest.raises(InvalidInput, match="已作废"):
        invitations.usable(db.session, first_code)
    assert invitations.pending(db.session, world["firm"].id, SUBJECT_CODE) == [second]


def test_member_invitations_do_not_replace_each_other(app, world):
    owner = world["users"]["firm"]
    for _ in range(2):
        invitations.issue(db.session, MEMBER_INVITATION, world["firm"], owner, 7)
    db.session.commit()
    assert len(invitations.pending(db.session, world["firm"].id, MEMBER_INVITATION)) == 2
    assert db.session.scalar(select(func.count(Invitation.id))) == 2
    issued = select(func.count(AuditEntry.id)).where(AuditEntry.action == "invitation.issue.member")
    assert db.session.scalar(issued) == 2
