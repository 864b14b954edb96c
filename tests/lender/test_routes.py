"""The lender's pages: tenancy, decisions with reasons, products."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.common.dates import local_date
from app.entities import DataAccessLog, Product
from app.entities.base import utcnow
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import post_form


def test_officer_cannot_open_another_institutions_application_by_changing_the_id(app, world):
    application = world["application"]
    other = logged_in_client(app, world["users"]["officer_other"])
    assert world["firm"].name not in page_text(other.get("/lender/"))
    for path in ("", "/review", "/approve", "/decline", "/request-info"):
        url = f"/lender/applications/{application.id}{path}"
        response = other.get(url) if not path else other.post(url, data={
            "csrf_token": csrf_token(page_text(other.get("/lender/")))})
        assert response.status_code == 404, url
    db.session.expire_all()
    assert application.status == "submitted"
    assert db.session.scalar(select(func.count(DataAccessLog.id))) == 0


def test_decline_without_reasons_is_refused(app, world):
    application = world["application"]
    client = logged_in_client(app, world["users"]["officer"])
    token = csrf_token(page_text(client.get(f"/lender/applications/{application.id}")))
    client.post(f"/lender/applications/{application.id}/review", data={"csrf_token": token})
    response = client.post(f"/lender/applications/{application.id}/decline",
                           data={"csrf_token": token, "reasons": []}, follow_redirects=True)
    assert "请选择 1 至 4 项具体拒绝原因" in page_text(response)
    db.session.expire_all()
    assert application.status == "in_review"


def test_approval_outside_the_product_rate_is_refused(app, world):
    application = world["application"]
    client = logged_in_client(app, world["users"]["officer"])
    token = csrf_token(page_text(client.get(f"/lender/applications/{application.id}")))
    client.post(f"/lender/applications/{application.id}/review", data={"csrf_token": token})
    response = client.post(f"/lender/applications/{application.id}/approve",
                           data={"csrf_token": token, "amount_wan": "10", "rate": "24"}, follow_redirects=True)
    assert "批准利率应在产品利率区间" in page_text(response)
    db.session.expire_all()
    assert application.status == "in_review" and application.approved_amount is None


def test_opening_an_application_is_logged_for_the_firm(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    client.get(f"/lender/applications/{world['application'].id}")
    firm_view = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/consents"))
    assert world["bank_a"].name in firm_view and "贷前审核" in firm_view


def test_admin_cannot_retire_another_institutions_product(app, world):
    foreign = factories.ProductFactory(institution=world["bank_b"])
    db.session.commit()
    client = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(client.get("/lender/products")))
    assert client.post(f"/lender/products/{foreign.id}/retire", data={"csrf_token": token}).status_code == 404
    assert db.session.get(Product, foreign.id).status == "published"


def test_bad_product_is_refused_and_saves_nothing(app, world):
    client = logged_in_client(app, world["users"]["lender_admin"])
    before = db.session.scalar(select(func.count(Product.id)))
    response = post_form(client, "/lender/products/new", {
        "name": "倒挂贷", "amount_min_wan": "300", "amount_max_wan": "10", "term_min": "6", "term_max": "36",
        "rate_min": "3", "rate_max": "5", "guarantee_types": ["credit"]})
    assert response.status_code == 400 and "最低额度不能高于最高额度" in page_text(response)
    assert db.session.scalar(select(func.count(Product.id))) == before


# --- offers, disbursement and monthly status ---------------------------------------------------

def officer_page(app, world, application):
    client = logged_in_client(app, world["users"]["officer"])
    return client, page_text(client.get(f"/lender/applications/{application.id}"))


def test_the_approve_form_proposes_the_offers_terms(app, world):
    application = factories.put_in_status(world, "in_review")
    _client, page = officer_page(app, world, application)
    assert 'name="term_months"' in page and 'value="12"' in page
    assert 'name="valid_until"' in page and (local_date() + timedelta(days=30)).isoformat() in page
    assert 'name="version" value="1"' in page and "还款方式" in page and "批复有效期至" in page


def test_two_officers_on_the_same_page_one_decides(app, world):
    application = factories.put_in_status(world, "in_review")
    client, page = officer_page(app, world, application)
    token = csrf_token(page)
    offer = {"csrf_token": token, "version": "1", "amount_wan": "40", "rate": "4.5", "term_months": "12",
             "repayment": "annuity", "guarantee": "credit",
             "valid_until": (local_date() + timedelta(days=5)).isoformat()}
    assert client.post(f"/lender/applications/{application.id}/approve", data=offer).status_code == 302
    response = client.post(f"/lender/applications/{application.id}/decline",
                           data={"csrf_token": token, "version": "1", "reasons": ["tax_arrears"]},
                           follow_redirects=True)
    assert "已被他人处理，请刷新后查看" in page_text(response)
    db.session.expire_all()
    assert application.status == "approved" and application.decision_reasons is None
    assert application.approved_term_months == 12 and application.version == 2


def test_the_officer_records_the_disbursement(app, world):
    application = factories.put_in_status(world, "offer_accepted")
    client, page = officer_page(app, world, application)
    assert "登记放款" in page and 'name="reference"' in page
    data = {"csrf_token": csrf_token(page), "version": "1", "amount_wan": "40",
            "disbursed_on": (local_date() + timedelta(days=1)).isoformat(), "reference": "YT-9"}
    response = client.post(f"/lender/applications/{application.id}/disburse", data=data, follow_redirects=True)
    assert "放款日期应在批准日" in page_text(response)
    data["disbursed_on"] = local_date().isoformat()
    response = client.post(f"/lender/applications/{application.id}/disburse", data=data, follow_redirects=True)
    page = page_text(response)
    assert "已放款" in page and "YT-9" in page and "报送月度还款状态" in page and "登记放款" not in page
    db.session.expire_all()
    assert application.loan.principal == Decimal("400000.00") and world["need"].status == "closed"


def test_the_officer_reports_monthly_status_up_to_repaid(app, world):
    application = factories.put_in_status(world, "disbursed")
    loan = application.loan
    client, page = officer_page(app, world, application)
    token = csrf_token(page)
    first = loan.disbursed_on.strftime("%Y-%m")
    response = client.post(f"/lender/applications/{application.id}/repayments", follow_redirects=True, data={
        "csrf_token": token, "version": "1", "month": first, "days_past_due": "12", "outstanding_wan": "38",
        "declared": "", "note": "已电话催收"})
    page = page_text(response)
    assert "逾期 1–30 天" in page and "已电话催收" in page
    response = client.post(f"/lender/applications/{application.id}/repayments", follow_redirects=True, data={
        "csrf_token": token, "version": "2", "month": first, "days_past_due": "0", "outstanding_wan": "0"})
    assert "及以前的月份已报送" in page_text(response)
    nxt = (loan.disbursed_on.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    response = client.post(f"/lender/applications/{application.id}/repayments", follow_redirects=True, data={
        "csrf_token": token, "version": "2", "month": nxt, "days_past_due": "0", "outstanding_wan": "0"})
    page = page_text(response)
    assert "已结清" in page and "报送月度还款状态" not in page
    db.session.expire_all()
    assert [o.outcome for o in loan.outcomes] == ["overdue", "repaid"] and application.status == "repaid"


def test_a_monthly_report_before_disbursement_is_refused(app, world):
    application = factories.put_in_status(world, "offer_accepted")
    client, page = officer_page(app, world, application)
    response = client.post(f"/lender/applications/{application.id}/repayments", follow_redirects=True,
                           data={"csrf_token": csrf_token(page), "month": local_date().strftime("%Y-%m")})
    assert "该申请尚未放款" in page_text(response)


def test_an_offer_past_its_last_day_expires_when_the_officer_looks(app, world):
    application = factories.put_in_status(world, "approved")
    application.offer_valid_until = local_date() - timedelta(days=1)
    db.session.commit()
    _client, page = officer_page(app, world, application)
    assert "批复已过期" in page and "平台" in page
    db.session.expire_all()
    assert application.status == "expired"


def test_another_institution_cannot_disburse_or_report(app, world):
    application = factories.put_in_status(world, "offer_accepted")
    other = logged_in_client(app, world["users"]["officer_other"])
    token = csrf_token(page_text(other.get("/lender/")))
    for path in ("disburse", "repayments"):
        assert other.post(f"/lender/applications/{application.id}/{path}",
                          data={"csrf_token": token}).status_code == 404


def test_the_application_page_shows_its_due_time_and_officer(app, world):
    application = world["application"]
    application.due_at = utcnow() - timedelta(days=10)
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    page = page_text(client.get(f"/lender/applications/{application.id}"))
    assert "办理时限" in page and "已超时" in page and "未分配" in page


def test_the_queue_filters_by_every_application_status(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    page = page_text(client.get("/lender/"))
    for status in ("offer_accepted", "disbursed", "repaying", "overdue", "written_off"):
        assert f"status={status}" in page
