"""The bell, the list, marking read, and the contact addresses."""
from app.extensions import db
from app.services import notifications

from ..conftest import csrf_token, logged_in_client, page_text


def _notify(world, n=2):
    for k in range(n):
        notifications.notify(db.session, world["users"]["firm"], "decision", link=f"/firm/applications/{k + 1}",
                             institution="甲银行", application=k + 1, outcome="approved")
    db.session.commit()


def test_the_bell_counts_and_reading_one_goes_to_its_page(app, world):
    _notify(world)
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get("/notifications/"))
    assert 'id="bell"' in page and 'class="count">2<' in page and "甲银行 对您的申请 #1 作出了决定：予以批准。" in page
    note = notifications.notifications_of(db.session, world["users"]["firm"])[0]
    response = client.post(f"/notifications/{note.id}/read", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(note.link)
    assert 'class="count">1<' in page_text(client.get("/notifications/"))


def test_mark_all_read_clears_the_bell(app, world):
    _notify(world)
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get("/notifications/"))
    client.post("/notifications/read-all", data={"csrf_token": csrf_token(page)})
    after = page_text(client.get("/notifications/"))
    assert 'class="count"' not in after and "全部标为已读" not in after


def test_another_users_notification_is_not_found(app, world):
    _notify(world, 1)
    note = notifications.notifications_of(db.session, world["users"]["firm"])[0]
    other = logged_in_client(app, world["users"]["firm_other"])
    token = csrf_token(page_text(other.get("/notifications/")))
    assert other.post(f"/notifications/{note.id}/read", data={"csrf_token": token}).status_code == 404
    assert note.read_at is None


def test_contacts_are_saved_and_bad_ones_refused_in_words(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    token = csrf_token(page_text(client.get("/notifications/")))
    bad = client.post("/notifications/contacts", data={"csrf_token": token, "email": "nobody", "phone": ""})
    assert bad.status_code == 400 and "请输入有效的电子邮箱地址" in page_text(bad)
    ok = client.post("/notifications/contacts", data={"csrf_token": token, "email": "li@bank.cn",
                                                      "phone": "13800000000"})
    assert ok.status_code == 302
    assert notifications.contacts_of(db.session, world["users"]["officer"]) == {"email": "li@bank.cn",
                                                                                "sms": "13800000000"}


def test_the_english_page_is_english(app, world):
    _notify(world, 1)
    client = logged_in_client(app, world["users"]["firm"])
    client.get("/lang/en")
    page = page_text(client.get("/notifications/"))
    assert "has decided on your application #1: approved." in page
