"""Joining a subject with a code, a firm owner's colleagues, an institution's officers."""
import pytest
from stdnum.cn import ric

from app.common import idnumbers
from app.common.errors import InvalidInput, NotAllowed
from app.entities.users import MEMBER_INVITATION, SUBJECT_CODE
from app.extensions import db
from app.services import accounts, invitations, members

from .. import factories

KEY = "test-id-key"
BODY = "61020319800101123"
REP_ID = BODY + ric.calc_check_digit(BODY + "0")
OTHER_BODY = "61020319900202456"
OTHER_ID = OTHER_BODY + ric.calc_check_digit(OTHER_BODY + "0")


def subject_code(world, subject=None):
    _invitation, code = invitations.issue(db.session, SUBJECT_CODE, subject or world["firm"],
                                          world["users"]["platform_admin"], 14)
    db.session.commit()
    return code


def join(code, id_number=None, username="newowner"):
    return members.join(db.session, code, id_number, username, "Apple-2026-red", "王五", KEY)


def test_a_subject_without_id_data_is_claimed_by_the_code_and_its_user_owns_it(app, world):
    user = join(subject_code(world))
    db.session.commit()
    assert user.subject == world["firm"] and user.owner and user.role == "firm"


def test_the_code_works_once(app, world):
    code = subject_code(world)
    join(code)
    with pytest.raises(InvalidInput, match="已被使用"):
        join(code, username="second")


def test_a_stored_id_hash_must_match_exactly(app, world):
    world["firm"].legal_rep_id_hash = idnumbers.keyed_hash(REP_ID, KEY)
    code = subject_code(world)
    with pytest.raises(InvalidInput, match="请输入身份证号码") as caught:
        join(code)
    assert caught.value.field == "id_number"
    with pytest.raises(InvalidInput, match="不一致"):
        join(code, OTHER_ID)
    assert join(code, REP_ID.lower()).owner


def test_a_mask_alone_is_compared_on_what_it_shows(app, world):
    world["firm"].legal_rep_id_masked = idnumbers.mask(REP_ID)
    code = subject_code(world)
    with pytest.raises(InvalidInput, match="不一致"):
        join(code, OTHER_ID)
    assert join(code, REP_ID).subject == world["firm"]


def test_a_wrong_check_digit_is_refused_before_comparing(app, world):
    world["firm"].legal_rep_id_masked = idnumbers.mask(REP_ID)
    wrong = REP_ID[:-1] + ("0" if REP_ID[-1] != "0" else "1")
    with pytest.raises(InvalidInput, match="校验位"):
        join(subject_code(world), wrong)


def test_a_duplicate_username_is_refused_and_the_code_stays_usable(app, world):
    code = subject_code(world)
    with pytest.raises(InvalidInput, match="已被使用") as caught:
        join(code, username="officer")
    assert caught.value.field == "username"
    db.session.rollback()
    assert invitations.usable(db.session, code)


def test_an_owner_invites_a_colleague_who_joins_as_a_member(app, world):
    owner = world["users"]["firm"]
    _invitation, code = members.invite(db.session, owner, 7)
    colleague = join(code, username="colleague")  # no ID number needed for a colleague
    assert colleague.subject == world["firm"] and not colleague.owner
    assert [m.username for m in members.members_of(db.session, world["firm"].id)] == ["firm", "colleague"]


def test_only_an_owner_invites_and_removes(app, world):
    member = factories.UserFactory(username="member", role="firm", subject=world["firm"])
    with pytest.raises(NotAllowed):
        members.invite(db.session, member, 7)
    with pytest.raises(NotAllowed):
        members.remove(db.session, member, world["users"]["firm"])


def test_removing_a_member_ends_their_sessions(app, world):
    owner = world["users"]["firm"]
    member = factories.UserFactory(username="member", role="firm", subject=world["firm"])
    token = member.session_token
    members.remove(db.session, owner, member)
    assert not member.active and member.session_token != token
    assert accounts.load_session_user(db.session, f"{member.id}:{member.session_token}") is None
    with pytest.raises(NotAllowed):
        members.remove(db.session, owner, owner)
    with pytest.raises(NotAllowed):
        members.remove(db.session, owner, world["users"]["firm_other"])


def test_an_admin_creates_officers_of_its_own_institution(app, world):
    admin = world["users"]["lender_admin"]
    officer = members.create_officer(db.session, admin, "new_officer", "赵六", accounts.temporary_password())
    assert officer.institution == world["bank_a"] and officer.role == "lender_officer"
    assert [o.username for o in members.officers_of(db.session, world["bank_a"].id)] == ["new_officer", "officer"]


def test_member_invitations_are_listed_until_used(app, world):
    _invitation, code = members.invite(db.session, world["users"]["firm"], 7)
    assert len(invitations.pending(db.session, world["firm"].id, MEMBER_INVITATION)) == 1
    join(code, username="colleague")
    assert invitations.pending(db.session, world["firm"].id, MEMBER_INVITATION) == []
