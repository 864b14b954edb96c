"""The pages of 银企线上沟通问答: asking about an anonymised need, answering, attachments as downloads,
refusals in words, other tenants' threads not found, and the public FAQ."""
import io
import re

import pytest
from sqlalchemy import select

from app.entities import DataAccessLog, Message, MessageThread
from app.extensions import db
from app.services import messages

from ..conftest import csrf_token, logged_in_client, page_text
from ..factories import PDF_BYTES, ConsentFactory, show_in_screening


@pytest.fixture
def screened(world):
    show_in_screening(world["need"], world["product"])
    return world


def _post(client, url, body="请问贵企业近一年的销售额？", file=None, **extra):
    token = csrf_token(page_text(client.get(url)))
    data = {"csrf_token": token, "body": body, **extra}
    if file is not None:
        data["attachment"] = file
    return client.post(url, data=data, content_type="multipart/form-data")


def _ask_url(world, institution="bank_a"):
    return f"/messages/needs/{messages.need_handle(world['need'].id, world[institution].id)}"


def _only_thread():
    return db.session.scalars(select(MessageThread)).one()


def test_an_officer_asks_anonymously_and_the_firm_answers(app, screened):
    officer = logged_in_client(app, screened["users"]["officer"])
    url = _ask_url(screened)
    first = officer.get(url)
    assert first.status_code == 200 and screened["firm"].name not in page_text(first)
    response = _post(officer, url, file=(io.BytesIO(PDF_BYTES), "../../报价单.pdf"))
    thread = _only_thread()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/messages/{thread.id}")
    assert officer.get(url).headers["Location"].endswith(f"/messages/{thread.id}")

    firm = logged_in_client(app, screened["users"]["firm"])
    home = page_text(firm.get("/firm/"))
    assert "您有 1 条未读消息" in home and 'class="count">1<' in home
    page = page_text(firm.get(f"/messages/{thread.id}"))
    assert "请问贵企业近一年的销售额？" in page and "报价单.pdf" in page and "机构目前看不到您的企业名称" in page
    assert "您有 1 条未读消息" not in page_text(firm.get("/firm/"))
    assert _post(firm, f"/messages/{thread.id}", "约 300 万元。", publish="y").status_code == 302

    seen = page_text(officer.get(f"/messages/{thread.id}"))
    shown = re.sub(r"<[^>]+>", " ", seen)  # the page's text, not its markup (a script's path may hold "firm")
    assert "约 300 万元。" in shown and screened["firm"].name not in shown
    assert screened["users"]["firm"].display_name not in shown.split()
    assert db.session.scalars(select(DataAccessLog)).all() == []
    faq = page_text(app.test_client().get("/faq?q=销售额"))
    assert "约 300 万元。" in faq and screened["firm"].name not in faq and screened["bank_a"].name not in faq


def test_after_the_release_the_officer_sees_the_firm_and_the_view_is_logged(app, screened):
    officer = logged_in_client(app, screened["users"]["officer"])
    _post(officer, _ask_url(screened))
    ConsentFactory(subject_id=screened["firm"].id, institution_id=screened["bank_a"].id, purpose_code="screening")
    db.session.commit()
    thread = _only_thread()
    assert screened["firm"].name in page_text(officer.get(f"/messages/{thread.id}"))
    assert db.session.scalars(select(DataAccessLog.what)).all() == [f"messages:thread:{thread.id}"]


def test_another_lender_cannot_ask_about_a_need_outside_its_screening(app, screened):
    other = logged_in_client(app, screened["users"]["officer_other"])
    assert other.get(_ask_url(screened, "bank_b")).status_code == 404
    assert other.get(_ask_url(screened)).status_code == 404  # bank A's handle names another need for bank B
    officer = logged_in_client(app, screened["users"]["officer"])
    for handle in ("q" + "0" * 16, "zz" * 8, "1234", str(screened["need"].id)):
        assert officer.get(f"/messages/needs/{handle}").status_code == 404


def test_attachments_download_as_attachments_and_others_get_404(app, world):
    firm = logged_in_client(app, world["users"]["firm"])
    url = f"/messages/applications/{world['application'].id}"
    hostile = "<script>x</script>年报\u202e.pdf"
    assert _post(firm, url, "材料见附件", file=(io.BytesIO(PDF_BYTES), hostile)).status_code \
        == 302
    message = db.session.scalars(select(Message)).one()
    attachment = message.attachments[0]
    officer = logged_in_client(app, world["users"]["officer"])
    response = officer.get(f"/messages/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF_BYTES
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in response.headers[
        "Content-Security-Policy"]
    assert "\u202e" not in attachment.file_name and "<" not in attachment.file_name
    assert db.session.scalars(select(DataAccessLog.what)).all() == [f"messages:attachment:{attachment.id}"]
    for persona in ("firm_other", "officer_other"):
        client = logged_in_client(app, world["users"][persona])
        assert client.get(f"/messages/attachments/{attachment.id}").status_code == 404
        assert client.get(f"/messages/{message.thread_id}").status_code == 404
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("body, file, said", [
    ("", None, "请填写消息内容"),
    ("长" * 10_000, None, "消息不能超过"),
    ("见附件", (b"<html><script>alert(1)</script></html>", "报表.pdf"), "附件只能是"),
    ("见附件", (b"", "空.pdf"), "附件是空文件"),
])
def test_bad_input_is_refused_in_words_and_nothing_is_written(app, world, body, file, said):
    firm = logged_in_client(app, world["users"]["firm"])
    file = (io.BytesIO(file[0]), file[1]) if file else None
    response = _post(firm, f"/messages/applications/{world['application'].id}", body, file=file)
    assert response.status_code == 400 and said in page_text(response)
    assert db.session.scalars(select(Message)).all() == []


def test_an_oversized_attachment_is_refused(app, world):
    app.config["MESSAGE_ATTACHMENT_MAX_BYTES"] = 1024
    firm = logged_in_client(app, world["users"]["firm"])
    url = f"/messages/applications/{world['application'].id}"
    response = _post(firm, url, "见附件", file=(io.BytesIO(PDF_BYTES + b"0" * 2048), "大.pdf"))
    assert response.status_code == 400 and "附件不能超过" in page_text(response)
    app.config["MESSAGE_ATTACHMENT_MAX_BYTES"] = 5 * 1024 * 1024
    huge = _post(firm, url, "见附件", file=(io.BytesIO(PDF_BYTES + b"0" * 6 * 1024 * 1024), "大.pdf"))
    assert huge.status_code == 413 and "上传的文件过大" in page_text(huge)
    assert db.session.scalars(select(Message)).all() == []


def test_the_inbox_lists_threads_with_unread_counts(app, world):
    officer = logged_in_client(app, world["users"]["officer"])
    _post(officer, f"/messages/applications/{world['application'].id}", "请补充流水")
    firm = logged_in_client(app, world["users"]["firm"])
    inbox = page_text(firm.get("/messages/"))
    assert "甲银行" in inbox and 'class="badge count">1<' in inbox
    assert "还没有沟通记录" in page_text(logged_in_client(app, world["users"]["firm_other"]).get("/messages/"))


def test_the_faq_refuses_a_too_long_query(client):
    response = client.get("/faq?q=" + "问" * 60)
    assert response.status_code == 400 and "搜索内容不能超过" in page_text(response)
