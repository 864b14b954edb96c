"""The firm's pages: posting needs with bad input, seeing only its own records."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.entities import Application, FinancingNeed
from app.entities.base import utcnow
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import post_form

GOOD_NEED = {"amount_wan": "50", "term_months": "12", "purpose": "购买原料", "guarantee": "credit",
             "urgency": "normal", "max_rate": ""}

BAD_NEEDS = [
    ({"amount_wan": "-5"}, "金额超出范围：应大于 0 且不超过 10,000 万元", "must be greater than 0"),
    ({"amount_wan": "0"}, "金额超出范围：应大于 0 且不超过 10,000 万元", "must be greater than 0"),
    ({"amount_wan": "999999999"}, "金额超出范围：应大于 0 且不超过 10,000 万元", "at most 10,000 × 10k yuan"),
    ({"amount_wan": "五十"}, "金额格式不正确", "is not a number"),
    ({"term_months": "0"}, "期限应在 1 到 360 个月之间", "between 1 and 360"),
    ({"purpose": "长" * 501}, "资金用途不能超过 500 个字符", "500 characters"),
    ({"purpose": ""}, "请填写资金用途", None),
    ({"max_rate": "120"}, "利率超出范围：应大于 0 且不超过 100%", None),
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


# --- offers, loans and forms posted once -------------------------------------------------------

def form_token(html):
    """The one-time token of a page's form."""
    return html.split('name="form_token" type="hidden" value="')[1].split('"')[0]


def test_the_need_form_posted_twice_makes_one_need(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get("/firm/needs/new"))
    data = {**GOOD_NEED, "csrf_token": csrf_token(page), "form_token": form_token(page)}
    before = need_count()
    first, second = client.post("/firm/needs/new", data=data), client.post("/firm/needs/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert need_count() == before + 1
    other = page_text(client.get("/firm/needs/new"))
    assert form_token(other) != data["form_token"]  # each rendering its own


def test_the_apply_form_posted_twice_makes_one_application(app, world):
    product = factories.ProductFactory(institution=world["bank_b"])
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    url = f"/firm/needs/{world['need'].id}/apply/{product.id}"
    page = page_text(client.get(url))
    data = {"csrf_token": csrf_token(page), "form_token": form_token(page), "consent": "y"}
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(Application.id)).where(Application.product_id == product.id)) == 1
    assert "您已用该需求申请过这个产品" in page_text(post_form(client, url, {"consent": "y"}))


def test_the_firm_accepts_an_offer_on_its_page(app, world):
    application = factories.put_in_status(world, "approved")
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get(f"/firm/applications/{application.id}"))
    assert "接受批复" in page and "放弃该批复" in page and "撤回申请" not in page
    response = client.post(f"/firm/applications/{application.id}/accept",
                           data={"csrf_token": csrf_token(page), "version": "1"}, follow_redirects=True)
    assert "已接受批复，请等待机构放款" in page_text(response) and "企业已接受" in page_text(response)
    db.session.expire_all()
    assert application.status == "offer_accepted"


def test_the_firm_declines_an_offer_with_its_reason(app, world):
    application = factories.put_in_status(world, "approved")
    client = logged_in_client(app, world["users"]["firm"])
    token = csrf_token(page_text(client.get(f"/firm/applications/{application.id}")))
    response = client.post(f"/firm/applications/{application.id}/decline-offer",
                           data={"csrf_token": token, "version": "1", "note": "已获得更低利率"}, follow_redirects=True)
    assert "企业已放弃" in page_text(response) and "已获得更低利率" in page_text(response)


def test_an_offer_past_its_last_day_expires_when_the_firm_looks(app, world):
    application = factories.put_in_status(world, "approved")
    application.offer_valid_until = utcnow().date() - timedelta(days=3)
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    assert "批复已过期" in page_text(client.get("/firm/"))
    db.session.expire_all()
    assert application.status == "expired"
    page = page_text(client.get(f"/firm/applications/{application.id}"))
    assert "企业未在有效期内接受" in page and "接受批复" not in page
    response = client.post(f"/firm/applications/{application.id}/accept",
                           data={"csrf_token": csrf_token(page), "version": "2"}, follow_redirects=True)
    assert "当前状态“批复已过期”下不能执行该操作" in page_text(response)


def test_a_step_from_a_stale_page_is_refused_with_a_clear_message(app, world):
    application = factories.put_in_status(world, "approved")
    client = logged_in_client(app, world["users"]["firm"])
    token = csrf_token(page_text(client.get(f"/firm/applications/{application.id}")))
    client.post(f"/firm/applications/{application.id}/decline-offer", data={"csrf_token": token, "version": "1"})
    response = client.post(f"/firm/applications/{application.id}/accept",
                           data={"csrf_token": token, "version": "1"}, follow_redirects=True)
    assert "已被他人处理，请刷新后查看" in page_text(response)
    db.session.expire_all()
    assert application.status == "offer_declined" and application.version == 2


def test_the_firm_sees_its_loan_and_its_monthly_status(app, world):
    from app.services import loans

    loan = factories.put_in_status(world, "disbursed").loan
    loans.record_month(db.session, loan, world["users"]["officer"], loan.disbursed_on, 45, Decimal("380000"))
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    home = page_text(client.get("/firm/"))
    loans_part = home[home.index("我的贷款"):]
    assert "YT-TEST-0001" in loans_part and "逾期" in loans_part and "逾期 31–90 天" in loans_part
    assert "38" in loans_part and world["bank_a"].name in loans_part
    detail = page_text(client.get(f"/firm/applications/{loan.application_id}"))
    assert "月度还款状态" in detail and loan.disbursed_on.strftime("%Y-%m") in detail
    client.get("/lang/en")
    english = page_text(client.get("/firm/"))
    assert "My loans" in english and "Overdue 31–90 days" in english
    other = logged_in_client(app, world["users"]["firm_other"])
    assert "YT-TEST-0001" not in page_text(other.get("/firm/"))


def history(institution, count):
    """`count` ingested past decisions of `institution` (three approvals in four)."""
    firms = [factories.SubjectFactory() for _ in range(4)]
    for k in range(count):
        factories.add_records(firms[k % 4], "application_history", [(
            date(2025, 1, 1) + timedelta(days=k),
            {"institution": institution.name, "decision": "approved" if k % 4 else "declined"})])


@pytest.mark.parametrize(("decisions", "chinese", "english"), [
    (0, "审批记录不足，暂无法估计", "Too few decisions to estimate yet"),
    (40, "该产品审批记录不足，按同等级主体的总体批准率估计",
     "estimated from the approval rate of all firms of the same grade"),
])
def test_need_page_says_when_the_odds_rest_on_too_few_decisions(app, world, decisions, chinese, english):
    history(world["bank_b"], decisions)  # the market's decisions, none of the product's institution
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    odds_cell = page_text(client.get(f"/firm/needs/{world['need'].id}")).partition(world["product"].name)[2]
    assert chinese in odds_cell
    assert ("%" in odds_cell.partition(chinese)[0].rpartition("<td")[2]) == bool(decisions)
    client.get("/lang/en")
    assert english in page_text(client.get(f"/firm/needs/{world['need'].id}"))


def test_need_page_names_the_institutions_decisions_behind_a_new_product(app, world):
    history(world["bank_a"], 40)
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["firm"]).get(f"/firm/needs/{world['need'].id}"))
    assert "本产品审批记录不足，依据该机构 40 条审批记录估计" in page
