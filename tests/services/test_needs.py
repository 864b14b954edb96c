"""Posting a financing need: every field is checked, and a refused need stages nothing."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.common.errors import InvalidInput
from app.common.money import format_wan, wan_to_yuan
from app.entities import FinancingNeed
from app.extensions import db
from app.services.needs import post_need

from .. import factories

CHINESE = re.compile(r"[\u4e00-\u9fff]")
VALID = {"amount_yuan": Decimal("500000.00"), "term_months": 12, "purpose": "购置电窑",
         "guarantee": "credit", "max_rate": Decimal("6.5"), "urgency": "normal"}


@pytest.fixture
def firm(app):
    """A subject and its firm user, committed."""
    subject = factories.SubjectFactory()
    user = factories.UserFactory(role="firm", subject=subject)
    db.session.commit()
    return subject, user


def need_count():
    return db.session.scalar(select(func.count(FinancingNeed.id)))


def post(firm, **changes):
    subject, user = firm
    return post_need(db.session, subject, user, **{**VALID, **changes})


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"amount_yuan": Decimal("0")}, "amount", "大于 0"),
    ({"amount_yuan": Decimal("-1.00")}, "amount", "大于 0"),
    ({"amount_yuan": Decimal("-500000")}, "amount", "大于 0"),
    ({"amount_yuan": Decimal("100000000.01")}, "amount", "10,000 万元"),
    ({"amount_yuan": Decimal("5000000000")}, "amount", "10,000 万元"),
    ({"amount_yuan": None}, "amount", "请输入金额"),
    ({"term_months": 0}, "term_months", "1 到 360"),
    ({"term_months": -12}, "term_months", "1 到 360"),
    ({"term_months": 361}, "term_months", "1 到 360"),
    ({"term_months": None}, "term_months", "1 到 360"),
    ({"purpose": ""}, "purpose", "资金用途"),
    ({"purpose": " \t\n "}, "purpose", "资金用途"),
    ({"purpose": None}, "purpose", "资金用途"),
    ({"purpose": "用" * 501}, "purpose", "500"),
    ({"guarantee": "house"}, "guarantee", "担保方式"),
    ({"guarantee": ""}, "guarantee", "担保方式"),
    ({"guarantee": None}, "guarantee", "担保方式"),
    ({"max_rate": Decimal("0")}, "max_rate", "利率"),
    ({"max_rate": Decimal("-1")}, "max_rate", "利率"),
    ({"max_rate": Decimal("101")}, "max_rate", "利率"),
    ({"max_rate": Decimal("100.001")}, "max_rate", "利率"),
    ({"urgency": "tomorrow"}, "urgency", "紧急程度"),
])
def test_post_need_refuses_bad_input_and_stages_nothing(firm, changes, field, words):
    with pytest.raises(InvalidInput) as caught:
        post(firm, **changes)
    assert caught.value.field == field
    assert CHINESE.search(caught.value.message)
    assert words in caught.value.message
    assert not db.session.new
    db.session.rollback()
    assert need_count() == 0


def test_amount_limit_follows_the_configuration(app, firm):
    app.config["MAX_NEED_AMOUNT_YUAN"] = 1_000_000
    with pytest.raises(InvalidInput) as caught:
        post(firm, amount_yuan=Decimal("1000000.01"))
    assert "100 万元" in caught.value.message
    assert post(firm, amount_yuan=Decimal("1000000.00")).amount == Decimal("1000000.00")


def test_a_valid_need_is_stored_open_with_its_amount_in_yuan(firm):
    subject, user = firm
    need = post(firm, amount_yuan=wan_to_yuan("12.5"), purpose="  购置电窑  ")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(FinancingNeed, need.id)
    assert stored.status == "open"
    assert stored.amount == Decimal("125000.00")
    assert format_wan(stored.amount) == "12.5"
    assert stored.term_months == 12
    assert stored.purpose == "购置电窑"
    assert stored.guarantee == "credit"
    assert stored.max_rate == Decimal("6.5")
    assert stored.urgency == "normal"
    assert stored.subject_id == subject.id
    assert stored.created_by_id == user.id
    assert stored.created_at is not None


@pytest.mark.parametrize("changes", [
    {"amount_yuan": Decimal("0.01")},
    {"amount_yuan": Decimal("100000000")},
    {"term_months": 1},
    {"term_months": 360},
    {"purpose": "用" * 500},
    {"guarantee": "mortgage"},
    {"guarantee": "pledge"},
    {"max_rate": None},
    {"max_rate": Decimal("100")},
    {"max_rate": Decimal("0.001")},
    {"urgency": "urgent"},
])
def test_post_need_accepts_values_at_the_limits(firm, changes):
    post(firm, **changes)
    db.session.commit()
    assert need_count() == 1
