"""Notifications: who gets them, their text in the reader's language, reminders sent once, read marks,
and the e-mail/SMS copies in the outbox."""
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.entities import Notification, OutboxMessage
from app.entities.base import utcnow
from app.extensions import db
from app.services import applications, notifications

from ..factories import UserFactory, offer, put_in_status


def _kinds(user):
    return [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                                .order_by(Notification.id))]


def test_a_firm_notification_reaches_every_active_user_of_the_firm(app, world):
    colleague = UserFactory(role="firm", subject=world["firm"])
    UserFactory(role="firm", subject=world["firm"], active=False)
    staged = notifications.notify(db.session, world["firm"], "decision", institution="甲银行", application=7,
                                  outcome="approved")
    assert sorted(n.user_id for n in staged) == sorted([world["users"]["firm"].id, colleague.id])


def test_the_text_is_written_in_the_readers_language(app, world):
    [note] = notifications.notify(db.session, world["users"]["firm"], "decision", institution="甲银行",
                                  application=7, outcome="declined")
    with app.test_request_context():
        assert notifications.text_of(note) == "甲银行 对您的申请 #7 作出了决定：不予批准。"
        with force_locale("en"):
            assert "declined" in notifications.text_of(note) and "#7" in notifications.text_of(note)


def test_an_unknown_kind_is_refused(app, world):
    with pytest.raises(KeyError):
        notifications.notify(db.session, world["users"]["firm"], "lottery_won")


def test_request_info_and_decisions_notify_the_firm(app, world):
    officer, application = world["users"]["officer"], world["application"]
    applications.start_review(application, officer)
    applications.request_info(application, officer, "请补充近三个月的银行流水。")
    db.session.commit()
    applications.answer_info_request(application, world["users"]["firm"], "已上传。")
    applications.approve(db.session, application, officer, offer())
    db.session.commit()
    assert _kinds(world["users"]["firm"]) == ["info_requested", "decision"]
    decision = db.session.scalars(select(Notification).where(Notification.kind == "decision")).one()
    assert decision.params["outcome"] == "approved" and decision.link == f"/firm/applications/{application.id}"
    assert _kinds(world["users"]["firm_other"]) == []


def test_reminders_of_ending_offers_and_consents_are_sent_once(app, world):
    application = put_in_status(world, "approved")
    application.offer_valid_until = local_date() + timedelta(days=2)
    world["consent"].valid_to = utcnow() + timedelta(days=3)
    db.session.commit()
    assert notifications.remind(db.session) == {"offers": 1, "consents": 1}
    db.session.commit()
    assert notifications.remind(db.session) == {"offers": 0, "consents": 0}
    assert sorted(_kinds(world["users"]["firm"])) == ["consent_expiring", "offer_expiring"]


def test_offers_and_consents_far_from_their_end_are_not_reminded(app, world):
    application = put_in_status(world, "approved")
    application.offer_valid_until = local_date() + timedelta(days=20)
    db.session.commit()
    assert notifications.remind(db.session) == {"offers": 0, "consents": 0}


def test_read_marks_and_counts(app, world):
    user = world["users"]["firm"]
    first, second = (notifications.notify(db.session, user, "objection_answered", objection=n)[0] for n in (1, 2))
    assert notifications.unread_count(db.session, user) == 2
    notifications.mark_read(first)
    assert notifications.unread_count(db.session, user) == 1
    assert notifications.mark_all_read(db.session, user) == 1
    db.session.expire_all()
    assert notifications.unread_count(db.session, user) == 0 and second.read_at is not None
    assert notifications.unread_count(db.session, world["users"]["officer"]) == 0


def test_copies_go_to_the_outbox_for_configured_channels_only(app, world):
    user = world["users"]["firm"]
    notifications.set_contacts(db.session, user, "boss@example.cn", "13912345678")
    notifications.notify(db.session, user, "decision", institution="甲银行", application=7, outcome="approved")
    notifications.notify(db.session, user, "message", sender="甲银行", topic="need")
    notifications.notify(db.session, world["users"]["firm_other"], "decision", institution="甲银行", application=8,
                         outcome="declined")
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.channel, r.to) for r in rows] == [("email", "boss@example.cn"), ("sms", "13912345678"),
                                                 ("email", "boss@example.cn")]
    assert rows[0].status == "pending" and "批准" in rows[0].body


@pytest.mark.parametrize("email, phone, field", [("not-an-address", "", "email"), ("", "12345", "phone"),
                                                 ("a@b", "", "email"), ("", "1391234567x", "phone")])
def test_malformed_contacts_are_refused(app, world, email, phone, field):
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        notifications.set_contacts(db.session, world["users"]["firm"], email, phone)
    assert refused.value.field == field


def test_blank_contacts_are_removed(app, world):
    user = world["users"]["firm"]
    notifications.set_contacts(db.session, user, "boss@example.cn", "13912345678")
    db.session.flush()
    notifications.set_contacts(db.session, user, "new@example.cn", "")
    db.session.flush()
    assert notifications.contacts_of(db.session, user) == {"email": "new@example.cn"}
