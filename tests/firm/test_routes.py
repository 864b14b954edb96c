"""The firm's pages: posting needs with bad input, seeing only its own records."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.entities import Application, FinancingNeed
from app.entities.base import utcnow
from app.extensions import db

from .. import factories
from ..conftest import logged_in_client, page_text
from ..test_journey import post_form

GOOD_NEED = {"amount_wan": "50", "term_months": "12", "purpose": "购买原料", "guarantee": "credit",
             "urgency": "normal", "max_rate": ""}

BAD_NEEDS = [
    ({"amount_wan": "-5"}, "金额必须大于 0", "must be greater than 0"),
    ({"amount_wan": "0"}, "金额必须大于 0", "must be greater than 0"),
    ({"amount_wan": "999999999"}, "金额不能超过 10,000 万元", "cannot exceed"),
    ({"amount_wan": "五十"}, "金额应为数字", "must be a number"),
    ({"term_months": "0"}, "期限应在 1 到 360 个月之间", "between 1 and 360"),
    ({"purpose": "长" * 501}, "资金用途不能超过 500 个字符", "500 characters"),
    ({"purpose": ""}, "请填写资金用途", None),
    ({"max_rate": "120"}, "可承受年化利率应在 0 到 100% 之间", None),
    ({"guarantee": "gold"}, None, None),
]


def need_count():
    return db.session.scalar(select(func.count(FinancingNeed.id)))


@pytest.mark.parametrize(("change", "chinese", "english"), BAD_NEEDS)
def test_bad_need_is_refused_clearly_and_saves_nothing(app, world, change, chinese, english):
    before = need_count()
    client = logged_in_client(app, world["users"]["firm"])
    response = post_form(client, "/firm/needs/new", {**GOOD_NEED, **change})
    assert response.status_code == 400
    if chinese:
        assert chinese in page_text(response)
    if english:
        client.get("/lang/en")
        response = post_form(client, "/firm/needs/new", {**GOOD_NEED, **change})
        assert response.status_code == 400 and english in page_text(response)
    assert need_count() == before


def test_full_width_amount_is_understood(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    response = post_form(client, "/firm/needs/new", {**GOOD_NEED, "amount_wan": "１２．５"})
    assert response.status_code == 302
    newest = db.session.scalars(select(FinancingNeed).order_by(FinancingNeed.id.desc())).first()
    assert newest.amount == 125_000


def test_other_firm_cannot_open_or_apply_with_a_need(app, world):
    client = logged_in_client(app, world["users"]["firm_other"])
    need, product = world["need"], world["product"]
    assert client.get(f"/firm/needs/{need.id}").status_code == 404
    assert client.get(f"/firm/applications/{world['application'].id}").status_code == 404
    response = post_form(client, "/firm/needs/new", GOOD_NEED)  # gets a token for the next POST
    assert response.status_code == 302
    before = db.session.scalar(select(func.count(Application.id)))
    assert client.get(f"/firm/needs/{need.id}/apply/{product.id}").status_code == 404
    assert db.session.scalar(select(func.count(Application.id))) == before


def test_need_page_lists_fitting_products_and_near_misses(app, world):
    from .. import factories

    factories.ProductFactory(institution=world["bank_b"], name="典当周转", guarantee_types=["pledge"])
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["firm"]).get(f"/firm/needs/{world['need'].id}"))
    fitting, _sep, misses = page.partition("其他产品及不符合的原因")
    assert world["product"].name in fitting
    assert "典当周转" in misses and "产品不接受“信用”担保方式" in misses


def test_need_page_ranks_eligible_products_and_explains_every_rule(app, world):
    from .. import factories

    factories.ProductFactory(institution=world["bank_b"], name="小额快贷", rate_min=Decimal("9"),
                             rate_max=Decimal("12"), upfront_fee_pct=Decimal("1"))
    factories.ProductFactory(institution=world["bank_b"], name="老店贷", rules={"min_age_years": 30.0},
                             guarantee_types=["pledge"])
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["firm"]).get(f"/firm/needs/{world['need'].id}"))
    eligible, _sep, misses = page.partition("其他产品及不符合的原因")
    assert eligible.index(world["product"].name) < eligible.index("小额快贷")  # cheaper first
    assert "匹配度" in eligible and "年化综合成本" in eligible and "产品接受“信用”担保方式" in eligible
    assert "老店贷" in misses and "低于产品要求的 30 年" in misses and "产品不接受“信用”担保方式" in misses


def test_need_api_gives_every_rule_with_reasons_in_both_languages(app, world):
    need = world["need"]
    need.term_months = 48
    db.session.commit()
    body = logged_in_client(app, world["users"]["firm"]).get(f"/api/v1/needs/{need.id}/products").get_json()
    assert body["fitting"] == [] and len(body["near_misses"]) == 1
    term = next(r for r in body["near_misses"][0]["rules"] if r["rule"] == "term")
    assert term["passed"] is False
    assert term["reason"]["zh"] == "需求期限 48 个月不在产品期限 3–36 个月之内"
    assert term["reason"]["en"].startswith("The requested term of 48 months")


def test_posting_a_need_matches_it(app, world):
    from app.entities import Match

    client = logged_in_client(app, world["users"]["firm"])
    assert post_form(client, "/firm/needs/new", GOOD_NEED).status_code == 302
    newest = db.session.scalars(select(FinancingNeed).order_by(FinancingNeed.id.desc())).first()
    stored = db.session.scalars(select(Match).where(Match.need_id == newest.id)).one()
    assert stored.product_id == world["product"].id and stored.eligible and stored.fit is not None


def test_a_consent_whose_window_has_ended_reads_expired_and_cannot_be_revoked(app, world):
    world["consent"].valid_to = utcnow() - timedelta(minutes=1)  # still marked active
    in_force = factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_b"].id)
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/consents"))
    rows = {name: page[page.index(name):].split("</tr>")[0] for name in ("甲银行", "乙小贷")}
    assert "已过期" in rows["甲银行"] and "撤回授权" not in rows["甲银行"]
    assert "有效" in rows["乙小贷"] and f"/firm/consents/{in_force.id}/revoke" in rows["乙小贷"]
