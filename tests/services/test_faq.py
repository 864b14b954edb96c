"""The public FAQ: words cut by jieba, search ranked by the words an entry holds."""
import pytest

from app.common.errors import InvalidInput
from app.extensions import db
from app.services import faq, messages

from ..factories import show_in_screening


def _publish(world, question, answer):
    thread = messages.ask_about_need(db.session, world["need"], world["users"]["officer"], question).thread
    messages.post(db.session, thread, world["users"]["firm"], answer, publish=True)
    db.session.commit()


@pytest.fixture
def entries(world):
    show_in_screening(world["need"], world["product"])
    _publish(world, "贵企业是否有应收账款可以质押？", "有政府采购形成的应收账款约80万元。")
    _publish(world, "陶瓷窑炉设备的购置发票能否提供？", "可以提供设备发票和合同。")
    return world


def test_words_are_cut_for_search():
    words = faq.words_of("应收账款质押，可以吗？ABC")
    assert {"应收", "账款", "质押", "abc"} <= set(words) and "，" not in words and "？" not in words


def test_search_finds_by_chinese_words_and_ranks_by_how_many_match(app, entries):
    assert [e.answer.body for e in faq.search(db.session, "应收账款")] == ["有政府采购形成的应收账款约80万元。"]
    assert [e.answer.body for e in faq.search(db.session, "账款")] == ["有政府采购形成的应收账款约80万元。"]
    ranked = faq.search(db.session, "设备发票 质押")
    assert len(ranked) == 2 and ranked[0].answer.body == "可以提供设备发票和合同。"
    assert faq.search(db.session, "拖拉机") == []
    assert len(faq.search(db.session, "")) == 2


def test_search_words_with_like_wildcards_match_literally(app, entries):
    assert faq.search(db.session, "100%") == []
    assert faq.search(db.session, "_账") == faq.search(db.session, "账")


def test_a_too_long_query_is_refused(app):
    with app.test_request_context(), pytest.raises(InvalidInput):
        faq.search(db.session, "问" * 51)
