"""A firm's members: the owner invites colleagues and removes them; other firms' users are not found."""
import re

from sqlalchemy import func

from app.entities import AuditEntry, Invitation, Notification, User
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import login, post_form


def post_action(client, url, page="/firm/members"):
    return client.post(url, data={"csrf_token": csrf_token(page_text(client.get(page)))})


def test_the_owner_invites_a_colleague_who_joins_and_logs_in(app, world):
    owner = logged_in_client(app, world["users"]["firm"])
    response = post_action(owner, "/firm/members/invite")
    assert response.status_code == 200
    code = re.search(r"data-invitation-code>([A-Z0-9-]+)<", page_text(response)).group(1)
    colleague = app.test_client()
    response = post_form(colleague, f"/join?code={code}", {
        "code": code, "display_name": "同事甲", "username": "colleague", "password": "Apple-2026-red",
        "confirm": "Apple-2026-red"})
    assert response.status_code == 302
    fresh = app.test_client()
    assert login(fresh, "colleague", "Apple-2026-red").status_code == 302
    assert "陈炉甲陶瓷有限公司" in page_text(fresh.get("/firm/"))
    assert "同事甲" in page_text(owner.get("/firm/members"))


def test_the_owner_removes_a_member_whose_session_ends(app, world):
    member = factories.UserFactory(username="member", role="firm", subject=world["firm"])
    db.session.commit()
    member_client = logged_in_client(app, member)
    assert member_client.get("/firm/").status_code == 200
    owner = logged_in_client(app, world["users"]["firm"])
    response = post_action(owner, f"/firm/members/{member.id}/remove")
    assert response.status_code == 302
    assert db.session.get(User, member.id).active is False
    assert member_client.get("/firm/").status_code == 302


def test_an_owner_cannot_remove_another_firms_user(app, world):
    owner = logged_in_client(app, world["users"]["firm"])
    other = world["users"]["firm_other"]
    assert post_action(owner, f"/firm/members/{other.id}/remove").status_code == 404
    assert db.session.get(User, other.id).active is True


def test_a_member_who_is_not_the_owner_cannot_invite_or_remove(app, world):
    member = factories.UserFactory(username="member", role="firm", subject=world["firm"])
    db.session.commit()
    client = logged_in_client(app, member)
    assert "/firm/members/invite" not in page_text(client.get("/firm/members"))
    response = post_action(client, "/firm/members/invite")
    assert response.status_code == 302
    assert "只有本主体的账户管理员" in page_text(client.get("/firm/members"))
    post_action(client, f"/firm/members/{world['users']['firm'].id}/remove")
    assert db.session.get(User, world["users"]["firm"].id).active is True


def test_the_owner_hands_ownership_to_a_member_audited_and_notified(app, world):
    old_owner = world["users"]["firm"]
    member = factories.UserFactory(username="member", role="firm", subject=world["firm"], display_name="同事乙")
    db.session.commit()
    page = page_text(logged_in_client(app, old_owner).get("/firm/members"))
    assert f"/firm/members/{member.id}/owner" in page and "data-confirm" in page  # asked before it is done
    response = post_action(logged_in_client(app, old_owner), f"/firm/members/{member.id}/owner")
    assert response.status_code == 302
    assert db.session.get(User, member.id).owner is True and db.session.get(User, old_owner.id).owner is False
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "subject.owner_transfer")).one()
    assert entry.actor_id == old_owner.id and entry.details["to_user"] == "member"
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(db.select(Notification))}
    assert kinds == {(member.id, "ownership_received"), (old_owner.id, "ownership_handed")}
    # The new owner invites; the old one, now a member, no longer can.
    assert post_action(logged_in_client(app, member), "/firm/members/invite").status_code == 200
    post_action(logged_in_client(app, old_owner), "/firm/members/invite")
    assert db.session.scalar(db.select(func.count()).select_from(Invitation)) == 1


def test_ownership_goes_only_to_an_active_member_of_the_same_firm(app, world):
    owner = logged_in_client(app, world["users"]["firm"])
    other_firms_user = world["users"]["firm_other"]
    assert post_action(owner, f"/firm/members/{other_firms_user.id}/owner").status_code == 404
    assert post_action(owner, f"/firm/members/{world['users']['officer'].id}/owner").status_code == 404
    removed = factories.UserFactory(username="gone", role="firm", subject=world["firm"], active=False)
    db.session.commit()
    response = post_action(owner, f"/firm/members/{removed.id}/owner")
    assert response.status_code == 302 and db.session.get(User, removed.id).owner is False
    assert "只能移交给在用的成员" in page_text(owner.get("/firm/members"))
    assert db.session.get(User, world["users"]["firm"].id).owner is True


def test_a_member_who_is_not_the_owner_cannot_hand_ownership(app, world):
    member = factories.UserFactory(username="member", role="firm", subject=world["firm"])
    db.session.commit()
    response = post_action(logged_in_client(app, member), f"/firm/members/{member.id}/owner")
    assert response.status_code == 403
    assert db.session.get(User, member.id).owner is False
    assert db.session.get(User, world["users"]["firm"].id).owner is True
