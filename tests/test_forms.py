"""Every money and rate field of every form: a figure that is no number or out of range is a clear
field error in the user's language and saves nothing, never a server error (issue 13)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.common.dates import local_date
from app.entities import FinancingNeed, Loan, Product, RepaymentOutcome
from app.extensions import db

from . import factories
from .conftest import csrf_token, logged_in_client, page_text
from .test_journey import post_form

# Figures people (and scripts) typed that once ended in decimal.InvalidOperation or a numeric overflow.
BAD_FIGURES = ["1e30", "1E+5000", "NaN", "Infinity", "-1", "0", "9" * 3000]
REFUSAL = ("格式不正确", "超出范围")

NEED = {"amount_wan": "50", "term_months": "12", "purpose": "购置设备", "guarantee": "credit", "urgency": "normal"}
PRODUCT = {"name": "新品贷", "amount_min_wan": "1", "amount_max_wan": "100", "term_min": "6", "term_max": "36",
           "rate_min": "3", "rate_max": "6", "guarantee_types": ["credit"]}


def refused_clearly(page):
    return any(word in page for word in REFUSAL)


def count(entity):
    return db.session.scalar(select(func.count()).select_from(entity))


@pytest.mark.parametrize("figure", BAD_FIGURES)
@pytest.mark.parametrize("field", ["amount_wan", "max_rate"])
def test_the_need_form_refuses_a_bad_figure(app, world, field, figure):
    before = count(FinancingNeed)
    client = logged_in_client(app, world["users"]["firm"])
    response = post_form(client, "/firm/needs/new", {**NEED, field: figure})
    assert response.status_code == 400 and refused_clearly(page_text(response))
    assert count(FinancingNeed) == before


@pytest.mark.parametrize("figure", BAD_FIGURES)
@pytest.mark.parametrize("field", ["amount_min_wan", "amount_max_wan", "rate_min", "rate_max", "upfront_fee_pct",
                                   "guarantee_fee_pct", "max_pd"])
def test_the_product_form_refuses_a_bad_figure(app, world, field, figure):
    if figure == "0" and field.endswith("fee_pct"):
        pytest.skip("a fee of 0 % is a fee")
    before = count(Product)
    client = logged_in_client(app, world["users"]["lender_admin"])
    response = post_form(client, "/lender/products/new", {**PRODUCT, field: figure})
    assert response.status_code == 400 and refused_clearly(page_text(response))
    assert count(Product) == before


def officer_posts(app, world, application, action, data):
    client = logged_in_client(app, world["users"]["officer"])
    token = csrf_token(page_text(client.get(f"/lender/applications/{application.id}")))
    return client.post(f"/lender/applications/{application.id}/{action}", follow_redirects=True,
                       data={"csrf_token": token, "version": "1", **data})


@pytest.mark.parametrize("figure", BAD_FIGURES)
@pytest.mark.parametrize("field", ["amount_wan", "rate"])
def test_the_approve_form_refuses_a_bad_figure(app, world, field, figure):
    application = factories.put_in_status(world, "in_review")
    offer = {"amount_wan": "40", "rate": "4.5", "term_months": "12", "repayment": "annuity", "guarantee": "credit",
             "valid_until": (local_date() + timedelta(days=5)).isoformat()}
    response = officer_posts(app, world, application, "approve", {**offer, field: figure})
    assert response.status_code == 200 and refused_clearly(page_text(response))
    db.session.expire_all()
    assert application.status == "in_review" and application.approved_amount is None


@pytest.mark.parametrize("figure", BAD_FIGURES)
def test_the_disbursement_form_refuses_a_bad_amount(app, world, figure):
    application = factories.put_in_status(world, "offer_accepted")
    response = officer_posts(app, world, application, "disburse", {
        "amount_wan": figure, "disbursed_on": local_date().isoformat(), "reference": "YT-1"})
    assert response.status_code == 200 and refused_clearly(page_text(response))
    assert count(Loan) == 0


@pytest.mark.parametrize("figure", [f for f in BAD_FIGURES if f != "0"])
def test_the_monthly_report_refuses_a_bad_balance(app, world, figure):
    application = factories.put_in_status(world, "disbursed")
    month = application.loan.disbursed_on.strftime("%Y-%m")
    response = officer_posts(app, world, application, "repayments", {
        "month": month, "days_past_due": "0", "outstanding_wan": figure})
    assert response.status_code == 200 and refused_clearly(page_text(response))
    assert count(RepaymentOutcome) == 0


def test_a_refusal_reads_in_english_for_an_english_user(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    client.get("/lang/en")
    page = page_text(post_form(client, "/firm/needs/new", {**NEED, "amount_wan": "1e30"}))
    assert "Amount out of range: it must be greater than 0 and at most 10,000 × 10k yuan." in page
    page = page_text(post_form(client, "/firm/needs/new", {**NEED, "amount_wan": "NaN"}))
    assert "Amount is not a number" in page


def test_a_balance_of_zero_is_a_repaid_loan(app, world):
    application = factories.put_in_status(world, "disbursed")
    response = officer_posts(app, world, application, "repayments", {
        "month": application.loan.disbursed_on.strftime("%Y-%m"), "days_past_due": "0", "outstanding_wan": "0"})
    assert "已结清" in page_text(response)
