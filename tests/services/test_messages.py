"""银企线上沟通问答: who may write where, anonymity until the firm's release, read marks, unread counts,
the 查询记录 of reading firm data, and the checks on a message's text."""
import pytest
from sqlalchemy import select

from app.common.errors import InvalidInput, NotAllowed
from app.entities import DataAccessLog, FaqEntry, MessageThread, Notification
from app.extensions import db
from app.services import messages

from ..factories import PDF_BYTES, ConsentFactory, UserFactory, show_in_screening, upload


@pytest.fixture
def screened(world):
    """The world's need shows in bank A's screening (anonymised: no release)."""
    show_in_screening(world["need"], world["product"])
    return world


def _ask(world, body="请问贵企业近一年的销售额大约多少？", **kw):
    message = messages.ask_about_need(db.session, world["need"], world["users"]["officer"], body, **kw)
    db.session.commit()
    return message


def test_an_officer_asks_about_a_screened_need_and_the_firm_is_told(app, screened):
    message = _ask(screened)
    thread = message.thread
    assert (thread.subject_id, thread.institution_id, thread.need_id) == (
        screened["firm"].id, screened["bank_a"].id, screened["need"].id)
    firm_user = screened["users"]["firm"]
    note = db.session.scalar(select(Notification).where(Notification.user_id == firm_user.id))
    assert note.kind == "message" and note.link == f"/messages/{thread.id}"
    assert messages.unread_count(db.session, firm_user) == 1
    assert messages.unread_count(db.session, screened["users"]["officer"]) == 0
    messages.read(db.session, thread, firm_user)
    db.session.commit()
    assert note.read_at is not None and messages.unread_count(db.session, firm_user) == 0


def test_need_handles_name_no_id_and_differ_by_institution(app, world):
    handles = {messages.need_handle(need_id, 1) for need_id in range(1, 1001)}
    assert len(handles) == 1000 and all(len(h) == 17 and h.startswith("q") for h in handles)
    assert all(messages.need_id_of(messages.need_handle(n, 7), 7) == n for n in (1, 2, 10**9, 2**62))
    assert messages.need_handle(5, 1) != messages.need_handle(5, 2) and messages.need_handle(5, 1) != f"q{5:016x}"
    assert [messages.need_id_of(h, 7) for h in ("", "q", "q" + "g" * 16, f"{5:016x}", "q" + "0" * 17)] == [None] * 5


def test_a_second_question_goes_to_the_same_thread(app, screened):
    first, second = _ask(screened), _ask(screened, "还有一个问题")
    assert first.thread_id == second.thread_id
    assert db.session.scalar(select(db.func.count(MessageThread.id))) == 1


def test_a_need_outside_the_screening_cannot_be_asked_about(app, world):
    with pytest.raises(NotAllowed):
        _ask(world)
    other_bank = UserFactory(role="lender_officer", institution=world["bank_b"])
    show_in_screening(world["need"], world["product"])
    with pytest.raises(NotAllowed):
        messages.ask_about_need(db.session, world["need"], other_bank, "问题")


def test_a_lender_admin_does_not_start_threads(app, screened):
    with pytest.raises(NotAllowed):
        messages.ask_about_need(db.session, screened["need"], screened["users"]["lender_admin"], "问题")


def test_the_lender_reads_an_anonymised_need_thread_without_a_log_entry(app, screened):
    thread = _ask(screened).thread
    messages.post(db.session, thread, screened["users"]["firm"], "约 300 万元。")
    db.session.commit()
    officer = screened["users"]["officer"]
    assert messages.unread_count(db.session, officer) == 1
    view = messages.read(db.session, thread, officer)
    db.session.commit()
    assert not view.identified and view.profile.town == screened["firm"].town_code
    assert messages.unread_count(db.session, officer) == 0
    assert view.messages[-1].read_at is not None
    assert db.session.scalars(select(DataAccessLog)).all() == []


