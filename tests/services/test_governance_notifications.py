"""The firm is told: an answered objection, a decided repair request, a list entry and its exit each reach the
firm's users as a notification in the site."""
from app.entities import Notification, Objection
from app.extensions import db
from app.services import lists, notifications, objections


def firm_notes(world):
    return [(n.kind, notifications.text_of(n)) for n in db.session.scalars(
        db.select(Notification).where(Notification.user_id == world["users"]["firm"].id).order_by(Notification.id))]


def test_an_answered_review_notifies_the_firm(app, world):
    with app.test_request_context():
        request = objections.request_review(db.session, world["firm"], world["users"]["firm"], None, "请人工复核")
        db.session.commit()
        objections.decide(db.session, db.session.get(Objection, request.id), world["users"]["regulator"], None,
                          "已复核，评分无误")
        db.session.commit()
        notes = firm_notes(world)
    assert notes == [("objection_answered", f"您提交的异议 #{request.id} 已答复。")]
    assert not [n for n in db.session.scalars(db.select(Notification)) if n.user_id == world["users"]["firm_other"].id]


def test_a_list_entry_and_its_exit_notify_the_firm(app, world):
    with app.test_request_context():
        entry = lists.add_entry(db.session, world["users"]["regulator"], world["firm"], "court_dishonest",
                                "未履行生效判决", refresh=False)
        lists.remove_entry(db.session, world["users"]["regulator"], entry, "已履行", refresh=False)
        db.session.commit()
        notes = firm_notes(world)
    assert [kind for kind, _text in notes] == ["listed", "delisted"]
    assert "失信被执行人名单（黑名单）" in notes[0][1] and "移出失信被执行人名单" in notes[1][1]