def test_after_the_firms_release_reading_is_logged_under_it(app, screened):
    thread = _ask(screened).thread
    release = ConsentFactory(subject_id=screened["firm"].id, institution_id=screened["bank_a"].id,
                             purpose_code="screening")
    db.session.commit()
    view = messages.read(db.session, thread, screened["users"]["officer"])
    db.session.commit()
    assert view.identified
    log = db.session.scalars(select(DataAccessLog)).one()
    assert (log.consent_id, log.purpose, log.what) == (release.id, "screening", f"messages:thread:{thread.id}")


def test_the_firm_reading_its_own_thread_is_not_logged(app, screened):
    thread = _ask(screened).thread
    view = messages.read(db.session, thread, screened["users"]["firm"])
    db.session.commit()
    assert view.identified and not view.lender_knows
    assert db.session.scalars(select(DataAccessLog)).all() == []


def test_an_application_thread_is_logged_under_the_applications_consent(app, world):
    firm_user, officer = world["users"]["firm"], world["users"]["officer"]
    message = messages.write_on_application(db.session, world["application"], firm_user, "请问还需要什么材料？",
                                            upload(PDF_BYTES))
    db.session.commit()
    assert message.attachments[0].content_type == "application/pdf"
    assert messages.unread_count(db.session, officer) == 1
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == officer.id)) == "message"
    messages.read(db.session, message.thread, officer)
    db.session.commit()
    log = db.session.scalars(select(DataAccessLog)).one()
    assert log.consent_id == world["consent"].id and log.what == f"messages:thread:{message.thread_id}"


def test_a_colleagues_message_is_not_unread_for_an_officer(app, world):
    colleague = UserFactory(role="lender_officer", institution=world["bank_a"])
    messages.write_on_application(db.session, world["application"], colleague, "您好")
    db.session.commit()
    assert messages.unread_count(db.session, world["users"]["officer"]) == 0
    assert messages.unread_count(db.session, world["users"]["firm"]) == 1


def test_outsiders_cannot_post(app, world):
    thread = messages.write_on_application(db.session, world["application"], world["users"]["firm"], "您好").thread
    for persona in ("firm_other", "officer_other", "regulator"):
        assert not messages.can_see(thread, world["users"][persona])
        with pytest.raises(NotAllowed):
            messages.post(db.session, thread, world["users"][persona], "插话")


@pytest.mark.parametrize("body, why", [("", "请填写"), ("   \n ", "请填写"), ("长" * 10_000, "不能超过")])
def test_an_empty_or_too_long_message_is_refused(app, world, body, why):
    with pytest.raises(InvalidInput, match=why):
        messages.write_on_application(db.session, world["application"], world["users"]["firm"], body)


def test_a_message_of_the_limit_is_taken(app, world):
    limit = app.config["MESSAGE_MAX_CHARS"]
    message = messages.write_on_application(db.session, world["application"], world["users"]["firm"], "字" * limit)
    assert len(message.body) == limit


def test_the_firm_publishes_its_answer_with_the_question(app, screened):
    thread = _ask(screened, "请问贵企业是否有应收账款质押？").thread
    answer = messages.post(db.session, thread, screened["users"]["firm"], "没有应收账款质押。", publish=True)
    db.session.commit()
    entry = db.session.scalars(select(FaqEntry)).one()
    assert entry.answer_id == answer.id and entry.question.body.startswith("请问")


def test_nothing_to_publish_before_a_question_and_lenders_cannot_publish(app, world):
    firm_user, officer = world["users"]["firm"], world["users"]["officer"]
    with pytest.raises(InvalidInput, match="还没有提问"):
        messages.write_on_application(db.session, world["application"], firm_user, "您好", publish=True)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        messages.write_on_application(db.session, world["application"], officer, "您好", publish=True)


def test_the_inbox_hides_an_unreleased_firm_from_the_lender(app, screened):
    _ask(screened)
    messages.write_on_application(db.session, screened["application"], screened["users"]["firm"], "您好")
    db.session.commit()
    rows = messages.threads_of(db.session, screened["users"]["officer"])
    assert sorted((r.thread.need_id is not None, r.identified, r.unread) for r in rows) == [(False, True, 1),
                                                                                            (True, False, 0)]
    assert messages.threads_of(db.session, screened["users"]["officer_other"]) == []
    assert messages.threads_of(db.session, screened["users"]["regulator"]) == []
